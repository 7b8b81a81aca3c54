"""`app`, `load_balancer` and `kubernetes`: what runs, how it is reached, where pods go.

An instance boots `app.machine_image` (an AMI id, or the path of an SSM parameter holding one,
resolved when the stack is deployed) and its user data installs and starts `app.artifact`
(see `perfenv.infra.delivery`). `app.local_command` is what the local target runs instead.
"""

from __future__ import annotations

import re
from importlib import metadata
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from perfenv.infra.config.model import Model, Scale


class LoadBalancerConfig(Model):
    ingress_cidrs: list[str] = Field(default_factory=lambda: ["0.0.0.0/0"], min_length=1)
    certificate_arn: str | None = None
    deletion_protection: bool = Scale(False)
    idle_timeout_s: int = Field(60, gt=0, le=4000)


AMI_ID = re.compile(r"^ami-[0-9a-f]{8}([0-9a-f]{9})?$")
# Amazon Linux 2023's public parameter: the current AMI of the region, resolved at deploy time.
AL2023_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
# The reference service, packaged by perfenv (`perfenv artifact build`, ADR 0040) into the
# account's artifact bucket; `{account}` and `{region}` are resolved at deploy time.
REFERENCE_ARTIFACT = (
    "s3://perfenv-artifacts-{account}-{region}/perfenv/perfenv-runtime-{version}.tar.gz"
)
TARBALL_WHEELS = "wheels"  # a tarball's directory of wheels, installed offline by the user data
REFERENCE_START = "/opt/perfenv/venv/bin/python -m perfenv.examples.service --port {port}"
ArtifactKind = Literal["wheel", "tarball", "container"]
ECR_IMAGE = re.compile(r"^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com/")


def perfenv_version() -> str:
    """The installed perfenv's version: `{version}` in an artifact URI."""
    try:
        return metadata.version("perfenv")
    except metadata.PackageNotFoundError:  # a source tree that was never installed
        return "0.0.0"


class ArtifactConfig(Model):
    """What the instances run: an `s3://` wheel or tarball, or a container image."""

    uri: str = REFERENCE_ARTIFACT
    start_command: str = REFERENCE_START  # `{port}`: app.port

    @field_validator("uri")
    @classmethod
    def _uri(cls, value: str) -> str:
        if value.startswith("s3://"):
            bucket, _, key = value.removeprefix("s3://").partition("/")
            if not bucket or not key or not value.endswith((".whl", ".tar.gz", ".tgz")):
                raise PydanticCustomError(
                    "artifact", "an s3:// artifact is s3://bucket/key of a .whl or .tar.gz"
                )
        elif "://" in value or not value or any(c.isspace() for c in value):
            raise PydanticCustomError(
                "artifact", "not an s3:// wheel or tarball, nor a container image reference"
            )
        return value

    def resolved(self, account: str, region: str) -> str:
        """The URI with `{account}`, `{region}` and `{version}` filled in."""
        return (
            self.uri.replace("{account}", account)
            .replace("{region}", region)
            .replace("{version}", perfenv_version())
        )

    @property
    def kind(self) -> ArtifactKind:
        if not self.uri.startswith("s3://"):
            return "container"
        return "wheel" if self.uri.endswith(".whl") else "tarball"


class AppConfig(Model):
    platform: Literal["ec2", "kubernetes"] = "ec2"
    machine_image: str = AL2023_PARAMETER  # an AMI id, or an SSM parameter path holding one
    artifact: ArtifactConfig = ArtifactConfig()
    image: str = "ghcr.io/perfenv/reference-service:latest"  # the Kubernetes platform's image
    local_command: list[str] = Field(
        default_factory=lambda: ["{python}", "-m", "perfenv.examples.service", "--port", "{port}"]
    )
    health_path: str = Field("/health", pattern=r"^/")
    port: int = Field(8080, gt=0, lt=65536)
    replicas: int = Scale(2, gt=0)
    max_replicas: int = Scale(6, gt=0)  # the HorizontalPodAutoscaler's ceiling

    @field_validator("machine_image")
    @classmethod
    def _machine_image(cls, value: str) -> str:
        if not (AMI_ID.match(value) or re.fullmatch(r"(/[\w.-]+)+", value)):
            raise PydanticCustomError(
                "machine_image",
                "not an AMI id (ami-...) nor an SSM parameter path (/aws/service/...)",
            )
        return value

    @property
    def image_parameter(self) -> str | None:
        """The SSM parameter to resolve the AMI from, or None for an explicit AMI id."""
        return None if AMI_ID.match(self.machine_image) else self.machine_image

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
    kubeconfig: str | None = None  # a path or the contents; PERFENV_KUBECONFIG otherwise
    context: str | None = None  # must be listed in PERFENV_KUBE_CONTEXTS to be used
    namespace: str = Field(pattern=r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
    ingress_namespace: str = "ingress-nginx"
