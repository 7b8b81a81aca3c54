"""Environment: one dev, staging or perf environment, composed from the components."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from perfenv.infra.config import EnvironmentConfig
from perfenv.infra.fleet import Fleet, FleetArgs
from perfenv.infra.kubernetes import KubernetesApp, KubernetesAppArgs
from perfenv.infra.load_balancer import LoadBalancer, LoadBalancerArgs
from perfenv.infra.monitoring import Monitoring, MonitoringArgs
from perfenv.infra.network import Network, NetworkArgs
from perfenv.infra.tags import Tags


@dataclass(frozen=True, kw_only=True)
class EnvironmentArgs:
    config: EnvironmentConfig
    tags: Tags
    kubeconfig: str | None = None


class Environment(pulumi.ComponentResource):
    service_url: pulumi.Output[str]
    vpc_id: pulumi.Output[str]
    asg_name: pulumi.Output[str]
    alb_arn: pulumi.Output[str]
    alarm_topic_arn: pulumi.Output[str]
    namespace: pulumi.Output[str | None]

    def __init__(
        self, name: str, args: EnvironmentArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("perfenv:infra:Environment", name, None, opts)
        self._prefix = name
        self._child = pulumi.ResourceOptions(parent=self)
        cfg = args.config
        network = self._network(cfg)
        lb = self._load_balancer(cfg, network)
        fleet = self._fleet(args, network, lb)
        monitoring = self._monitoring(args, lb, fleet)
        service_url = lb.url
        namespace: pulumi.Output[str | None] = pulumi.Output.from_input(None)
        if cfg.kubernetes.enabled:
            k8s = self._kubernetes(args)
            namespace = k8s.namespace
            # `app.platform` picks the fleet that serves the app (config guarantees that a
            # kubernetes platform has kubernetes enabled).
            service_url = {"ec2": lb.url, "kubernetes": k8s.service_url}[cfg.app.platform]
        self.service_url = service_url
        self.vpc_id = network.vpc_id
        self.asg_name = fleet.asg_name
        self.alb_arn = lb.arn
        self.alarm_topic_arn = monitoring.alarm_topic_arn
        self.namespace = namespace
        self.register_outputs(
            {
                "service_url": self.service_url,
                "vpc_id": self.vpc_id,
                "asg_name": self.asg_name,
                "alb_arn": self.alb_arn,
                "alarm_topic_arn": self.alarm_topic_arn,
                "namespace": self.namespace,
            }
        )

    def _network(self, cfg: EnvironmentConfig) -> Network:
        return Network(
            f"{self._prefix}-net",
            NetworkArgs(
                config=cfg.network,
                app_port=cfg.app.port,
                ingress_cidrs=cfg.load_balancer.ingress_cidrs,
            ),
            self._child,
        )

    def _load_balancer(self, cfg: EnvironmentConfig, network: Network) -> LoadBalancer:
        return LoadBalancer(
            f"{self._prefix}-lb",
            LoadBalancerArgs(
                config=cfg.load_balancer,
                app=cfg.app,
                vpc_id=network.vpc_id,
                subnet_ids=list(network.public_subnet_ids),
                security_group_id=network.lb_security_group_id,
            ),
            self._child,
        )

    def _fleet(self, args: EnvironmentArgs, network: Network, lb: LoadBalancer) -> Fleet:
        return Fleet(
            f"{self._prefix}-fleet",
            FleetArgs(
                config=args.config.fleet,
                app=args.config.app,
                tags=args.tags.aws,
                subnet_ids=list(network.private_subnet_ids),
                security_group_id=network.app_security_group_id,
                target_group_arn=lb.target_group_arn,
                request_count_label=pulumi.Output.concat(
                    lb.arn_suffix, "/", lb.target_group_arn_suffix
                ),
            ),
            self._child,
        )

    def _monitoring(self, args: EnvironmentArgs, lb: LoadBalancer, fleet: Fleet) -> Monitoring:
        return Monitoring(
            f"{self._prefix}-mon",
            MonitoringArgs(
                config=args.config.alarms,
                dashboard_name=f"perfenv-{args.tags.stack}",
                region=args.config.region,
                alb_arn_suffix=lb.arn_suffix,
                target_group_arn_suffix=lb.target_group_arn_suffix,
                asg_name=fleet.asg_name,
            ),
            self._child,
        )

    def _kubernetes(self, args: EnvironmentArgs) -> KubernetesApp:
        cfg = args.config
        return KubernetesApp(
            f"{self._prefix}-k8s",
            KubernetesAppArgs(
                config=cfg.kubernetes,
                quotas=cfg.quotas,
                app=cfg.app,
                fleet=cfg.fleet,
                tags=args.tags,
                kubeconfig=args.kubeconfig,
            ),
            self._child,
        )
