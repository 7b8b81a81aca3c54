from __future__ import annotations

import json
import re
import runpy
from pathlib import Path

import pytest

from perfenv.cli.program.evaluate import (
    Evaluation,
    PreviewMocks,
    evaluate,
    run_under_mocks,
    stack_config,
)
from perfenv.infra.config import ConfigError, EnvironmentConfig, StackFile
from tests.infra.conftest import REPO, stack_file


def test_environment_exports_its_outputs(shipped: dict[str, Evaluation]) -> None:
    outputs = shipped["perf"].outputs
    assert set(outputs) == {
        "service_url",
        "vpc_id",
        "asg_name",
        "alb_arn",
        "alarm_topic_arn",
        "namespace",
        "generator_master_group",
        "generator_workers_group",
    }
    assert (
        outputs["service_url"].startswith("http://")
        and "elb.amazonaws.com" in outputs["service_url"]
    )
    assert outputs["vpc_id"].startswith("vpc-")


def test_components_are_parented_and_name_prefixed(shipped: dict[str, Evaluation]) -> None:
    ev = shipped["staging"]
    components = {r.urn: r for r in ev.resources if r.type.startswith("perfenv:infra:")}
    assert {r.type for r in components.values()} == {
        "perfenv:infra:Environment",
        "perfenv:infra:Network",
        "perfenv:infra:FlowLogs",
        "perfenv:infra:Fleet",
        "perfenv:infra:LoadBalancer",
        "perfenv:infra:Monitoring",
        "perfenv:infra:KubernetesApp",
        "perfenv:infra:InstanceRole",
        "perfenv:infra:LoadGenerator",
        "perfenv:infra:VpcEndpoints",
    }
    for r in ev.resources:
        if r.parent in components:
            parent = components[r.parent]
            assert r.name.startswith(f"{parent.name}-") or r.type == "kubernetes:core/v1:Namespace"


def test_registration_order_is_a_creation_order(shipped: dict[str, Evaluation]) -> None:
    for ev in shipped.values():
        seen: set[str] = set()
        for r in ev.resources:
            assert all(d in seen for d in r.dependencies), r.name
            seen.add(r.urn)


def test_platform_kubernetes_serves_from_the_service(tmp_path: Path) -> None:
    base = stack_file("dev")
    assert base.environment is not None
    data = base.environment.model_dump()
    data["app"]["platform"] = "kubernetes"
    stack = StackFile(
        stack="dev", path=base.path, environment=EnvironmentConfig.model_validate(data)
    )
    url = evaluate(stack, "dev").outputs["service_url"]
    assert url.endswith(".svc.cluster.local:80")


def test_kubernetes_disabled_builds_no_kubernetes_objects() -> None:
    base = stack_file("dev")
    assert base.environment is not None
    data = base.environment.model_dump()
    data["kubernetes"]["enabled"] = False
    stack = StackFile(
        stack="dev", path=base.path, environment=EnvironmentConfig.model_validate(data)
    )
    ev = evaluate(stack, "dev")
    assert not [r for r in ev.resources if "kubernetes" in r.type]
    assert ev.outputs["namespace"] is None


def _run_main(stack: StackFile) -> Evaluation:
    return run_under_mocks(
        lambda: runpy.run_path(str(REPO / "__main__.py"), run_name="__main__"),
        stack_name="perf",
        mocks=PreviewMocks(),
        config=stack_config(stack),
    )


def _with_context(context: str) -> StackFile:
    base = stack_file("perf")
    assert base.environment is not None
    data = base.environment.model_dump()
    data["kubernetes"]["context"] = context
    return StackFile(
        stack="perf", path=base.path, environment=EnvironmentConfig.model_validate(data)
    )


def test_main_reads_stack_config_and_builds(monkeypatch: pytest.MonkeyPatch) -> None:
    """What `pulumi up` runs: config from `perfenv:*` keys, validated, then built, with the
    cluster named explicitly and allowed."""
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("PERFENV_KUBECONFIG", "/etc/perfenv/kubeconfig")
    monkeypatch.setenv("PERFENV_KUBE_CONTEXTS", "perf-cluster,other")
    ev = _run_main(_with_context("perf-cluster"))
    assert len(ev.of_type("aws:ec2/vpc:Vpc")) == 1
    assert ev.outputs["vpc_id"].startswith("vpc-")
    (provider,) = ev.of_type("pulumi:providers:kubernetes")
    assert provider.inputs["context"] == "perf-cluster"
    assert provider.inputs["kubeconfig"] == "/etc/perfenv/kubeconfig"


@pytest.mark.parametrize(
    ("context", "allowed", "kubeconfig", "message"),
    [
        ("perf-cluster", None, "/k", "is not listed in PERFENV_KUBE_CONTEXTS (unset)"),
        ("prod-cluster", "perf-cluster", "/k", "'prod-cluster' is not listed"),
        ("perf-cluster", "perf-cluster", None, "no kubeconfig given"),
        (None, "perf-cluster", "/k", "no context given"),
    ],
)
def test_main_refuses_a_cluster_not_named_and_allowed(
    monkeypatch: pytest.MonkeyPatch,
    context: str | None,
    allowed: str | None,
    kubeconfig: str | None,
    message: str,
) -> None:
    monkeypatch.chdir(REPO)
    for var, value in (("PERFENV_KUBE_CONTEXTS", allowed), ("PERFENV_KUBECONFIG", kubeconfig)):
        if value is None:
            monkeypatch.delenv(var, raising=False)
        else:
            monkeypatch.setenv(var, value)
    stack = _with_context(context) if context else stack_file("perf")
    with pytest.raises(ConfigError, match=re.escape(message)) as raised:
        _run_main(stack)
    assert len(raised.value.lines) == 1


def test_importing_the_program_creates_nothing() -> None:
    ev = run_under_mocks(
        lambda: __import__("perfenv.infra.program"), stack_name="t", mocks=PreviewMocks()
    )
    assert ev.resources == []


def test_the_providers_allow_only_the_runs_account(monkeypatch: pytest.MonkeyPatch) -> None:
    from perfenv.infra.config import RunConfig

    def allowed(stack: StackFile) -> list[object]:
        providers = evaluate(stack, stack.stack).of_type("pulumi:providers:aws")
        # provider inputs arrive JSON-encoded, as Pulumi passes provider config
        raw = [p.inputs.get("allowedAccountIds") for p in providers]
        return [json.loads(r) if isinstance(r, str) else r for r in raw]

    perf = stack_file("perf")
    monkeypatch.delenv("PERFENV_AWS_ACCOUNTS", raising=False)
    assert allowed(perf) == [None]  # nothing known: the provider cannot check
    monkeypatch.setenv("PERFENV_AWS_ACCOUNTS", "111111111111, 222222222222")
    assert allowed(perf) == [["111111111111", "222222222222"]]
    run = RunConfig(release="1.0.0", account="222222222222")
    assert allowed(perf.model_copy(update={"run": run})) == [["222222222222"]]
    assert allowed(stack_file("cost")) == [["111111111111", "222222222222"]] * 2
