"""The stack config model: `perfenv:environment`, `perfenv:cost` and `perfenv:run`.

Read once, at the edge, into frozen models; components receive typed objects and never call
`pulumi.Config`. Fields marked `scale=True` are the only ones parity lets differ between
environments (sizes, counts, az_count, nat mode, schedules, budgets).

The models live by what they configure (`network`, `fleet`, `app`, `budgets`, `environment`),
reading and validating stack files in `loading`; this package's names are the public ones.
"""

from perfenv.infra.config.app import (
    AppConfig,
    ArtifactConfig,
    ArtifactKind,
    KubernetesConfig,
    LoadBalancerConfig,
)
from perfenv.infra.config.budgets import (
    AlarmConfig,
    AnomalyConfig,
    BillingAlarmConfig,
    BudgetConfig,
    CostConfig,
)
from perfenv.infra.config.capacity import CapacityConfig
from perfenv.infra.config.environment import EnvironmentConfig, Kind, RunConfig, Team
from perfenv.infra.config.fleet import (
    FleetConfig,
    KubernetesQuota,
    QuotaConfig,
    ScalingTargets,
    Schedule,
)
from perfenv.infra.config.load_generator import LoadGeneratorConfig
from perfenv.infra.config.loading import (
    COST_KEY,
    ENVIRONMENT_KEY,
    RUN_KEY,
    TEAM_KEY,
    StackFile,
    check_disjoint,
    default_stacks_dir,
    environment_files,
    format_errors,
    load_all,
    load_stack_file,
    non_string_key,
    parse_config,
    read_config_text,
    stack_name,
)
from perfenv.infra.config.model import Model, PositiveInt, Scale, scale_fields
from perfenv.infra.config.network import MIN_SUBNET_PREFIX, NetworkConfig, subnet_prefix
from perfenv.infra.errors import ConfigError

__all__ = [
    "COST_KEY",
    "ENVIRONMENT_KEY",
    "MIN_SUBNET_PREFIX",
    "RUN_KEY",
    "TEAM_KEY",
    "AlarmConfig",
    "AnomalyConfig",
    "AppConfig",
    "ArtifactConfig",
    "ArtifactKind",
    "BillingAlarmConfig",
    "BudgetConfig",
    "CapacityConfig",
    "ConfigError",
    "CostConfig",
    "EnvironmentConfig",
    "FleetConfig",
    "Kind",
    "KubernetesConfig",
    "KubernetesQuota",
    "LoadBalancerConfig",
    "LoadGeneratorConfig",
    "Model",
    "NetworkConfig",
    "PositiveInt",
    "QuotaConfig",
    "RunConfig",
    "Scale",
    "ScalingTargets",
    "Schedule",
    "StackFile",
    "Team",
    "check_disjoint",
    "default_stacks_dir",
    "environment_files",
    "format_errors",
    "load_all",
    "load_stack_file",
    "non_string_key",
    "parse_config",
    "read_config_text",
    "scale_fields",
    "stack_name",
    "subnet_prefix",
]
