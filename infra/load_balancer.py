"""LoadBalancer: the ALB, its target group and listeners.

Internet-facing in the public subnets, or internal in the private ones (an isolated network):
then only what runs in the VPC (the load generator) reaches it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws.lb

from perfenv.infra.config import AppConfig, LoadBalancerConfig

HTTP_PORT = 80
HTTPS_PORT = 443
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"


@dataclass(frozen=True, kw_only=True)
class LoadBalancerArgs:
    config: LoadBalancerConfig
    app: AppConfig
    internal: bool
    vpc_id: pulumi.Input[str]
    subnet_ids: list[pulumi.Input[str]]
    security_group_id: pulumi.Input[str]


class LoadBalancer(pulumi.ComponentResource):
    arn: pulumi.Output[str]
    arn_suffix: pulumi.Output[str]
    dns_name: pulumi.Output[str]
    target_group_arn: pulumi.Output[str]
    target_group_arn_suffix: pulumi.Output[str]
    url: pulumi.Output[str]

    def __init__(
        self, name: str, args: LoadBalancerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("perfenv:infra:LoadBalancer", name, None, opts)
        self._prefix = name
        self._child = pulumi.ResourceOptions(parent=self)
        alb = self._balancer(args)
        target_group = self._target_group(args)
        self._listeners(args.config, alb, target_group)
        scheme = "http" if args.config.certificate_arn is None else "https"
        self.arn = alb.arn
        self.arn_suffix = alb.arn_suffix
        self.dns_name = alb.dns_name
        self.target_group_arn = target_group.arn
        self.target_group_arn_suffix = target_group.arn_suffix
        self.url = alb.dns_name.apply(lambda dns: f"{scheme}://{dns}")
        self.register_outputs(
            {
                "arn": self.arn,
                "dns_name": self.dns_name,
                "target_group_arn": self.target_group_arn,
                "url": self.url,
            }
        )

    def _balancer(self, args: LoadBalancerArgs) -> pulumi_aws.lb.LoadBalancer:
        return pulumi_aws.lb.LoadBalancer(
            f"{self._prefix}-alb",
            load_balancer_type="application",
            internal=args.internal,
            subnets=args.subnet_ids,
            security_groups=[args.security_group_id],
            idle_timeout=args.config.idle_timeout_s,
            enable_deletion_protection=args.config.deletion_protection,
            drop_invalid_header_fields=True,
            opts=self._child,
        )

    def _target_group(self, args: LoadBalancerArgs) -> pulumi_aws.lb.TargetGroup:
        """The app's port, health-checked on its health path."""
        return pulumi_aws.lb.TargetGroup(
            f"{self._prefix}-tg",
            port=args.app.port,
            protocol="HTTP",
            target_type="instance",
            vpc_id=args.vpc_id,
            deregistration_delay=30,
            health_check=pulumi_aws.lb.TargetGroupHealthCheckArgs(
                path=args.app.health_path,
                port="traffic-port",
                protocol="HTTP",
                matcher="200",
                interval=15,
                healthy_threshold=2,
                unhealthy_threshold=3,
            ),
            opts=self._child,
        )

    def _listeners(
        self,
        cfg: LoadBalancerConfig,
        alb: pulumi_aws.lb.LoadBalancer,
        target_group: pulumi_aws.lb.TargetGroup,
    ) -> None:
        """HTTP forwards; with a certificate, HTTPS forwards and plain HTTP only redirects."""
        forward = pulumi_aws.lb.ListenerDefaultActionArgs(
            type="forward", target_group_arn=target_group.arn
        )
        http_action = (
            forward
            if cfg.certificate_arn is None
            else pulumi_aws.lb.ListenerDefaultActionArgs(
                type="redirect",
                redirect=pulumi_aws.lb.ListenerDefaultActionRedirectArgs(
                    port=str(HTTPS_PORT), protocol="HTTPS", status_code="HTTP_301"
                ),
            )
        )
        pulumi_aws.lb.Listener(
            f"{self._prefix}-http",
            load_balancer_arn=alb.arn,
            port=HTTP_PORT,
            protocol="HTTP",
            default_actions=[http_action],
            opts=self._child,
        )
        if cfg.certificate_arn is not None:
            pulumi_aws.lb.Listener(
                f"{self._prefix}-https",
                load_balancer_arn=alb.arn,
                port=HTTPS_PORT,
                protocol="HTTPS",
                ssl_policy=TLS_POLICY,
                certificate_arn=cfg.certificate_arn,
                default_actions=[forward],
                opts=self._child,
            )
