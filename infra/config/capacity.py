"""`capacity`: the traffic an environment must carry, read by perfenv's capacity model.

The stress scenario finds the highest rate the fleet serves within its budgets; with the
instances in service during it, that gives a capacity per instance and the fleet's capacity at
`fleet.max`. `expected_peak_rps` is what production must carry: when the fleet at max cannot,
the verdict is "max too low", and `gate: true` makes `perfenv run` fail on it. The derived
settings (target tracking's `requests_per_target` and a request-count alarm threshold) are
computed at `target_utilization_percent` and `alarm_percent` of the measured capacity.
"""

from __future__ import annotations

from perfenv.infra.config.model import Model, Scale


class CapacityConfig(Model):
    expected_peak_rps: float | None = Scale(None, gt=0)
    target_utilization_percent: float = Scale(70.0, gt=0, le=100)
    alarm_percent: float = Scale(80.0, gt=0, le=100)
    gate: bool = Scale(False)
