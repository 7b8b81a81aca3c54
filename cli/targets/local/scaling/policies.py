"""Target tracking scaling policies, and the CloudWatch alarms EC2 Auto Scaling creates for them.

For each policy AWS creates and owns two alarms on the policy's metric: `AlarmHigh` (the metric
above the target for 3 of 3 datapoints) that scales out, and `AlarmLow` (below 90% of the
target for 15 of 15) that scales in, so a group scales out fast and in gradually. Both treat
missing data as missing: no data, no scaling. The period is the metric's (60 s on AWS by
default; 10 or 30 s for high-resolution metrics, as the local target's compressed period).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from perfenv.cli.targets.local.alarms.model import MetricStat, Unsupported

# Predefined metric type -> (namespace, metric, statistic); the dimension follows the type.
PREDEFINED = {
    "ASGAverageCPUUtilization": ("AWS/EC2", "CPUUtilization", "Average"),
    "ASGAverageNetworkIn": ("AWS/EC2", "NetworkIn", "Average"),
    "ASGAverageNetworkOut": ("AWS/EC2", "NetworkOut", "Average"),
    "ALBRequestCountPerTarget": ("AWS/ApplicationELB", "RequestCountPerTarget", "Sum"),
}
HIGH_PERIODS = 3  # "3 datapoints within 3 minutes"
LOW_PERIODS = 15  # "15 datapoints within 15 minutes"
LOW_SHARE = 0.9  # scale in only once the metric is more than 10% below the target


@dataclass(frozen=True)
class TargetTracking:
    group: str
    name: str
    arn: str
    metric: MetricStat
    target: float
    scale_in: bool = True
    warmup_s: int | None = None  # EstimatedInstanceWarmup, when the policy sets one

    @property
    def alarm_names(self) -> tuple[str, str]:
        """(AlarmHigh, AlarmLow) names, stable for one policy ARN."""
        high = uuid.uuid5(uuid.NAMESPACE_URL, f"{self.arn}/high")
        low = uuid.uuid5(uuid.NAMESPACE_URL, f"{self.arn}/low")
        return (
            f"TargetTracking-{self.group}-AlarmHigh-{high}",
            f"TargetTracking-{self.group}-AlarmLow-{low}",
        )

    def alarms(self) -> list[dict[str, Any]]:
        """PutMetricAlarm requests for the two alarms, as AWS configures them."""
        high, low = self.alarm_names
        common: dict[str, Any] = {
            "AlarmDescription": (
                f"DO NOT EDIT OR DELETE. For TargetTrackingScaling policy {self.arn}."
            ),
            "ActionsEnabled": True,
            "AlarmActions": [self.arn],
            "Namespace": self.metric.namespace,
            "MetricName": self.metric.name,
            "Dimensions": [{"Name": k, "Value": v} for k, v in self.metric.dimensions],
            "Statistic": self.metric.stat,
            "Period": self.metric.period,
            "TreatMissingData": "missing",
        }
        requests = [
            {
                **common,
                "AlarmName": high,
                "EvaluationPeriods": HIGH_PERIODS,
                "DatapointsToAlarm": HIGH_PERIODS,
                "Threshold": self.target,
                "ComparisonOperator": "GreaterThanThreshold",
            }
        ]
        if self.scale_in:
            requests.append(
                {
                    **common,
                    "AlarmName": low,
                    "EvaluationPeriods": LOW_PERIODS,
                    "DatapointsToAlarm": LOW_PERIODS,
                    "Threshold": round(self.target * LOW_SHARE, 6),
                    "ComparisonOperator": "LessThanThreshold",
                }
            )
        return requests

    @classmethod
    def from_aws(cls, policy: Mapping[str, Any], period: int) -> TargetTracking:
        """A policy from DescribePolicies; Unsupported for other policy types or metrics."""
        name = str(policy["PolicyName"])
        kind = policy.get("PolicyType") or "SimpleScaling"
        if kind != "TargetTrackingScaling":
            raise Unsupported(f"scaling policy {name}: {kind} policies are not executed locally")
        config = policy.get("TargetTrackingConfiguration") or {}
        group = str(policy["AutoScalingGroupName"])
        arn = str(policy.get("PolicyARN") or _policy_arn(policy, group, name))
        warmup = policy.get("EstimatedInstanceWarmup")
        return cls(
            group=group,
            name=name,
            arn=arn,
            metric=_metric(name, group, config, period),
            target=float(config["TargetValue"]),
            scale_in=not config.get("DisableScaleIn", False),
            warmup_s=int(warmup) if warmup is not None else None,
        )


def _policy_arn(policy: Mapping[str, Any], group: str, name: str) -> str:
    # moto answers no PolicyARN (docs/design.md#emulator-gaps-and-answers): make the one AWS
    # would, stable per group and name.
    region = str(policy.get("Region") or "eu-west-1")
    account = str(policy.get("Account") or "123456789012")
    policy_id = uuid.uuid5(uuid.NAMESPACE_URL, f"{region}/{group}/{name}")
    return (
        f"arn:aws:autoscaling:{region}:{account}:scalingPolicy:{policy_id}:"
        f"autoScalingGroupName/{group}:policyName/{name}"
    )


def _metric(name: str, group: str, config: Mapping[str, Any], period: int) -> MetricStat:
    predefined = config.get("PredefinedMetricSpecification")
    if predefined:
        kind = str(predefined["PredefinedMetricType"])
        if kind not in PREDEFINED:
            raise Unsupported(f"scaling policy {name}: predefined metric {kind}")
        namespace, metric, stat = PREDEFINED[kind]
        if kind == "ALBRequestCountPerTarget":
            label = str(predefined.get("ResourceLabel") or "")
            if "/targetgroup/" not in label:
                raise Unsupported(f"scaling policy {name}: ResourceLabel {label!r}")
            dims = (("TargetGroup", "targetgroup/" + label.split("/targetgroup/", 1)[1]),)
        else:
            dims = (("AutoScalingGroupName", group),)
        return MetricStat(namespace, metric, dims, stat, period)
    custom = config.get("CustomizedMetricSpecification")
    if not custom or "MetricName" not in custom:
        raise Unsupported(f"scaling policy {name}: metric math target tracking")
    return MetricStat(
        namespace=str(custom["Namespace"]),
        name=str(custom["MetricName"]),
        dimensions=tuple(sorted((d["Name"], d["Value"]) for d in custom.get("Dimensions") or ())),
        stat=str(custom.get("Statistic") or "Average"),
        period=int(custom.get("Period") or period),
        unit=custom.get("Unit"),
    )
