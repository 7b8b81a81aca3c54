"""CostGuardrails: the account's budgets, billing alarm, anomaly detection and their topic.

Built only by the cost stack. Each environment's budget comes from that environment's own stack
file and is filtered by its `perfenv:environment` cost-allocation tag, so every ephemeral perf
run counts against the perf budget while ephemeral stacks themselves create no budget.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws.budgets
import pulumi_aws.cloudwatch
import pulumi_aws.costexplorer
import pulumi_aws.sns

from perfenv.infra.config import CostConfig, StackFile
from perfenv.infra.tags import tag_key

BILLING_PERIOD_S = 21600  # EstimatedCharges has data a few times a day
ALWAYS_NOTIFY_ACTUAL = (80.0, 100.0)
FORECAST_NOTIFY = 100.0
NOTIFYING_SERVICES = ("budgets.amazonaws.com", "costalerts.amazonaws.com")


@dataclass(frozen=True, kw_only=True)
class CostGuardrailsArgs:
    config: CostConfig
    environments: list[StackFile]  # every environment stack file: one budget each
    billing_provider: pulumi.ProviderResource  # us-east-1: the only home of billing metrics


def budget_filter(environment: str) -> str:
    """The cost filter value that selects one environment's tagged spend."""
    return f"user:{tag_key('environment')}${environment}"


def budget_notifications(
    thresholds: list[float], emails: list[str], topic_arn: pulumi.Input[str]
) -> list[pulumi_aws.budgets.BudgetNotificationArgs]:
    """ACTUAL at every configured threshold (always incl. 80 and 100), FORECASTED at 100."""
    actual = sorted(set(thresholds) | set(ALWAYS_NOTIFY_ACTUAL))
    plan = [("ACTUAL", t) for t in actual] + [("FORECASTED", FORECAST_NOTIFY)]
    return [
        pulumi_aws.budgets.BudgetNotificationArgs(
            notification_type=kind,
            comparison_operator="GREATER_THAN",
            threshold=threshold,
            threshold_type="PERCENTAGE",
            subscriber_email_addresses=emails,
            subscriber_sns_topic_arns=[topic_arn],
        )
        for kind, threshold in plan
    ]


