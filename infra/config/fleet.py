"""`fleet` and `quotas`: the EC2 fleet's size and scaling, and the ceilings around it."""

from __future__ import annotations

from pydantic import Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from perfenv.infra.config.model import Model, Scale


class ScalingTargets(Model):
    cpu_percent: float = Scale(50.0, gt=0, le=100)
    requests_per_target: int = Scale(1000, gt=0)


class Schedule(Model):
    name: str = Field(pattern=r"^[a-z0-9-]{1,64}$")
    recurrence: str  # cron, UTC
    min: int = Field(ge=0)
    desired: int = Field(ge=0)
    max: int = Field(ge=0)


class FleetConfig(Model):
    instance_type: str = Scale("t3.micro")
    vcpus_per_instance: int = Scale(2, gt=0)
    min: int = Scale(ge=0)
    desired: int = Scale(ge=0)
    max: int = Scale(gt=0)
    scaling: ScalingTargets = Scale(ScalingTargets())
    schedules: list[Schedule] = Scale([])
    volume_size_gb: int = Scale(8, ge=1)

    @field_validator("desired")
    @classmethod
    def _desired(cls, value: int, info: ValidationInfo) -> int:
        low = info.data.get("min")
        if low is not None and value < low:
            raise PydanticCustomError(
                "bounds", "must be >= min (got {v} < {o})", {"v": value, "o": low}
            )
        return value

    @field_validator("max")
    @classmethod
    def _max(cls, value: int, info: ValidationInfo) -> int:
        for other in ("desired", "min"):
            bound = info.data.get(other)
            if bound is not None and value < bound:
                raise PydanticCustomError(
                    "bounds",
                    "must be >= {other} (got {v} < {o})",
                    {"other": other, "v": value, "o": bound},
                )
        return value


class KubernetesQuota(Model):
    cpu: str = Scale("4")
    memory: str = Scale("8Gi")
    pods: int = Scale(20, gt=0)
    default_cpu: str = Scale("500m")
    default_memory: str = Scale("512Mi")
    default_request_cpu: str = Scale("100m")
    default_request_memory: str = Scale("128Mi")


class QuotaConfig(Model):
    kubernetes: KubernetesQuota = Scale(KubernetesQuota())
    aws_vcpu_ceiling: int = Scale(32, gt=0)
