"""The stack config model: `perfenv:environment`, `perfenv:cost` and `perfenv:run`.

Read once, at the edge, into frozen models; components receive typed objects and never call
`pulumi.Config`. Fields marked `scale=True` are the only ones parity lets differ between
environments (sizes, counts, az_count, nat mode, schedules, budgets).
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from perfenv.infra.errors import ConfigError as ConfigError  # re-exported

# libyaml's loader where it is built in: ~7x faster on many stack files (the cost report reads all)
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

ENVIRONMENT_KEY = "perfenv:environment"
COST_KEY = "perfenv:cost"
RUN_KEY = "perfenv:run"
MIN_SUBNET_PREFIX = 28  # AWS refuses subnets smaller than /28


def Scale(default: Any = ..., **kwargs: Any) -> Any:  # noqa: N802 - reads like Field
    """A field that may differ between environments (parity ignores it)."""
    return Field(default, json_schema_extra={"scale": True}, **kwargs)


class Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


PositiveInt = Annotated[int, Field(gt=0)]


class NetworkConfig(Model):
    cidr: str
    az_count: int = Scale(ge=1, le=6)
    nat: Literal["single", "per_az"] = Scale("single")
    isolated: bool = False
    flow_log_retention_days: int = Field(14, gt=0)

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        try:
            net = ipaddress.IPv4Network(value, strict=True)
        except ValueError as exc:
            raise PydanticCustomError(
                "cidr", "not an IPv4 network in CIDR form ({error})", {"error": str(exc)}
            ) from None
        if not 16 <= net.prefixlen <= 24:
            raise PydanticCustomError(
                "cidr", "prefix must be between /16 and /24 (got /{p})", {"p": net.prefixlen}
            )
        return value

    @field_validator("az_count")
    @classmethod
    def _fits(cls, value: int, info: ValidationInfo) -> int:
        cidr = info.data.get("cidr")
        if cidr is not None:
            prefix = subnet_prefix(cidr, value)
            if prefix > MIN_SUBNET_PREFIX:
                raise PydanticCustomError(
                    "cidr_too_small",
                    "{cidr} cannot hold {n} public and {n} private subnets (each would be /{p})",
                    {"cidr": cidr, "n": value, "p": prefix},
                )
        return value

    def subnet_cidrs(self) -> tuple[list[str], list[str]]:
        """(public, private) subnet CIDRs, one of each per zone, carved in order."""
        net = ipaddress.IPv4Network(self.cidr)
        subnets = list(net.subnets(new_prefix=subnet_prefix(self.cidr, self.az_count)))
        return (
            [str(s) for s in subnets[: self.az_count]],
            [str(s) for s in subnets[self.az_count : 2 * self.az_count]],
        )


def subnet_prefix(cidr: str, az_count: int) -> int:
    """Prefix length that fits az_count public plus az_count private subnets in cidr."""
    return ipaddress.IPv4Network(cidr).prefixlen + math.ceil(math.log2(2 * az_count))


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


class LoadBalancerConfig(Model):
    ingress_cidrs: list[str] = Field(default_factory=lambda: ["0.0.0.0/0"], min_length=1)
    certificate_arn: str | None = None
    deletion_protection: bool = Scale(False)
    idle_timeout_s: int = Field(60, gt=0, le=4000)


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


Kind = Literal["dev", "staging", "perf", "prod"]


class EnvironmentConfig(Model):
    """`perfenv:environment`: everything that makes one environment."""

    name: str = Field(pattern=r"^[a-z][a-z0-9-]{0,23}$")
    kind: Kind
    region: str = Field(pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")
    network: NetworkConfig
    fleet: FleetConfig
    load_balancer: LoadBalancerConfig = LoadBalancerConfig()
    quotas: QuotaConfig = QuotaConfig()
    budgets: BudgetConfig
    alarms: AlarmConfig
    app: AppConfig = AppConfig()
    kubernetes: KubernetesConfig

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


class BillingAlarmConfig(Model):
    threshold_usd: float = Field(gt=0)


class AnomalyConfig(Model):
    threshold_usd: float = Field(gt=0)
    frequency: Literal["DAILY", "IMMEDIATE", "WEEKLY"] = "DAILY"


class CostConfig(Model):
    """`perfenv:cost`: the account's guardrails (the cost stack)."""

    region: str = Field(pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")
    subscribers: list[str] = Field(min_length=1)
    billing_alarm: BillingAlarmConfig
    anomaly: AnomalyConfig
    cost_allocation_tags: list[str] = Field(
        default_factory=lambda: [
            "perfenv:project",
            "perfenv:environment",
            "perfenv:stack",
            "perfenv:release",
        ]
    )


class RunConfig(Model):
    """`perfenv:run`: set by the CLI on ephemeral stacks; absent on long-lived ones."""

    release: str = "none"
    owner: str = "perfenv"
    expires_at: str | None = None  # ISO 8601 UTC


# --- loading -------------------------------------------------------------------------------


class StackFile(Model):
    """One `stacks/Pulumi.<stack>.yaml`, validated."""

    stack: str
    path: Path
    environment: EnvironmentConfig | None = None
    cost: CostConfig | None = None
    run: RunConfig = RunConfig()


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def format_errors(where: str, error: ValidationError, prefix: str = "") -> list[str]:
    """`file: field.path: message` for each pydantic error."""
    lines = []
    for err in error.errors():
        loc = ".".join(str(part) if isinstance(part, str) else f"[{part}]" for part in err["loc"])
        loc = (prefix + "." + loc if loc else prefix).replace(".[", "[").strip(".")
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        if not err["loc"] and ": " in msg:  # model-level rules name their field first
            field, msg = msg.split(": ", 1)
            loc = f"{prefix}.{field}".strip(".")
        lines.append(f"{where}: {loc or '(top)'}: {msg}")
    return lines


def stack_name(path: Path) -> str:
    match = re.fullmatch(r"Pulumi\.(.+)\.yaml", path.name)
    if not match:
        raise ConfigError([f"{_display(path)}: (file): name must be Pulumi.<stack>.yaml"])
    return match.group(1)


def parse_config(path: Path, config: dict[str, Any]) -> StackFile:
    """Validate a stack's config mapping (as in the file's `config:` section)."""
    where = _display(path)
    unknown = sorted(k for k in config if k.startswith("perfenv:"))
    unknown = [k for k in unknown if k not in (ENVIRONMENT_KEY, COST_KEY, RUN_KEY)]
    if unknown:
        raise ConfigError([f"{where}: config.{k}: unknown key" for k in unknown])
    has_env, has_cost = ENVIRONMENT_KEY in config, COST_KEY in config
    if has_env == has_cost:
        raise ConfigError(
            [f"{where}: config: needs exactly one of {ENVIRONMENT_KEY} or {COST_KEY}"]
        )
    lines: list[str] = []
    parsed: dict[str, Any] = {}
    for key, attr, model in (
        (ENVIRONMENT_KEY, "environment", EnvironmentConfig),
        (COST_KEY, "cost", CostConfig),
        (RUN_KEY, "run", RunConfig),
    ):
        if key in config:
            try:
                parsed[attr] = model.model_validate(config[key])
            except ValidationError as exc:
                lines += format_errors(where, exc)
    if lines:
        raise ConfigError(lines)
    return StackFile(stack=stack_name(path), path=path, **parsed)


def load_stack_file(path: Path) -> StackFile:
    """Read and validate one stack file; raises ConfigError with `file: field: message`."""
    where = _display(path)
    try:
        data = yaml.load(path.read_text(), Loader=_YAML_LOADER)
    except FileNotFoundError:
        raise ConfigError([f"{where}: (file): no such stack file"]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f"line {mark.line + 1}" if mark is not None else "(yaml)"
        raise ConfigError([f"{where}: {at}: malformed YAML"]) from None
    if not isinstance(data, dict) or not isinstance(data.get("config"), dict):
        raise ConfigError([f"{where}: config: missing or not a mapping"])
    extra = sorted(set(data) - {"config", "secretsprovider", "encryptionsalt", "encryptedkey"})
    if extra:
        raise ConfigError([f"{where}: {k}: unknown key" for k in extra])
    return parse_config(path, data["config"])


def check_disjoint(files: Iterable[StackFile]) -> list[str]:
    """`file: network.cidr: overlaps ...` for every pair of environment stacks that overlap."""
    envs = [f for f in files if f.environment is not None]
    lines = []
    for i, a in enumerate(envs):
        for b in envs[i + 1 :]:
            assert a.environment is not None and b.environment is not None
            net_a = ipaddress.IPv4Network(a.environment.network.cidr)
            net_b = ipaddress.IPv4Network(b.environment.network.cidr)
            if net_a.overlaps(net_b):
                lines.append(
                    f"{_display(b.path)}: network.cidr: {net_b} overlaps {net_a} "
                    f"of {_display(a.path)}"
                )
    return lines


def default_stacks_dir() -> Path:
    """The current project's stack config dir (`perfenv.infra.project`)."""
    from perfenv.infra.project import stacks_dir

    return stacks_dir()


def load_all(stacks_dir: Path | None = None) -> list[StackFile]:
    """Every stack file under stacks_dir (default: `default_stacks_dir()`), validated, plus the
    cross-stack rules."""
    if stacks_dir is None:
        stacks_dir = default_stacks_dir()
    files: list[StackFile] = []
    lines: list[str] = []
    for path in sorted(stacks_dir.glob("Pulumi.*.yaml")):
        try:
            files.append(load_stack_file(path))
        except ConfigError as exc:
            lines += exc.lines
    lines += check_disjoint(files)
    if lines:
        raise ConfigError(lines)
    return files


def environment_files(files: Iterable[StackFile]) -> list[StackFile]:
    return [f for f in files if f.environment is not None]


def scale_fields(model: type[BaseModel], prefix: str = "") -> set[str]:
    """Dotted paths of the fields marked as scale (parity lets only these differ)."""
    paths: set[str] = set()
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        extra = info.json_schema_extra
        if isinstance(extra, dict) and extra.get("scale"):
            paths.add(path)
            continue
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            paths |= scale_fields(annotation, f"{path}.")
    return paths
