from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from perfenv.cli.main import app

runner = CliRunner()
STACKS = Path(__file__).resolve().parents[3] / "stacks"
ENVIRONMENT_TYPES = {
    "aws:ec2/vpc:Vpc",
    "aws:ec2/subnet:Subnet",
    "aws:ec2/securityGroup:SecurityGroup",
    "aws:ec2/networkAcl:NetworkAcl",
    "aws:ec2/launchTemplate:LaunchTemplate",
    "aws:autoscaling/group:Group",
    "aws:autoscaling/policy:Policy",
    "aws:lb/loadBalancer:LoadBalancer",
    "aws:lb/targetGroup:TargetGroup",
    "aws:lb/listener:Listener",
    "aws:cloudwatch/metricAlarm:MetricAlarm",
    "aws:sns/topic:Topic",
    "kubernetes:core/v1:ResourceQuota",
    "kubernetes:core/v1:LimitRange",
    "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
}


@pytest.mark.parametrize("stack", ["perf", "dev"])
def test_environment_preview_lists_every_resource(stack: str) -> None:
    result = runner.invoke(app, ["preview", "--stack", stack, "--format", "json"])
    assert result.exit_code == 0, result.output
    resources = json.loads(result.stdout)
    assert len(resources) >= 40
    assert ENVIRONMENT_TYPES <= {r["type"] for r in resources}
    assert all({"type", "name", "parent", "inputs"} <= set(r) for r in resources)
    (vpc,) = [r for r in resources if r["type"] == "aws:ec2/vpc:Vpc"]
    assert vpc["parent"] == f"{stack}-net" and vpc["inputs"]["cidrBlock"].startswith("10.")


def test_cost_preview_has_budgets_billing_alarm_and_anomaly_detection() -> None:
    result = runner.invoke(app, ["preview", "--stack", "cost", "--format", "json"])
    assert result.exit_code == 0, result.output
    resources = json.loads(result.stdout)
    types = [r["type"] for r in resources]
    assert types.count("aws:budgets/budget:Budget") == 3
    alarms = [r for r in resources if r["type"] == "aws:cloudwatch/metricAlarm:MetricAlarm"]
    assert [a["inputs"]["metricName"] for a in alarms] == ["EstimatedCharges"]
    assert "aws:costexplorer/anomalyMonitor:AnomalyMonitor" in types
    assert "aws:costexplorer/anomalySubscription:AnomalySubscription" in types


def test_table_format_and_unknown_stack() -> None:
    result = runner.invoke(app, ["preview", "--stack", "staging"])
    assert result.exit_code == 0, result.output
    header = result.stdout.splitlines()[0].split()
    assert header == ["type", "name", "parent", "inputs"]
    assert "aws:autoscaling/group:Group" in result.stdout
    missing = runner.invoke(app, ["preview", "--stack", "nope"])
    assert missing.exit_code == 2
    assert "Pulumi.nope.yaml" in missing.stderr and "Traceback" not in missing.output


def test_cost_preview_follows_the_environment_stack_files(tmp_path: Path) -> None:
    stacks = tmp_path / "stacks"
    shutil.copytree(STACKS, stacks)
    data = yaml.safe_load((stacks / "Pulumi.dev.yaml").read_text())
    env = data["config"]["perfenv:environment"]
    env.update(name="qa")
    env["network"]["cidr"] = "10.40.0.0/16"
    env["kubernetes"]["namespace"] = "perfenv-qa"
    (stacks / "Pulumi.qa.yaml").write_text(yaml.safe_dump(data))
    args = ["preview", "--stack", "cost", "--format", "json", "--stacks-dir", str(stacks)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    budgets = [r for r in json.loads(result.stdout) if r["type"] == "aws:budgets/budget:Budget"]
    filters = {b["inputs"]["costFilters"][0]["values"][0] for b in budgets}
    assert "user:perfenv:environment$qa" in filters and len(budgets) == 4

    (stacks / "Pulumi.qa.yaml").write_text("config: [broken\n")
    broken = runner.invoke(app, args)
    assert broken.exit_code == 2
    assert "Pulumi.qa.yaml" in broken.stderr and "Traceback" not in broken.output


def test_a_mandatory_policy_violation_is_exit_2_naming_rule_and_resource(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import pulumi_aws.ec2

    original = pulumi_aws.ec2.SecurityGroup

    def opened(name: str, **kwargs: Any) -> Any:  # the app's group, opened to the world
        if name.endswith("-app-sg"):
            world = pulumi_aws.ec2.SecurityGroupIngressArgs(
                protocol="tcp", from_port=8080, to_port=8080, cidr_blocks=["0.0.0.0/0"]
            )
            kwargs["ingress"] = [*kwargs["ingress"], world]
        return original(name, **kwargs)

    monkeypatch.setattr(pulumi_aws.ec2, "SecurityGroup", opened)
    result = runner.invoke(app, ["preview", "--stack", "perf", "--format", "json"])
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert lines == [
        "perfenv: policy no-public-ingress-to-app: perf-net-app-sg "
        "(aws:ec2/securityGroup:SecurityGroup): ingress from 0.0.0.0/0 on tcp 8080-8080"
    ], lines
