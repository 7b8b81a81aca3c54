"""`load_generator`: the Locust master and workers that run inside the environment's VPC.

Sized per run: `perfenv run --workers N`, else enough workers for the suite's peak rate at
`rate_per_worker` each, at least `workers`. Zero workers build an empty group (no instances).
"""

from __future__ import annotations

import math

from pydantic import Field

from perfenv.infra.config.model import Model, Scale

LOCUST_MASTER_PORT = 5557


class LoadGeneratorConfig(Model):
    workers: int = Scale(0, ge=0, le=64)
    instance_type: str = Scale("c6i.large")
    vcpus_per_instance: int = Scale(2, gt=0)
    rate_per_worker: int = Field(1000, gt=0)  # requests/s one worker instance sends, planned

    @property
    def instances(self) -> int:
        """Workers plus their master; none without workers."""
        return self.workers + 1 if self.workers else 0

    def workers_for(self, peak_rate: float) -> int:
        """Workers for a suite whose busiest second plans `peak_rate` requests."""
        return max(self.workers, math.ceil(peak_rate / self.rate_per_worker))
