"""What a stack's controller is given, and the local target's time scale.

The local target compresses the environment's own time: health check intervals and timeouts,
deregistration delays, grace periods and metric periods are divided by the time scale
(`PERFENV_LOCAL_TIME_SCALE`, default 6: a 60 s metric period becomes 10 s, a 15 s health check
interval 2.5 s). The stack's configured values stay AWS-valid; only their local clock runs faster.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from typing import Any

from perfenv.cli.errors import BadInput
from perfenv.infra.tags import ROLE_KEY

TIME_SCALE_ENV = "PERFENV_LOCAL_TIME_SCALE"
DEFAULT_TIME_SCALE = 6.0
AWS_METRIC_PERIOD_S = 60
GROUP_TYPE = "aws:autoscaling/group:Group"
LISTENER_TYPES = ("aws:lb/listener:Listener", "aws:alb/listener:Listener")


def time_scale() -> float:
    raw = os.environ.get(TIME_SCALE_ENV, "")
    if not raw:
        return DEFAULT_TIME_SCALE
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not 1.0 <= value <= 600.0:
        raise BadInput(f"{TIME_SCALE_ENV}: expected a number from 1 to 600, got {raw!r}")
    return value


@dataclass(frozen=True, kw_only=True)
class ControllerSpec:
    stack: str
    endpoint: str
    region: str
    command: list[str]  # app.local_command, with {python} and {port}
    groups: list[str]  # autoscaling group names
    listeners: list[str]  # listener ARNs
    time_scale: float = DEFAULT_TIME_SCALE
    tick_s: float = 0.5

    def scaled(self, aws_seconds: float) -> float:
        return aws_seconds / self.time_scale

    @property
    def metric_period_s(self) -> int:
        """The local CloudWatch period that stands for AWS's 60 s (at least 1 s)."""
        return max(1, round(AWS_METRIC_PERIOD_S / self.time_scale))

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> ControllerSpec:
        return cls(**json.loads(text))


def is_generator_group(record: Any) -> bool:
    """A load generator's group (its `perfenv:role` tag): its instances run Locust when a run
    drives them (the engine, one worker process per instance: ADR 0030), never the app."""
    tags = record.state.get("tags") or []
    return any(
        t.get("key") == ROLE_KEY and str(t.get("value", "")).startswith("load-generator")
        for t in tags
        if isinstance(t, dict)
    )


def spec_for(
    stack: str,
    endpoint: str,
    region: str,
    command: list[str],
    resources: list[Any],
) -> ControllerSpec:
    """The controller's spec from the stack's realized resources (state records)."""
    live = [r for r in resources if not (r.simulated or r.provider or r.deleted)]
    return ControllerSpec(
        stack=stack,
        endpoint=endpoint,
        region=region,
        command=list(command),
        groups=[r.id for r in live if r.type == GROUP_TYPE and not is_generator_group(r)],
        listeners=[r.id for r in live if r.type in LISTENER_TYPES],
        time_scale=time_scale(),
    )
