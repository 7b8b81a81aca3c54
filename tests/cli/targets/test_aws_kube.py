"""The aws target's Kubernetes side: the preflight refuses a cluster that is not explicit and
allowed before anything exists, and the leftovers check asks the cluster (a fake kubectl) for the
run's namespace and every object labelled with its stack."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from typer.testing import CliRunner

from perfenv.cli.errors import BadInput
from perfenv.cli.lifecycle import Deps, load_template, run_tags, with_run
from perfenv.cli.main import app
from perfenv.cli.state.store import open_store
from perfenv.cli.targets.aws import AwsTarget
from tests.fakes import kube
from tests.fakes.automation import FakeAutomation, FakeClients

STACK = "perf-1-4-2-abc123"
OTHER = "perf-1-4-1-zzz999"


@pytest.fixture
def cluster(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[kube.FakeCluster]:
    monkeypatch.setenv("PERFENV_AWS_ACCOUNTS", "123456789012")
    fake = kube.allow(monkeypatch, tmp_path)
    with mock_aws():
        yield fake


def _moto(service: str, region: str) -> Any:
    return boto3.client(service, region_name=region)  # type: ignore[call-overload]


def _target(automation: FakeAutomation) -> AwsTarget:
    clients = FakeClients(fallback=_moto)
    return AwsTarget(automation=automation, client=clients, sleep=lambda s: None, attempts=1)


def _up(target: AwsTarget) -> None:
    config = with_run(load_template(), STACK, "1.4.2", "2030-01-01T00:00:00Z")
    target.up(STACK, config, run_tags(config, STACK, "1.4.2", None), lambda line: None)


@pytest.mark.parametrize(
    ("contexts", "named"),
    [("prod-eks, other", "other, prod-eks"), ("", "unset")],
    ids=["not-listed", "unset-refuses-all"],
)
def test_a_context_not_listed_is_refused_before_anything_is_created(
    cluster: kube.FakeCluster, monkeypatch: pytest.MonkeyPatch, contexts: str, named: str
) -> None:
    monkeypatch.setenv("PERFENV_KUBE_CONTEXTS", contexts)
    automation = FakeAutomation()
    clients = FakeClients(fallback=_moto)
    target = AwsTarget(automation=automation, client=clients, sleep=lambda s: None)
    with pytest.raises(BadInput) as refused:
        target.preflight(load_template(), lambda line: None)
    assert str(refused.value) == (
        f"Pulumi.perf.yaml: kubernetes.context: 'perf-ci' is not listed in "
        f"PERFENV_KUBE_CONTEXTS ({named})"
    )
    assert automation.log == [] and clients.asked == ["sts"] and cluster.calls() == []


def test_perfenv_run_on_aws_with_a_refused_context_is_exit_2_and_writes_nothing(
    cluster: kube.FakeCluster, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PERFENV_KUBE_CONTEXTS", "some-other-cluster")
    automation = FakeAutomation()

    def aws(*args: Any, **kwargs: Any) -> AwsTarget:
        return _target(automation)

    result = CliRunner().invoke(
        app,
        ["run", "--release", "1.4.2", "--target", "aws", "--suite", "suites/smoke.yaml"],
        obj=Deps(target=aws),
    )
    assert result.exit_code == 2, result.output
    assert "kubernetes.context: 'perf-ci' is not listed in PERFENV_KUBE_CONTEXTS" in result.output
    assert automation.log == []
    assert open_store().keys("runs/") == []  # no manifest: nothing was started


def test_no_kubeconfig_or_no_kubectl_is_refused(
    cluster: kube.FakeCluster, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    target = _target(FakeAutomation())
    monkeypatch.delenv("PERFENV_KUBECONFIG")
    with pytest.raises(BadInput, match="no kubeconfig given .*the ambient one is never used"):
        target.preflight(load_template(), lambda line: None)
    monkeypatch.setenv("PERFENV_KUBECONFIG", str(tmp_path / "kubeconfig"))
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    with pytest.raises(BadInput, match="kubectl is not installed"):
        target.preflight(load_template(), lambda line: None)


def test_the_leftovers_check_covers_the_namespace_and_the_labelled_objects(
    cluster: kube.FakeCluster,
) -> None:
    automation = FakeAutomation(
        outputs={"service_url": "http://perf.internal", "namespace": "perfenv-perf-1a2b3c4"}
    )
    target = _target(automation)
    _up(target)
    namespace = kube.item("Namespace", "perfenv-perf-1a2b3c4", STACK)
    del namespace["metadata"]["labels"]  # found by its recorded name alone
    cluster.holds(
        [
            namespace,
            kube.item("Deployment", "app-5f6", STACK, "perfenv-perf-1a2b3c4"),
            kube.item("ResourceQuota", "quota", STACK, "elsewhere"),
            kube.item("Deployment", "app-other", OTHER, "perfenv-perf-9z9z9z9"),
        ]
    )
    assert target.leftovers(STACK) == [
        "kubernetes Deployment perfenv-perf-1a2b3c4/app-5f6",
        "kubernetes Namespace perfenv-perf-1a2b3c4",
        "kubernetes ResourceQuota elsewhere/quota",
    ]
    calls = cluster.calls()
    kubeconfig = os.environ["PERFENV_KUBECONFIG"]
    assert calls and all(
        call[:4] == ["--kubeconfig", kubeconfig, "--context", "perf-ci"] for call in calls
    )
    assert any("-l" in call and f"perfenv.io/stack={STACK}" in call for call in calls)
    cluster.holds([])
    assert target.leftovers(STACK) == []


def test_a_cluster_that_cannot_be_asked_is_a_leftover_line(cluster: kube.FakeCluster) -> None:
    target = _target(FakeAutomation())
    _up(target)
    cluster.fail("Unable to connect to the server: dial tcp: i/o timeout")
    assert target.leftovers(STACK) == [
        "kubernetes not checked: kubectl get namespaces,deployments,replicasets,pods,services,"
        "horizontalpodautoscalers,resourcequotas,limitranges,networkpolicies: Unable to connect "
        "to the server: dial tcp: i/o timeout"
    ]


def test_without_the_runs_record_the_stacks_own_cluster_is_asked(
    cluster: kube.FakeCluster,
) -> None:
    """A stack whose work dir is on another machine (a scheduled reap elsewhere)."""
    cluster.holds([kube.item("Service", "app", STACK, "perfenv-perf-1a2b3c4")])
    assert _target(FakeAutomation()).leftovers(STACK) == [
        "kubernetes Service perfenv-perf-1a2b3c4/app"
    ]


def test_a_stack_without_kubernetes_asks_no_cluster(
    cluster: kube.FakeCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    template = load_template()
    assert template.environment is not None
    environment = template.environment.model_copy(
        update={"kubernetes": template.environment.kubernetes.model_copy(update={"enabled": False})}
    )
    config = with_run(
        template.model_copy(update={"environment": environment}),
        STACK,
        "1.4.2",
        "2030-01-01T00:00:00Z",
    )
    monkeypatch.setenv("PERFENV_KUBE_CONTEXTS", "")  # would refuse any cluster
    target = _target(FakeAutomation())
    target.up(STACK, config, run_tags(config, STACK, "1.4.2", None), lambda line: None)
    monkeypatch.setenv("PERFENV_KUBE_CONTEXTS", kube.CONTEXT)
    cluster.holds([kube.item("Service", "app", STACK, "perfenv-perf-1a2b3c4")])  # not its own
    assert target.leftovers(STACK) == []
    assert cluster.calls() == []
