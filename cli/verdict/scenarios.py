"""Scenario kinds: each a shape of planned arrivals per second (an open model).

- `load`:   a steady `rate` for `duration`;
- `spike`:  `base_rate`, then `peak_rate` from `spike_at` for `spike_for`, then `base_rate` again;
- `stress`: `start_rate`, plus `step_rate` every `step_every`, up to and including `max_rate`;
- `soak`:   a steady `rate` for a long `duration`;
- `scale`:  `base_rate`, then from `step_at` a `rate` above the scaling policy's target, so the
            fleet must scale out (the breach is the step);
- `failover`: a steady `rate`; at `fail_at` one in-service instance is lost abruptly.

`warmup` is the leading part of `duration` that the budgets do not judge. A scenario's `budgets`
add to the suite's (see `Suite.budgets_for`).
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator

from perfenv.cli.durations import parse_duration
from perfenv.cli.verdict.budgets import Budget, budget_from

STEADY_KINDS = ("load",)  # run `repeat` times (cli/lifecycle/scenario_runs.py)
KINDS = ("load", "spike", "stress", "soak", "scale", "failover")


def _duration(value: Any) -> Any:
    if isinstance(value, str):
        return parse_duration(value)
    return value


def _budget(value: Any) -> Any:
    return budget_from(value)


Duration = Annotated[float, BeforeValidator(_duration)]
BudgetExpr = Annotated[Budget, BeforeValidator(_budget)]
Rate = Annotated[float, Field(gt=0)]


class FrozenModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ScenarioBase(FrozenModel):
    name: str = Field(min_length=1)
    budgets: tuple[BudgetExpr, ...] = ()

    @property
    def warmup_s(self) -> int:
        return round(getattr(self, "warmup", 0.0))

    def rates(self) -> tuple[float, ...]:
        raise NotImplementedError

    @property
    def duration_s(self) -> int:
        return len(self.rates())


def _check_warmup(warmup: float, info: ValidationInfo) -> float:
    duration = info.data.get("duration")
    if duration is not None and warmup >= duration:
        raise ValueError(f"must be shorter than duration ({duration:g}s)")
    return warmup


class LoadScenario(ScenarioBase):
    kind: Literal["load"]
    rate: Rate
    duration: Duration = Field(gt=0)
    warmup: Duration = Field(default=0.0, ge=0)

    _warmup = field_validator("warmup")(_check_warmup)

    def rates(self) -> tuple[float, ...]:
        return (self.rate,) * max(1, round(self.duration))


class SoakScenario(LoadScenario):
    kind: Literal["soak"]  # type: ignore[assignment]


class SpikeScenario(ScenarioBase):
    kind: Literal["spike"]
    base_rate: Rate
    peak_rate: Rate
    duration: Duration = Field(gt=0)
    spike_at: Duration = Field(ge=0)
    spike_for: Duration = Field(gt=0)
    warmup: Duration = Field(default=0.0, ge=0)

    @field_validator("peak_rate")
    @classmethod
    def _above_base(cls, value: float, info: ValidationInfo) -> float:
        base = info.data.get("base_rate")
        if base is not None and value <= base:
            raise ValueError(f"must be > base_rate ({base:g})")
        return value

    @field_validator("spike_for")
    @classmethod
    def _inside(cls, value: float, info: ValidationInfo) -> float:
        duration, at = info.data.get("duration"), info.data.get("spike_at")
        if duration is not None and at is not None and at + value > duration:
            raise ValueError(f"spike_at + spike_for must fit in duration ({duration:g}s)")
        return value

    @field_validator("warmup")
    @classmethod
    def _before_spike(cls, value: float, info: ValidationInfo) -> float:
        at = info.data.get("spike_at")
        if at is not None and value > at:
            raise ValueError(f"must end before spike_at ({at:g}s)")
        return value

    @property
    def spike_window(self) -> tuple[int, int]:
        """[start, end) seconds of the spike."""
        start = round(self.spike_at)
        return start, start + max(1, round(self.spike_for))

    def rates(self) -> tuple[float, ...]:
        start, end = self.spike_window
        return tuple(
            self.peak_rate if start <= t < end else self.base_rate
            for t in range(max(1, round(self.duration)))
        )


class StressScenario(ScenarioBase):
    kind: Literal["stress"]
    start_rate: Rate
    step_rate: Rate
    step_every: Duration = Field(ge=1)
    max_rate: Rate
    warmup: Duration = Field(default=0.0, ge=0)

    @field_validator("max_rate")
    @classmethod
    def _above_start(cls, value: float, info: ValidationInfo) -> float:
        start = info.data.get("start_rate")
        if start is not None and value < start:
            raise ValueError(f"must be >= start_rate ({start:g})")
        return value

    @field_validator("warmup")
    @classmethod
    def _within_first_step(cls, value: float, info: ValidationInfo) -> float:
        every = info.data.get("step_every")
        if every is not None and value >= every:
            raise ValueError(f"must be shorter than step_every ({every:g}s)")
        return value

    @property
    def step_rates(self) -> tuple[float, ...]:
        steps = math.floor((self.max_rate - self.start_rate) / self.step_rate + 1e-9) + 1
        return tuple(self.start_rate + i * self.step_rate for i in range(steps))

    @property
    def step_s(self) -> int:
        return max(1, round(self.step_every))

    def rates(self) -> tuple[float, ...]:
        return tuple(rate for rate in self.step_rates for _ in range(self.step_s))


class ScaleScenario(ScenarioBase):
    kind: Literal["scale"]
    base_rate: Rate
    rate: Rate
    step_at: Duration = Field(ge=0)
    duration: Duration = Field(gt=0)
    warmup: Duration = Field(default=0.0, ge=0)

    @field_validator("rate")
    @classmethod
    def _above_base(cls, value: float, info: ValidationInfo) -> float:
        base = info.data.get("base_rate")
        if base is not None and value <= base:
            raise ValueError(f"must be > base_rate ({base:g})")
        return value

    @field_validator("duration")
    @classmethod
    def _after_step(cls, value: float, info: ValidationInfo) -> float:
        at = info.data.get("step_at")
        if at is not None and value <= at:
            raise ValueError(f"must be longer than step_at ({at:g}s)")
        return value

    @field_validator("warmup")
    @classmethod
    def _before_step(cls, value: float, info: ValidationInfo) -> float:
        at = info.data.get("step_at")
        if at is not None and value > at:
            raise ValueError(f"must end before step_at ({at:g}s)")
        return value

    @property
    def step_s(self) -> int:
        return round(self.step_at)

    def rates(self) -> tuple[float, ...]:
        return tuple(
            self.rate if t >= self.step_s else self.base_rate
            for t in range(max(1, round(self.duration)))
        )


class FailoverScenario(ScenarioBase):
    kind: Literal["failover"]
    rate: Rate
    fail_at: Duration = Field(gt=0)
    duration: Duration = Field(gt=0)
    warmup: Duration = Field(default=0.0, ge=0)

    @field_validator("duration")
    @classmethod
    def _after_failure(cls, value: float, info: ValidationInfo) -> float:
        at = info.data.get("fail_at")
        if at is not None and value <= at:
            raise ValueError(f"must be longer than fail_at ({at:g}s)")
        return value

    @field_validator("warmup")
    @classmethod
    def _before_failure(cls, value: float, info: ValidationInfo) -> float:
        at = info.data.get("fail_at")
        if at is not None and value > at:
            raise ValueError(f"must end before fail_at ({at:g}s)")
        return value

    @property
    def fail_s(self) -> int:
        return round(self.fail_at)

    def rates(self) -> tuple[float, ...]:
        return (self.rate,) * max(1, round(self.duration))


Scenario = Annotated[
    LoadScenario | SpikeScenario | StressScenario | SoakScenario | ScaleScenario | FailoverScenario,
    Field(discriminator="kind"),
]
