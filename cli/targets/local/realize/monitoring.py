"""CloudWatch alarms and dashboards, CloudWatch Logs log groups, SNS topics and policies."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from perfenv.cli.targets.local.realize.base import (
    ACCOUNT,
    Ctx,
    Inputs,
    Outputs,
    as_list,
    compact,
    ignore_gone,
    json_text,
    physical_name,
    register,
    tag_list,
    to_int,
    with_outputs,
)


def _metric_queries(queries: list[Any]) -> list[dict[str, Any]]:
    out = []
    for query in queries:
        metric = query.get("metric")
        stat = None
        if metric:
            stat = compact(
                Metric=compact(
                    Namespace=metric.get("namespace"),
                    MetricName=metric.get("metricName"),
                    Dimensions=[
                        {"Name": k, "Value": str(v)}
                        for k, v in (metric.get("dimensions") or {}).items()
                    ],
                ),
                Period=to_int(metric.get("period")),
                Stat=metric.get("stat"),
                Unit=metric.get("unit"),
            )
        out.append(
            compact(
                Id=query.get("id"),
                Expression=query.get("expression"),
                Label=query.get("label"),
                ReturnData=query.get("returnData"),
                MetricStat=stat,
            )
        )
    return out


def create_metric_alarm(ctx: Ctx, inputs: Inputs) -> tuple[str, Outputs]:
    name = physical_name(ctx, inputs, limit=255, prefix_key=None)
    cloudwatch = ctx.client("cloudwatch")
    threshold = inputs.get("threshold")
    cloudwatch.put_metric_alarm(
        **compact(
            AlarmName=name,
            AlarmDescription=inputs.get("alarmDescription"),
            ActionsEnabled=inputs.get("actionsEnabled"),
            AlarmActions=as_list(inputs.get("alarmActions")),
            OKActions=as_list(inputs.get("okActions")),
            InsufficientDataActions=as_list(inputs.get("insufficientDataActions")),
            MetricName=inputs.get("metricName"),
            Namespace=inputs.get("namespace"),
            Statistic=inputs.get("statistic"),
            ExtendedStatistic=inputs.get("extendedStatistic"),
            Dimensions=[
                {"Name": k, "Value": str(v)} for k, v in (inputs.get("dimensions") or {}).items()
            ],
            Period=to_int(inputs.get("period")),
            Unit=inputs.get("unit"),
            EvaluationPeriods=to_int(inputs.get("evaluationPeriods"), 1),
            DatapointsToAlarm=to_int(inputs.get("datapointsToAlarm")),
            Threshold=float(threshold) if threshold is not None else None,
            ComparisonOperator=inputs.get("comparisonOperator"),
            TreatMissingData=inputs.get("treatMissingData"),
            EvaluateLowSampleCountPercentile=inputs.get("evaluateLowSampleCountPercentile"),
            Metrics=_metric_queries(as_list(inputs.get("metricQueries"))),
            ThresholdMetricId=inputs.get("thresholdMetricId"),
            Tags=tag_list(ctx.tags),
        )
    )
    arn = f"arn:aws:cloudwatch:{ctx.region}:{ACCOUNT}:alarm:{name}"
    return name, with_outputs(inputs, ctx, id=name, name=name, arn=arn)


def delete_metric_alarm(ctx: Ctx, id_: str, state: Mapping[str, Any]) -> None:
    ignore_gone(lambda: ctx.client("cloudwatch").delete_alarms(AlarmNames=[id_]))


def create_dashboard(ctx: Ctx, inputs: Inputs) -> tuple[str, Outputs]:
    name = physical_name(ctx, inputs, limit=255, key="dashboardName", prefix_key=None)
    ctx.client("cloudwatch").put_dashboard(
        DashboardName=name, DashboardBody=json_text(inputs.get("dashboardBody") or "{}")
    )
    arn = f"arn:aws:cloudwatch::{ACCOUNT}:dashboard/{name}"
    return name, with_outputs(inputs, ctx, id=name, dashboardName=name, dashboardArn=arn)


def delete_dashboard(ctx: Ctx, id_: str, state: Mapping[str, Any]) -> None:
    ignore_gone(lambda: ctx.client("cloudwatch").delete_dashboards(DashboardNames=[id_]))


def create_log_group(ctx: Ctx, inputs: Inputs) -> tuple[str, Outputs]:
    name = physical_name(ctx, inputs, limit=512)
    logs = ctx.client("logs")
    logs.create_log_group(
        **compact(logGroupName=name, kmsKeyId=inputs.get("kmsKeyId"), tags=dict(ctx.tags))
    )
    retention = to_int(inputs.get("retentionInDays"))
    if retention:
        logs.put_retention_policy(logGroupName=name, retentionInDays=retention)
    arn = f"arn:aws:logs:{ctx.region}:{ACCOUNT}:log-group:{name}"
    return name, with_outputs(inputs, ctx, id=name, name=name, arn=arn)


def delete_log_group(ctx: Ctx, id_: str, state: Mapping[str, Any]) -> None:
    ignore_gone(lambda: ctx.client("logs").delete_log_group(logGroupName=id_))


def create_topic(ctx: Ctx, inputs: Inputs) -> tuple[str, Outputs]:
    fifo = bool(inputs.get("fifoTopic"))
    name = physical_name(ctx, inputs, limit=256 - (5 if fifo else 0))
    if fifo and not name.endswith(".fifo"):
        name += ".fifo"
    attributes = compact(
        DisplayName=inputs.get("displayName"),
        KmsMasterKeyId=inputs.get("kmsMasterKeyId"),
        Policy=json_text(inputs["policy"]) if inputs.get("policy") else None,
        FifoTopic="true" if fifo else None,
    )
    arn = ctx.client("sns").create_topic(
        **compact(Name=name, Attributes=attributes, Tags=tag_list(ctx.tags))
    )["TopicArn"]
    return arn, with_outputs(inputs, ctx, id=arn, arn=arn, name=name, owner=ACCOUNT)


def delete_topic(ctx: Ctx, id_: str, state: Mapping[str, Any]) -> None:
    ignore_gone(lambda: ctx.client("sns").delete_topic(TopicArn=id_))


def create_topic_policy(ctx: Ctx, inputs: Inputs) -> tuple[str, Outputs]:
    arn = inputs["arn"]
    ctx.client("sns").set_topic_attributes(
        TopicArn=arn, AttributeName="Policy", AttributeValue=json_text(inputs["policy"])
    )
    return arn, with_outputs(inputs, ctx, id=arn, owner=ACCOUNT)


def delete_topic_policy(ctx: Ctx, id_: str, state: Mapping[str, Any]) -> None:
    # The topic goes right after (it depends on nothing else); its policy goes with it.
    return None


def create_topic_subscription(ctx: Ctx, inputs: Inputs) -> tuple[str, Outputs]:
    arn = ctx.client("sns").subscribe(
        TopicArn=inputs["topicArn"],
        Protocol=inputs["protocol"],
        Endpoint=inputs["endpoint"],
        ReturnSubscriptionArn=True,
    )["SubscriptionArn"]
    return arn, with_outputs(inputs, ctx, id=arn, arn=arn)


def delete_topic_subscription(ctx: Ctx, id_: str, state: Mapping[str, Any]) -> None:
    ignore_gone(lambda: ctx.client("sns").unsubscribe(SubscriptionArn=id_))


register(create_metric_alarm, delete_metric_alarm, "aws:cloudwatch/metricAlarm:MetricAlarm")
register(create_dashboard, delete_dashboard, "aws:cloudwatch/dashboard:Dashboard", taggable=False)
register(create_log_group, delete_log_group, "aws:cloudwatch/logGroup:LogGroup")
register(create_topic, delete_topic, "aws:sns/topic:Topic")
register(
    create_topic_policy, delete_topic_policy, "aws:sns/topicPolicy:TopicPolicy", taggable=False
)
register(
    create_topic_subscription,
    delete_topic_subscription,
    "aws:sns/topicSubscription:TopicSubscription",
    taggable=False,
)
