"""`budgets` and `alarms` of an environment, and `perfenv:cost`: the account's guardrails."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError

from perfenv.infra.config.model import REGION_PATTERN, Model, Scale


class BudgetConfig(Model):
    monthly_usd: float = Scale(gt=0)
    thresholds: list[float] = Scale([80.0, 100.0], min_length=1)
    subscribers: list[str] = Scale([])

    @field_validator("thresholds")
    @classmethod
    def _positive(cls, value: list[float]) -> list[float]:
        bad = [t for t in value if t <= 0]
        if bad:
            raise PydanticCustomError(
                "positive", "thresholds must be > 0 (got {bad})", {"bad": bad}
            )
        return value


class AlarmConfig(Model):
    p95_ms: float = Scale(gt=0)
    error_rate_percent: float = Scale(1.0, gt=0, le=100)
    cpu_percent: float = Scale(80.0, gt=0, le=100)


class BillingAlarmConfig(Model):
    threshold_usd: float = Field(gt=0)


class AnomalyConfig(Model):
    threshold_usd: float = Field(gt=0)
    frequency: Literal["DAILY", "IMMEDIATE", "WEEKLY"] = "DAILY"


class CostConfig(Model):
    """`perfenv:cost`: the account's guardrails (the cost stack)."""

    region: str = Field(pattern=REGION_PATTERN)
    subscribers: list[str] = Field(min_length=1)
    billing_alarm: BillingAlarmConfig
    anomaly: AnomalyConfig
    cost_allocation_tags: list[str] = Field(
        default_factory=lambda: [
            "perfenv:project",
            "perfenv:environment",
            "perfenv:stack",
            "perfenv:release",
            "perfenv:owner",
            "perfenv:team",
        ]
    )
