"""What `pulumi up` builds for one stack file: an Environment, or the account's CostGuardrails.

Importing this module creates nothing (mocks must be set before resources are created); `build`
does the work, so the CLI can evaluate the program under mocks as often as it likes.
"""

from __future__ import annotations

import os
from pathlib import Path

import pulumi

from infra.config import StackFile, environment_files, load_all
from infra.tags import Tags

KUBECONFIG_ENV = "PERFENV_KUBECONFIG"


def build(stack: StackFile, stack_name: str, *, stacks_dir: Path | None = None) -> None:
    """Create the stack's resources and export its outputs.

    The cost stack reads every environment stack file under `stacks_dir` (default:
    `infra.config.default_stacks_dir()`).
    """
    if stack.environment is not None:
        _build_environment(stack, stack_name)
    elif stack.cost is not None:
        _build_cost(stack, stack_name, stacks_dir)


def aws_provider(
    name: str, region: str, tags: Tags, opts: pulumi.ResourceOptions | None = None
) -> pulumi.ProviderResource:
    """An explicit AWS provider whose default tags every resource under it inherits."""
    import pulumi_aws

    return pulumi_aws.Provider(
        name,
        region=region,
        default_tags=pulumi_aws.ProviderDefaultTagsArgs(tags=tags.aws),
        opts=opts,
    )


def _build_environment(stack: StackFile, stack_name: str) -> None:
    from infra.environment import Environment, EnvironmentArgs

    config = stack.environment
    assert config is not None
    tags = Tags(environment=config.name, stack=stack_name, run=stack.run)
    provider = aws_provider(f"{config.name}-aws", config.region, tags)
    env = Environment(
        config.name,
        EnvironmentArgs(
            config=config,
            tags=tags,
            kubeconfig=config.kubernetes.kubeconfig or os.environ.get(KUBECONFIG_ENV),
        ),
        pulumi.ResourceOptions(providers={"aws": provider}),
    )
    pulumi.export("service_url", env.service_url)
    pulumi.export("vpc_id", env.vpc_id)
    pulumi.export("asg_name", env.asg_name)
    pulumi.export("alb_arn", env.alb_arn)
    pulumi.export("alarm_topic_arn", env.alarm_topic_arn)
    pulumi.export("namespace", env.namespace)


def _build_cost(stack: StackFile, stack_name: str, stacks_dir: Path | None) -> None:
    from infra.cost_guardrails import CostGuardrails, CostGuardrailsArgs

    config = stack.cost
    assert config is not None
    tags = Tags(environment=stack.stack, stack=stack_name, run=stack.run)
    provider = aws_provider("cost-aws", config.region, tags)
    billing = aws_provider("cost-aws-us-east-1", "us-east-1", tags)
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
