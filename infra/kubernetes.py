"""KubernetesApp: the environment's namespace in an existing cluster and the app inside it.

The namespace is fenced: a ResourceQuota caps it, a LimitRange gives every container default
requests and limits, and network policy denies all ingress except from the ingress namespace.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from perfenv.infra.config import AppConfig, FleetConfig, KubernetesConfig, QuotaConfig
from perfenv.infra.tags import Tags

SERVICE_PORT = 80
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"


@dataclass(frozen=True, kw_only=True)
class KubernetesAppArgs:
    config: KubernetesConfig
    quotas: QuotaConfig
    app: AppConfig
    fleet: FleetConfig
    tags: Tags
    kubeconfig: str | None  # contents or path; None: the ambient kubeconfig


class KubernetesApp(pulumi.ComponentResource):
    namespace: pulumi.Output[str]
    service_url: pulumi.Output[str]

    def __init__(
        self, name: str, args: KubernetesAppArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        import pulumi_kubernetes as k8s

        super().__init__("perfenv:infra:KubernetesApp", name, None, opts)
        provider = k8s.Provider(
            f"{name}-k8s",
            kubeconfig=args.kubeconfig,
            opts=pulumi.ResourceOptions(parent=self),
        )
        child = pulumi.ResourceOptions(parent=self, provider=provider)
        labels = args.tags.labels
        annotations = args.tags.annotations
        # Autonamed from the configured name: two ephemeral stacks in one cluster never collide.
        ns = k8s.core.v1.Namespace(
            args.config.namespace,
            metadata={"labels": labels, "annotations": annotations},
            opts=child,
        )
        namespace = ns.metadata.apply(_name)

        def meta(**extra: Any) -> Any:
            return {"namespace": namespace, "labels": labels, "annotations": annotations, **extra}

        quota = args.quotas.kubernetes
        k8s.core.v1.ResourceQuota(
            f"{name}-quota",
            metadata=meta(),
            spec=_k8s(
                {
                    "hard": {
                        "requests.cpu": quota.cpu,
                        "limits.cpu": quota.cpu,
                        "requests.memory": quota.memory,
                        "limits.memory": quota.memory,
                        "pods": str(quota.pods),
                    }
                }
            ),
            opts=child,
        )
        k8s.core.v1.LimitRange(
            f"{name}-limits",
            metadata=meta(),
            spec=_k8s(
                {
                    "limits": [
                        {
                            "type": "Container",
                            "default": {"cpu": quota.default_cpu, "memory": quota.default_memory},
                            "defaultRequest": {
                                "cpu": quota.default_request_cpu,
                                "memory": quota.default_request_memory,
                            },
                        }
                    ]
                }
            ),
            opts=child,
        )
        k8s.networking.v1.NetworkPolicy(
            f"{name}-default-deny",
            metadata=meta(),
            spec=_k8s({"podSelector": {}, "policyTypes": ["Ingress"]}),
            opts=child,
        )
        k8s.networking.v1.NetworkPolicy(
            f"{name}-allow-ingress",
            metadata=meta(),
            spec=_k8s(
                {
                    "podSelector": {},
                    "policyTypes": ["Ingress"],
                    "ingress": [
                        {
                            "from": [
                                {
                                    "namespaceSelector": {
                                        "matchLabels": {
                                            NAMESPACE_NAME_LABEL: args.config.ingress_namespace
                                        }
                                    }
                                }
                            ]
                        }
                    ],
                }
            ),
            opts=child,
        )
        selector = {"app.kubernetes.io/name": name}
        app = args.app
        deployment = k8s.apps.v1.Deployment(
            f"{name}-app",
            metadata=meta(),
            spec=_k8s(
                {
                    "replicas": app.replicas,
                    "selector": {"matchLabels": selector},
                    "template": {
                        "metadata": {"labels": {**labels, **selector}, "annotations": annotations},
                        "spec": {
                            "automountServiceAccountToken": False,
                            "containers": [
                                {
                                    "name": "app",
                                    "image": app.image,
                                    "ports": [{"containerPort": app.port, "name": "http"}],
                                    "resources": {
                                        "limits": {
                                            "cpu": app.cpu_limit,
                                            "memory": app.memory_limit,
                                        },
                                        "requests": {
                                            "cpu": quota.default_request_cpu,
                                            "memory": quota.default_request_memory,
                                        },
                                    },
                                    "readinessProbe": {
                                        "httpGet": {"path": app.health_path, "port": app.port}
                                    },
                                    "securityContext": {
                                        "allowPrivilegeEscalation": False,
                                        "runAsNonRoot": True,
                                        "readOnlyRootFilesystem": True,
                                    },
                                }
                            ],
                        },
                    },
                }
            ),
            opts=child,
        )
        service = k8s.core.v1.Service(
            f"{name}-svc",
            metadata=meta(),
            spec=_k8s(
                {
                    "selector": selector,
                    "ports": [{"port": SERVICE_PORT, "targetPort": app.port, "name": "http"}],
                }
            ),
            opts=child,
        )
        k8s.autoscaling.v2.HorizontalPodAutoscaler(
            f"{name}-hpa",
            metadata=meta(),
            spec=_k8s(
                {
                    "scaleTargetRef": {
                        "apiVersion": "apps/v1",
                        "kind": "Deployment",
                        "name": deployment.metadata.apply(_name),
                    },
                    "minReplicas": app.replicas,
                    "maxReplicas": app.max_replicas,
                    "metrics": [
                        {
                            "type": "Resource",
                            "resource": {
                                "name": "cpu",
                                "target": {
                                    "type": "Utilization",
                                    "averageUtilization": int(args.fleet.scaling.cpu_percent),
                                },
                            },
                        }
                    ],
                }
            ),
            opts=child,
        )
        self.namespace = namespace
        self.service_url = pulumi.Output.all(service.metadata, namespace).apply(
            lambda v: f"http://{_name(v[0])}.{v[1]}.svc.cluster.local:{SERVICE_PORT}"
        )
        self.register_outputs({"namespace": self.namespace, "service_url": self.service_url})


def _k8s(value: dict[str, Any]) -> Any:
    """A manifest fragment: pulumi_kubernetes' TypedDicts are stricter than literals can say;
    the API server validates the shape."""
    return value


def _name(metadata: Any) -> str:
    return str(metadata["name"] if isinstance(metadata, dict) else metadata.name)
