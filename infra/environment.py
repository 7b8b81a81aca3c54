"""Environment: one dev, staging or perf environment, composed from the components."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from perfenv.infra import delivery
from perfenv.infra.config import ArtifactConfig, EnvironmentConfig
from perfenv.infra.fleet import Fleet, FleetArgs
from perfenv.infra.instance_role import InstanceRole, InstanceRoleArgs
from perfenv.infra.kube_access import KubeAccess
from perfenv.infra.kubernetes import KubernetesApp, KubernetesAppArgs
from perfenv.infra.load_balancer import LoadBalancer, LoadBalancerArgs
from perfenv.infra.load_generator import LoadGenerator, LoadGeneratorArgs
from perfenv.infra.monitoring import Monitoring, MonitoringArgs
from perfenv.infra.network import Network, NetworkArgs
from perfenv.infra.tags import Tags


@dataclass(frozen=True, kw_only=True)
class EnvironmentArgs:
    config: EnvironmentConfig
    tags: Tags
    kube: KubeAccess = KubeAccess()


class Environment(pulumi.ComponentResource):
    service_url: pulumi.Output[str]
    vpc_id: pulumi.Output[str]
    asg_name: pulumi.Output[str]
    alb_arn: pulumi.Output[str]
    alarm_topic_arn: pulumi.Output[str]
    namespace: pulumi.Output[str | None]
    generator_master_group: pulumi.Output[str]
    generator_workers_group: pulumi.Output[str]

    def __init__(
        self, name: str, args: EnvironmentArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("perfenv:infra:Environment", name, None, opts)
        self._prefix = name
        self._child = pulumi.ResourceOptions(parent=self)
        cfg = args.config
        self._invoke = pulumi.InvokeOutputOptions(parent=self)
        self._image_id = delivery.machine_image(cfg.app, self._invoke)
        network = self._network(cfg)
        lb = self._load_balancer(cfg, network)
        fleet = self._fleet(args, network, lb)
        monitoring = self._monitoring(args, lb, fleet)
        generator = self._load_generator(args, network)
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
        self.generator_master_group = generator.master_group_name
        self.generator_workers_group = generator.workers_group_name
        self.register_outputs(
            {
                "service_url": self.service_url,
                "vpc_id": self.vpc_id,
                "asg_name": self.asg_name,
                "alb_arn": self.alb_arn,
                "alarm_topic_arn": self.alarm_topic_arn,
                "namespace": self.namespace,
                "generator_master_group": self.generator_master_group,
                "generator_workers_group": self.generator_workers_group,
            }
        )

    def _network(self, cfg: EnvironmentConfig) -> Network:
        return Network(
            f"{self._prefix}-net",
            NetworkArgs(
                config=cfg.network,
                region=cfg.region,
                app_port=cfg.app.port,
                ingress_cidrs=cfg.load_balancer.ingress_cidrs,
                interface_endpoints=cfg.interface_endpoints,
            ),
            self._child,
        )

    def _load_balancer(self, cfg: EnvironmentConfig, network: Network) -> LoadBalancer:
        return LoadBalancer(
            f"{self._prefix}-lb",
            LoadBalancerArgs(
                config=cfg.load_balancer,
                app=cfg.app,
                internal=not cfg.network.internet_facing,
                vpc_id=network.vpc_id,
                subnet_ids=list(
                    network.public_subnet_ids
                    if cfg.network.internet_facing
                    else network.private_subnet_ids
                ),
                security_group_id=network.lb_security_group_id,
            ),
            self._child,
        )

    def _delivery(
        self, name: str, args: EnvironmentArgs, artifact: ArtifactConfig, *, start: bool
    ) -> tuple[pulumi.Output[str], InstanceRole]:
        """The user data (base64) that installs `artifact`, and the role that may fetch it."""
        cfg = args.config
        uri = delivery.artifact_uri(artifact, cfg.region, self._invoke)
        user_data = uri.apply(
            lambda resolved: delivery.encode_user_data(
                delivery.render_user_data(
                    artifact,
                    resolved,
                    region=cfg.region,
                    port=cfg.app.port,
                    health_path=cfg.app.health_path,
                    start=start,
                )
            )
        )
        exchange = [] if start else [args.tags.run.exchange_prefix(args.tags.stack)]
        role = InstanceRole(
            name,
            InstanceRoleArgs(
                region=cfg.region,
                artifact_kind=artifact.kind,
                artifact_uri=uri,
                exchange=[prefix for prefix in exchange if prefix is not None],
            ),
            self._child,
        )
        return user_data, role

    def _fleet(self, args: EnvironmentArgs, network: Network, lb: LoadBalancer) -> Fleet:
        user_data, role = self._delivery(
            f"{self._prefix}-app-role", args, args.config.app.artifact, start=True
        )
        return Fleet(
            f"{self._prefix}-fleet",
            FleetArgs(
                config=args.config.fleet,
                tags=args.tags.aws,
                machine_image=args.config.app.machine_image,
                image_id=self._image_id,
                user_data=user_data,
                instance_profile_arn=role.profile_arn,
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

    def _load_generator(self, args: EnvironmentArgs, network: Network) -> LoadGenerator:
        """Same machine image, same delivery path, perfenv's runtime as the artifact."""
        user_data, role = self._delivery(
            f"{self._prefix}-lg-role", args, ArtifactConfig(), start=False
        )
        return LoadGenerator(
            f"{self._prefix}-lg",
            LoadGeneratorArgs(
                config=args.config.load_generator,
                tags=args.tags.aws,
                machine_image=args.config.app.machine_image,
                image_id=self._image_id,
                user_data=user_data,
                instance_profile_arn=role.profile_arn,
                vpc_id=network.vpc_id,
                subnet_ids=list(network.private_subnet_ids),
                egress=network.instance_egress,
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
                access=args.kube,
            ),
            self._child,
        )
