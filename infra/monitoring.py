"""Monitoring: the environment's performance alarms, its dashboard and the alarm topic."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws.cloudwatch
import pulumi_aws.sns

from perfenv.infra.config import AlarmConfig

PERIOD_S = 60
EVALUATION_PERIODS = 3


@dataclass(frozen=True, kw_only=True)
class MonitoringArgs:
    config: AlarmConfig
    dashboard_name: str  # unique per stack: dashboards have no autonaming
    region: str
    alb_arn_suffix: pulumi.Input[str]
    target_group_arn_suffix: pulumi.Input[str]
    asg_name: pulumi.Input[str]


class Monitoring(pulumi.ComponentResource):
    alarm_topic_arn: pulumi.Output[str]
    alarm_arns: dict[str, pulumi.Output[str]]
    dashboard_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("perfenv:infra:Monitoring", name, None, opts)
        self._prefix = name
        self._child = pulumi.ResourceOptions(parent=self)
        topic = pulumi_aws.sns.Topic(f"{name}-alarms", opts=self._child)
        alarms = self._alarms(args, topic)
        dashboard = self._dashboard(args)
        self.alarm_topic_arn = topic.arn
        self.alarm_arns = {key: alarm.arn for key, alarm in alarms.items()}
        self.dashboard_name = dashboard.dashboard_name
        self.register_outputs(
            {"alarm_topic_arn": self.alarm_topic_arn, "dashboard_name": self.dashboard_name}
        )

    def _alarms(
        self, args: MonitoringArgs, topic: pulumi_aws.sns.Topic
    ) -> dict[str, pulumi_aws.cloudwatch.MetricAlarm]:
        """p95 latency, 5xx rate, unhealthy hosts and fleet CPU, all notifying the topic."""
        actions = [topic.arn]
        common: dict[str, Any] = {
            "evaluation_periods": EVALUATION_PERIODS,
            "treat_missing_data": "notBreaching",
            "alarm_actions": actions,
            "ok_actions": actions,
            "opts": self._child,
        }
        return {
            "p95": self._latency_alarm(args, common),
            "error_rate": self._error_rate_alarm(args, common),
            "unhealthy_hosts": self._unhealthy_hosts_alarm(args, common),
            "fleet_cpu": self._fleet_cpu_alarm(args, common),
        }

    def _latency_alarm(
        self, args: MonitoringArgs, common: dict[str, Any]
    ) -> pulumi_aws.cloudwatch.MetricAlarm:
        cfg = args.config
        return pulumi_aws.cloudwatch.MetricAlarm(
            f"{self._prefix}-p95-latency",
            alarm_description=f"ALB p95 TargetResponseTime above {cfg.p95_ms} ms",
            namespace="AWS/ApplicationELB",
            metric_name="TargetResponseTime",
            dimensions={"LoadBalancer": args.alb_arn_suffix},
            extended_statistic="p95",
            period=PERIOD_S,
            comparison_operator="GreaterThanThreshold",
            threshold=cfg.p95_ms / 1000.0,  # the metric is in seconds
            **common,
        )

    def _error_rate_alarm(
        self, args: MonitoringArgs, common: dict[str, Any]
    ) -> pulumi_aws.cloudwatch.MetricAlarm:
        cfg = args.config
        alb = {"LoadBalancer": args.alb_arn_suffix}
        return pulumi_aws.cloudwatch.MetricAlarm(
            f"{self._prefix}-5xx-rate",
            alarm_description=f"5xx responses above {cfg.error_rate_percent}% of requests",
            comparison_operator="GreaterThanThreshold",
            threshold=cfg.error_rate_percent,
            metric_queries=[
                _metric("errors", "HTTPCode_Target_5XX_Count", alb),
                _metric("elb_errors", "HTTPCode_ELB_5XX_Count", alb),
                _metric("requests", "RequestCount", alb),
                pulumi_aws.cloudwatch.MetricAlarmMetricQueryArgs(
                    id="rate",
                    expression=(
                        "IF(requests > 0, 100 * (FILL(errors, 0) + FILL(elb_errors, 0))"
                        " / requests, 0)"
                    ),
                    label="5xx rate (%)",
                    return_data=True,
                ),
            ],
            **common,
        )

    def _unhealthy_hosts_alarm(
        self, args: MonitoringArgs, common: dict[str, Any]
    ) -> pulumi_aws.cloudwatch.MetricAlarm:
        return pulumi_aws.cloudwatch.MetricAlarm(
            f"{self._prefix}-unhealthy-hosts",
            alarm_description="the target group has unhealthy hosts",
            namespace="AWS/ApplicationELB",
            metric_name="UnHealthyHostCount",
            dimensions={
                "LoadBalancer": args.alb_arn_suffix,
                "TargetGroup": args.target_group_arn_suffix,
            },
            statistic="Maximum",
            period=PERIOD_S,
            comparison_operator="GreaterThanThreshold",
            threshold=0.0,
            **common,
        )

    def _fleet_cpu_alarm(
        self, args: MonitoringArgs, common: dict[str, Any]
    ) -> pulumi_aws.cloudwatch.MetricAlarm:
        cfg = args.config
        return pulumi_aws.cloudwatch.MetricAlarm(
            f"{self._prefix}-fleet-cpu",
            alarm_description=f"fleet CPU above {cfg.cpu_percent}%",
            namespace="AWS/EC2",
            metric_name="CPUUtilization",
            dimensions={"AutoScalingGroupName": args.asg_name},
            statistic="Average",
            period=PERIOD_S,
            comparison_operator="GreaterThanThreshold",
            threshold=cfg.cpu_percent,
            **common,
        )

    def _dashboard(self, args: MonitoringArgs) -> pulumi_aws.cloudwatch.Dashboard:
        return pulumi_aws.cloudwatch.Dashboard(
            f"{self._prefix}-dashboard",
            dashboard_name=args.dashboard_name,
            dashboard_body=pulumi.Output.all(
                args.alb_arn_suffix, args.target_group_arn_suffix, args.asg_name
            ).apply(
                lambda v: _dashboard_body(args.region, args.config, str(v[0]), str(v[1]), str(v[2]))
            ),
            opts=self._child,
        )


def _metric(
    id_: str, metric_name: str, dimensions: dict[str, pulumi.Input[str]]
) -> pulumi_aws.cloudwatch.MetricAlarmMetricQueryArgs:
    return pulumi_aws.cloudwatch.MetricAlarmMetricQueryArgs(
        id=id_,
        metric=pulumi_aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
            namespace="AWS/ApplicationELB",
            metric_name=metric_name,
            dimensions=dimensions,
            period=PERIOD_S,
            stat="Sum",
        ),
    )


def _dashboard_body(region: str, cfg: AlarmConfig, alb: str, tg: str, asg: str) -> str:
    def widget(title: str, metrics: list[list[Any]], stat: str, y: int, x: int) -> dict[str, Any]:
        return {
            "type": "metric",
            "x": x,
            "y": y,
            "width": 12,
            "height": 6,
            "properties": {
                "title": title,
                "region": region,
                "stat": stat,
                "period": PERIOD_S,
                "metrics": metrics,
            },
        }

    elb = "AWS/ApplicationELB"
    body = {
        "widgets": [
            widget(
                f"p95 latency (alarm at {cfg.p95_ms} ms)",
                [[elb, "TargetResponseTime", "LoadBalancer", alb]],
                "p95",
                0,
                0,
            ),
            widget(
                "requests and 5xx",
                [
                    [elb, "RequestCount", "LoadBalancer", alb],
                    [elb, "HTTPCode_Target_5XX_Count", "LoadBalancer", alb],
                ],
                "Sum",
                0,
                12,
            ),
            widget(
                "healthy / unhealthy hosts",
                [
                    [elb, "HealthyHostCount", "LoadBalancer", alb, "TargetGroup", tg],
                    [elb, "UnHealthyHostCount", "LoadBalancer", alb, "TargetGroup", tg],
                ],
                "Maximum",
                6,
                0,
            ),
            widget(
                f"fleet CPU (alarm at {cfg.cpu_percent}%)",
                [["AWS/EC2", "CPUUtilization", "AutoScalingGroupName", asg]],
                "Average",
                6,
                12,
            ),
        ]
    }
    return json.dumps(body)
