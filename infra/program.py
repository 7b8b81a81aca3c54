"""What `pulumi up` builds for one stack file: an Environment, or the account's CostGuardrails.

Importing this module creates nothing (mocks must be set before resources are created); `build`
does the work, so the CLI can evaluate the program under mocks as often as it likes.
"""

from __future__ import annotations

import os
from pathlib import Path

import pulumi

from perfenv.infra.config import (
    COST_KEY,
    ENVIRONMENT_KEY,
    RUN_KEY,
    TEAM_KEY,
    RunConfig,
    StackFile,
    default_stacks_dir,
    environment_files,
    load_all,
    parse_config,
)
from perfenv.infra.kube_access import KUBECONFIG_ENV, KubeAccess, checked_kube_access, kube_access
from perfenv.infra.tags import Tags, team_of

ACCOUNTS_ENV = "PERFENV_AWS_ACCOUNTS"
__all__ = ["ACCOUNTS_ENV", "KUBECONFIG_ENV", "aws_provider", "build", "main"]


def main() -> None:
    """The program of a perfenv project: build the current stack from its Pulumi config.

    A project's `__main__.py` calls this (what `perfenv init` writes); compose your own
    resources around it there.
    """
    config = pulumi.Config("perfenv")
    raw = {
        key: value
        for key, value in (
            (ENVIRONMENT_KEY, config.get_object("environment")),
            (COST_KEY, config.get_object("cost")),
            (RUN_KEY, config.get_object("run")),
            (TEAM_KEY, config.get("team")),
        )
        if value is not None
    }
    stack = pulumi.get_stack()
    path = default_stacks_dir() / f"Pulumi.{stack}.yaml"
    stack_file = parse_config(path, raw)
    kube = None
    if stack_file.environment is not None:  # a real deploy: only an allowed cluster
        kube = checked_kube_access(stack_file.environment.kubernetes, str(path))
    build(stack_file, stack, kube=kube)


def build(
    stack: StackFile,
    stack_name: str,
    *,
    stacks_dir: Path | None = None,
    kube: KubeAccess | None = None,
) -> None:
    """Create the stack's resources and export its outputs.

    The cost stack reads every environment stack file under `stacks_dir` (default:
    `perfenv.infra.config.default_stacks_dir()`). `kube`: the checked cluster access (`main`
    passes it); without it, the configured one unchecked (evaluation under mocks).
    """
    if stack.environment is not None:
        access = kube or kube_access(stack.environment.kubernetes)
        _build_environment(stack, stack_name, access)
    elif stack.cost is not None:
        _build_cost(stack, stack_name, stacks_dir)


def allowed_account_ids(run: RunConfig | None) -> list[str] | None:
    """The accounts the AWS providers may act in: the run's own account (recorded when perfenv
    created it), else `PERFENV_AWS_ACCOUNTS`; None (unchecked) when neither is known."""
    if run is not None and run.account:
        return [run.account]
    listed = [a.strip() for a in os.environ.get(ACCOUNTS_ENV, "").split(",") if a.strip()]
    return listed or None


def aws_provider(
    name: str,
    region: str,
    tags: Tags,
    opts: pulumi.ResourceOptions | None = None,
    *,
    allowed_accounts: list[str] | None = None,
) -> pulumi.ProviderResource:
    """An explicit AWS provider whose default tags every resource under it inherits; with
    `allowed_accounts`, the provider itself refuses credentials of any other account."""
    import pulumi_aws

    return pulumi_aws.Provider(
        name,
        region=region,
        default_tags=pulumi_aws.ProviderDefaultTagsArgs(tags=tags.aws),
        allowed_account_ids=allowed_accounts,
        opts=opts,
    )


def _build_environment(stack: StackFile, stack_name: str, kube: KubeAccess) -> None:
    from perfenv.infra.environment import Environment, EnvironmentArgs

    config = stack.environment
    assert config is not None
    tags = Tags(environment=config.name, stack=stack_name, run=stack.run, team=team_of(stack))
    provider = aws_provider(
        f"{config.name}-aws",
        config.region,
        tags,
        allowed_accounts=allowed_account_ids(stack.run),
    )
    env = Environment(
        config.name,
        EnvironmentArgs(
            config=config,
            tags=tags,
            kube=kube,
        ),
        pulumi.ResourceOptions(providers={"aws": provider}),
    )
    pulumi.export("service_url", env.service_url)
    pulumi.export("vpc_id", env.vpc_id)
    pulumi.export("asg_name", env.asg_name)
    pulumi.export("alb_arn", env.alb_arn)
    pulumi.export("alarm_topic_arn", env.alarm_topic_arn)
    pulumi.export("namespace", env.namespace)
    pulumi.export("generator_master_group", env.generator_master_group)
    pulumi.export("generator_workers_group", env.generator_workers_group)


def _build_cost(stack: StackFile, stack_name: str, stacks_dir: Path | None) -> None:
    from perfenv.infra.cost_guardrails import CostGuardrails, CostGuardrailsArgs

    config = stack.cost
    assert config is not None
    tags = Tags(environment=stack.stack, stack=stack_name, run=stack.run, team=team_of(stack))
    accounts = allowed_account_ids(stack.run)
    provider = aws_provider("cost-aws", config.region, tags, allowed_accounts=accounts)
    billing = aws_provider("cost-aws-us-east-1", "us-east-1", tags, allowed_accounts=accounts)
    guardrails = CostGuardrails(
        "cost",
        CostGuardrailsArgs(
            config=config,
            environments=environment_files(load_all(stacks_dir)),
            billing_provider=billing,
        ),
        pulumi.ResourceOptions(providers={"aws": provider}),
    )
    pulumi.export("alert_topic_arn", guardrails.topic_arn)
    pulumi.export("budget_names", guardrails.budget_names)
    pulumi.export("billing_alarm_arn", guardrails.billing_alarm_arn)
    pulumi.export("anomaly_monitor_arn", guardrails.anomaly_monitor_arn)
