"""What a run reads of an aws stack while it is up: its telemetry (CloudWatch), the probe that
watches its environment during a scenario, and its load generator's instances (reached through
the state store and SSM Run Command)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from perfenv.cli.errors import BadInput
from perfenv.cli.targets.generator import generator_hosts
from perfenv.cli.targets.probe import Probe, stack_alarms, stack_groups
from perfenv.cli.targets.telemetry import TelemetryReader
from perfenv.cli.verdict.generators import GeneratorHosts
from perfenv.infra.config import RunConfig, StackFile

if TYPE_CHECKING:
    from perfenv.cli.targets.aws.target import AwsTarget

EXCHANGE = "exchange"  # the work dir's record of the run's exchange prefix (written by up)


def check_exchange(config: StackFile, stack: str) -> str:
    """A run's exchange prefix (empty: none); BadInput, before anything is created, for a run
    whose load generator has workers but whose state store is not in S3 (its instances could
    not be handed the plan)."""
    exchange = config.run.exchange_prefix(stack) or ""
    env = config.environment
    is_run = config.run.release != RunConfig().release
    if is_run and env is not None and env.load_generator.workers and not exchange:
        raise BadInput(
            "--target aws: the load generator's instances get the plan and return the results "
            "through the state store, which must be in S3: set PERFENV_STATE_URL=s3://BUCKET/PREFIX"
        )
    return exchange


def telemetry(target: AwsTarget, stack: str) -> TelemetryReader | None:
    from perfenv.cli.targets.aws.telemetry import CloudWatchTelemetry

    outputs = target.outputs(stack)
    alb, asg = outputs.get("alb_arn"), outputs.get("asg_name")
    if not alb or not asg:
        return None
    return CloudWatchTelemetry(target.client, target.region(stack), str(alb), str(asg))


def probe(target: AwsTarget, stack: str) -> Probe:
    """The stack's environment watched during a scenario; a failover loses an instance with
    `ec2 terminate-instances` (an abrupt loss: the Auto Scaling API would drain it first)."""
    region = target.region(stack)
    target.check_account(region)  # the allowlist, and the account the run recorded

    def clients(service: str) -> Any:
        return target.client(service, region)

    def lose(instance_id: str) -> None:
        clients("ec2").terminate_instances(InstanceIds=[instance_id])

    groups = stack_groups(clients, stack)
    return Probe(clients, groups, lose, stack_alarms(clients, stack, groups))


def generator(target: AwsTarget, stack: str) -> GeneratorHosts | None:
    """The load generator's instances in service, with the state store's exchange prefix and
    Run Command as the way to them; None when the stack has no worker in service."""
    from perfenv.cli.targets.aws.generator import SsmHosts

    region = target.region(stack)
    target.check_account(region)
    recorded = target.work_dir(stack) / EXCHANGE
    exchange = recorded.read_text().strip() if recorded.exists() else ""

    def clients(service: str) -> Any:
        return target.client(service, region)

    hosts = generator_hosts(clients, target.outputs(stack))
    if hosts is None:
        return None
    return replace(hosts, remote=SsmHosts(target.client, region, exchange, target.sleep))
