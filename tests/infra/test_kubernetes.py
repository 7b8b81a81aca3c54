from __future__ import annotations

from perfenv.cli.program.evaluate import Evaluation
from perfenv.infra.config import AppConfig, FleetConfig, KubernetesConfig, QuotaConfig, RunConfig
from perfenv.infra.kube_access import KubeAccess
from perfenv.infra.kubernetes import KubernetesApp, KubernetesAppArgs
from perfenv.infra.tags import Tags
from tests.infra.conftest import build, only

RUN = RunConfig(release="1.4.2", expires_at="2026-11-27T18:00:00Z")


def _k8s() -> Evaluation:
    args = KubernetesAppArgs(
        config=KubernetesConfig(namespace="perfenv-t"),
        quotas=QuotaConfig(),
        app=AppConfig(replicas=2, max_replicas=5, cpu_limit="250m", memory_limit="256Mi"),
        fleet=FleetConfig(min=1, desired=1, max=2),
        tags=Tags(environment="t", stack="t-stack", run=RUN),
        access=KubeAccess(kubeconfig="apiVersion: v1\nkind: Config\n", context="ci"),
    )
    return build(lambda: KubernetesApp("t-k8s", args))


def test_explicit_provider_from_the_kubeconfig() -> None:
    ev = _k8s()
    provider = only(ev, "pulumi:providers:kubernetes")
    assert provider.inputs["kubeconfig"].startswith("apiVersion: v1")
    assert provider.inputs["context"] == "ci"
    objects = [r for r in ev.resources if r.type.startswith("kubernetes:")]
    assert len(objects) >= 8
    assert all(r.provider and r.provider.startswith(provider.urn) for r in objects)


def test_namespace_is_fenced_by_quota_limits_and_default_deny() -> None:
    ev = _k8s()
    hard = only(ev, "kubernetes:core/v1:ResourceQuota").inputs["spec"]["hard"]
    assert {"requests.cpu", "requests.memory", "pods"} <= set(hard)
    (limit,) = only(ev, "kubernetes:core/v1:LimitRange").inputs["spec"]["limits"]
    assert set(limit["default"]) == {"cpu", "memory"} == set(limit["defaultRequest"])
    policies = [
        p.inputs["spec"] for p in ev.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")
    ]
    deny = [p for p in policies if "ingress" not in p]
    allow = [p for p in policies if "ingress" in p]
    assert deny == [{"podSelector": {}, "policyTypes": ["Ingress"]}]
    selector = allow[0]["ingress"][0]["from"][0]["namespaceSelector"]["matchLabels"]
    assert selector == {"kubernetes.io/metadata.name": "ingress-nginx"}


def test_app_containers_are_limited_and_autoscaled() -> None:
    ev = _k8s()
    deployment = only(ev, "kubernetes:apps/v1:Deployment").inputs["spec"]
    (container,) = deployment["template"]["spec"]["containers"]
    assert container["resources"]["limits"] == {"cpu": "250m", "memory": "256Mi"}
    hpa = only(ev, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler").inputs["spec"]
    assert hpa["scaleTargetRef"]["kind"] == "Deployment"
    assert hpa["minReplicas"] == 2 and hpa["maxReplicas"] == 5
    assert only(ev, "kubernetes:core/v1:Service").inputs["spec"]["ports"][0]["targetPort"] == 8080


def test_every_object_is_labelled_and_annotated_with_expiry() -> None:
    ev = _k8s()
    for r in ev.resources:
        if r.type.startswith("kubernetes:") and r.type != "pulumi:providers:kubernetes":
            meta = r.inputs["metadata"]
            assert meta["labels"]["perfenv.io/release"] == "1.4.2", r.name
            assert meta["labels"]["perfenv.io/stack"] == "t-stack"
            assert meta["annotations"] == {"perfenv.io/expires-at": "2026-11-27T18:00:00Z"}
