"""`perfenv:environment`, the whole of one environment, and `perfenv:run`, an ephemeral run's."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from perfenv.infra.config.app import ECR_IMAGE, AppConfig, KubernetesConfig, LoadBalancerConfig
from perfenv.infra.config.budgets import AlarmConfig, BudgetConfig
from perfenv.infra.config.capacity import CapacityConfig
from perfenv.infra.config.fleet import FleetConfig, QuotaConfig
from perfenv.infra.config.load_generator import LoadGeneratorConfig
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
    load_generator: LoadGeneratorConfig = LoadGeneratorConfig()

    @model_validator(mode="after")
    def _perf_isolated(self) -> EnvironmentConfig:
        if self.kind == "perf" and not self.network.isolated:
            raise PydanticCustomError(
                "isolated", "network.isolated: a perf environment must be isolated"
            )
        return self

    @model_validator(mode="after")
    def _isolated_images(self) -> EnvironmentConfig:
        artifact = self.app.artifact
        if self.network.isolated and artifact.kind == "container":
            if not ECR_IMAGE.match(artifact.uri):
                raise PydanticCustomError(
                    "isolated_image",
                    "app.artifact.uri: an isolated network pulls container images only from"
                    " ECR (<account>.dkr.ecr.<region>.amazonaws.com/...)",
                )
        return self

    @property
    def interface_endpoints(self) -> tuple[str, ...]:
        """The interface endpoints an isolated network needs (ECR's too for an ECR image)."""
        services = self.network.interface_endpoints
        if services and self.app.artifact.kind == "container":
            services += ("ecr.api", "ecr.dkr")
        return services

    @model_validator(mode="after")
    def _platform(self) -> EnvironmentConfig:
        if self.app.platform == "kubernetes" and not self.kubernetes.enabled:
            raise PydanticCustomError(
                "platform", "app.platform: kubernetes needs kubernetes.enabled: true"
            )
        return self

    @model_validator(mode="after")
    def _vcpu_ceiling(self) -> EnvironmentConfig:
        if self.vcpus > self.quotas.aws_vcpu_ceiling:
            raise PydanticCustomError(
                "vcpu",
                "quotas.aws_vcpu_ceiling: fleet.max and the load generator need {need} vCPUs,"
                " ceiling is {ceil}",
                {"need": self.vcpus, "ceil": self.quotas.aws_vcpu_ceiling},
            )
        return self

    @property
    def vcpus(self) -> int:
        """vCPUs at most: the fleet at its max and the load generator's instances."""
        generator = self.load_generator
        return (
            self.fleet.max * self.fleet.vcpus_per_instance
            + generator.instances * generator.vcpus_per_instance
        )

    @property
    def public_ipv4_addresses(self) -> int:
        """Public IPv4 addresses held while up: NAT gateways' Elastic IPs and, facing the
        internet, the load balancer's (one per zone)."""
        network = self.network
        return network.nat_gateways + (network.az_count if network.internet_facing else 0)


class RunConfig(Model):
    """`perfenv:run`: set by the CLI on ephemeral stacks; absent on long-lived ones."""

    release: str = "none"
    owner: str = "perfenv"
    team: Team | None = None  # PERFENV_TEAM, else the stack file's `perfenv:team`
    expires_at: str | None = None  # ISO 8601 UTC
    account: str | None = (
        None  # the AWS account the run was created in: its providers allow only it
    )
    state_url: str | None = None  # s3://: where the load generator's plan and results go

    def exchange_prefix(self, stack: str) -> str | None:
        """The state store prefix the load generator's instances read and write, if any."""
        if self.state_url is None or not self.state_url.startswith("s3://"):
            return None
        return f"{self.state_url.rstrip('/')}/generator/{stack}/"