class CostGuardrails(pulumi.ComponentResource):
    topic_arn: pulumi.Output[str]
    budget_names: pulumi.Output[dict[str, str]]
    billing_alarm_arn: pulumi.Output[str]
    anomaly_monitor_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: CostGuardrailsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("perfenv:infra:CostGuardrails", name, None, opts)
        self._prefix = name
        self._child = pulumi.ResourceOptions(parent=self)
        # In us-east-1 with the billing alarm, which can only notify a topic in its own region.
        self._billing = pulumi.ResourceOptions(parent=self, provider=args.billing_provider)
        topic = self._topic()
        budgets = self._budgets(args, topic)
        alarm = self._billing_alarm(args.config, topic)
        monitor = self._anomaly_detection(args.config, topic)
        self._cost_allocation_tags(args.config)
        self.topic_arn = topic.arn
        self.budget_names = pulumi.Output.all(
            **{stack: budget.name for stack, budget in budgets.items()}
        )
        self.billing_alarm_arn = alarm.arn
        self.anomaly_monitor_arn = monitor.arn
        self.register_outputs(
            {
                "topic_arn": self.topic_arn,
                "budget_names": self.budget_names,
                "billing_alarm_arn": self.billing_alarm_arn,
                "anomaly_monitor_arn": self.anomaly_monitor_arn,
            }
        )

    def _topic(self) -> pulumi_aws.sns.Topic:
        """The alerts topic, which the budget and cost anomaly services may publish to."""
        topic = pulumi_aws.sns.Topic(f"{self._prefix}-alerts", opts=self._billing)
        pulumi_aws.sns.TopicPolicy(
            f"{self._prefix}-alerts-policy",
            arn=topic.arn,
            policy=topic.arn.apply(_topic_policy),
            opts=self._billing,
        )
        return topic

    def _budgets(
        self, args: CostGuardrailsArgs, topic: pulumi_aws.sns.Topic
    ) -> dict[str, pulumi_aws.budgets.Budget]:
        """One monthly budget per environment stack file, filtered by its environment tag."""
        budgets = {}
        for stack in args.environments:
            env = stack.environment
            assert env is not None
            budgets[stack.stack] = pulumi_aws.budgets.Budget(
                f"{self._prefix}-budget-{stack.stack}",
                budget_type="COST",
                time_unit="MONTHLY",
                limit_amount=f"{env.budgets.monthly_usd:.2f}",
                limit_unit="USD",
                cost_filters=[
                    pulumi_aws.budgets.BudgetCostFilterArgs(
                        name="TagKeyValue", values=[budget_filter(env.name)]
                    )
                ],
                notifications=budget_notifications(
                    env.budgets.thresholds,
                    sorted(set(env.budgets.subscribers) | set(args.config.subscribers)),
                    topic.arn,
                ),
                opts=self._child,
            )
        return budgets

    def _billing_alarm(
        self, cfg: CostConfig, topic: pulumi_aws.sns.Topic
    ) -> pulumi_aws.cloudwatch.MetricAlarm:
        """The account's month-to-date charges (us-east-1 only, no tag filter)."""
        return pulumi_aws.cloudwatch.MetricAlarm(
            f"{self._prefix}-estimated-charges",
            alarm_description=(
                f"account month-to-date charges above {cfg.billing_alarm.threshold_usd} USD"
            ),
            namespace="AWS/Billing",
            metric_name="EstimatedCharges",
            dimensions={"Currency": "USD"},
            statistic="Maximum",
            period=BILLING_PERIOD_S,
            evaluation_periods=1,
            comparison_operator="GreaterThanThreshold",
            threshold=cfg.billing_alarm.threshold_usd,
            treat_missing_data="missing",
            alarm_actions=[topic.arn],
            opts=self._billing,
        )

    def _anomaly_detection(
        self, cfg: CostConfig, topic: pulumi_aws.sns.Topic
    ) -> pulumi_aws.costexplorer.AnomalyMonitor:
        """A per-service anomaly monitor and its subscription."""
        monitor = pulumi_aws.costexplorer.AnomalyMonitor(
            f"{self._prefix}-anomaly-monitor",
            monitor_type="DIMENSIONAL",
            monitor_dimension="SERVICE",
            opts=self._child,
        )
        # IMMEDIATE alerts go to SNS only; daily and weekly digests go to email.
        subscribers = (
            [
                pulumi_aws.costexplorer.AnomalySubscriptionSubscriberArgs(
                    type="SNS", address=topic.arn
                )
            ]
            if cfg.anomaly.frequency == "IMMEDIATE"
            else [
                pulumi_aws.costexplorer.AnomalySubscriptionSubscriberArgs(type="EMAIL", address=a)
                for a in cfg.subscribers
            ]
        )
        pulumi_aws.costexplorer.AnomalySubscription(
            f"{self._prefix}-anomaly-subscription",
            frequency=cfg.anomaly.frequency,
            monitor_arn_lists=[monitor.arn],
            subscribers=subscribers,
            threshold_expression=pulumi_aws.costexplorer.AnomalySubscriptionThresholdExpressionArgs(
                dimension=pulumi_aws.costexplorer.AnomalySubscriptionThresholdExpressionDimensionArgs(
                    key="ANOMALY_TOTAL_IMPACT_ABSOLUTE",
                    match_options=["GREATER_THAN_OR_EQUAL"],
                    values=[f"{cfg.anomaly.threshold_usd:g}"],
                )
            ),
            opts=self._child,
        )
        return monitor

    def _cost_allocation_tags(self, cfg: CostConfig) -> None:
        for key in cfg.cost_allocation_tags:
            pulumi_aws.costexplorer.CostAllocationTag(
                f"{self._prefix}-tag-{key.replace(':', '-')}",
                tag_key=key,
                status="Active",
                opts=self._child,
            )


def _topic_policy(topic_arn: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AllowCostServicesPublish",
                    "Effect": "Allow",
                    "Principal": {"Service": list(NOTIFYING_SERVICES)},
                    "Action": "SNS:Publish",
                    "Resource": topic_arn,
                }
            ],
        }
    )
