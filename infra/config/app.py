"""`app`, `load_balancer` and `kubernetes`: what runs, how it is reached, where pods go."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from perfenv.infra.config.model import Model, Scale


class LoadBalancerConfig(Model):
    ingress_cidrs: list[str] = Field(default_factory=lambda: ["0.0.0.0/0"], min_length=1)
    certificate_arn: str | None = None
    deletion_protection: bool = Scale(False)
    idle_timeout_s: int = Field(60, gt=0, le=4000)


class AppConfig(Model):
    platform: Literal["ec2", "kubernetes"] = "ec2"
    ami: str = "ami-12c6146b"
    image: str = "ghcr.io/perfenv/reference-service:latest"
    user_data: str = ""
    local_command: list[str] = Field(
        default_factory=lambda: ["{python}", "-m", "perfenv.examples.service", "--port", "{port}"]
    )
    health_path: str = Field("/health", pattern=r"^/")
    port: int = Field(8080, gt=0, lt=65536)
    replicas: int = Scale(2, gt=0)
    max_replicas: int = Scale(6, gt=0)  # the HorizontalPodAutoscaler's ceiling

    @field_validator("max_replicas")
    @classmethod
    def _max_replicas(cls, value: int, info: ValidationInfo) -> int:
        low = info.data.get("replicas")
        if low is not None and value < low:
            raise PydanticCustomError(
                "bounds", "must be >= replicas (got {v} < {o})", {"v": value, "o": low}
            )
        return value

    cpu_limit: str = Scale("500m")
    memory_limit: str = Scale("512Mi")


class KubernetesConfig(Model):
    enabled: bool = True
    kubeconfig: str | None = None
    namespace: str = Field(pattern=r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
    ingress_namespace: str = "ingress-nginx"
