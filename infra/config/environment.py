"""`perfenv:environment`, the whole of one environment, and `perfenv:run`, an ephemeral run's."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from perfenv.infra.config.app import AppConfig, KubernetesConfig, LoadBalancerConfig
from perfenv.infra.config.budgets import AlarmConfig, BudgetConfig
from perfenv.infra.config.capacity import CapacityConfig
from perfenv.infra.config.fleet import FleetConfig, QuotaConfig
from perfenv.infra.config.model import REGION_PATTERN, Model
from perfenv.infra.config.network import NetworkConfig

Kind = Literal["dev", "staging", "perf", "prod"]
# Who pays: a cost-allocation tag value that is also a valid Kubernetes label value.
Team = Annotated[str, Field(pattern=r"^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$")]


class EnvironmentConfig(Model):
    """`perfenv:environment`: everything that makes one environment."""

    name: str = Field(pattern=r"^[a-z][a-z0-9-]{0,23}$")
    kind: Kind
    region: str = Field(pattern=REGION_PATTERN)
    network: NetworkConfig
    fleet: FleetConfig
    load_balancer: LoadBalancerConfig = LoadBalancerConfig()
    quotas: QuotaConfig = QuotaConfig()
    budgets: BudgetConfig
    alarms: AlarmConfig
    app: AppConfig = AppConfig()
    kubernetes: KubernetesConfig
    capacity: CapacityConfig = CapacityConfig()

    @model_validator(mode="after")
    def _perf_isolated(self) -> EnvironmentConfig:
        if self.kind == "perf" and not self.network.isolated:
            raise PydanticCustomError(
                "isolated", "network.isolated: a perf environment must be isolated"
            )
        return self

    @model_validator(mode="after")
    def _platform(self) -> EnvironmentConfig:
        if self.app.platform == "kubernetes" and not self.kubernetes.enabled:
            raise PydanticCustomError(
                "platform", "app.platform: kubernetes needs kubernetes.enabled: true"
            )
        return self

    @model_validator(mode="after")
    def _vcpu_ceiling(self) -> EnvironmentConfig:
        need = self.fleet.max * self.fleet.vcpus_per_instance
        if need > self.quotas.aws_vcpu_ceiling:
            raise PydanticCustomError(
                "vcpu",
                "quotas.aws_vcpu_ceiling: fleet.max needs {need} vCPUs, ceiling is {ceil}",
                {"need": need, "ceil": self.quotas.aws_vcpu_ceiling},
            )
        return self


class RunConfig(Model):
    """`perfenv:run`: set by the CLI on ephemeral stacks; absent on long-lived ones."""

    release: str = "none"
    owner: str = "perfenv"
    team: Team | None = None  # PERFENV_TEAM, else the stack file's `perfenv:team`
    expires_at: str | None = None  # ISO 8601 UTC
    account: str | None = (
        None  # the AWS account the run was created in: its providers allow only it
    )
