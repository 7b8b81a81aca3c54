"""Target tracking policies from DescribePolicies, and the alarms AWS creates for them."""

from __future__ import annotations

import pytest

from perfenv.cli.targets.local.alarms.model import Alarm, Unsupported
from perfenv.cli.targets.local.scaling.policies import TargetTracking

LABEL = "app/perf-alb-1a2b/50dc6c495c0c9188/targetgroup/perf-tg-1a2b/6d0ecf831eec9f09"


def policy(config: dict[str, object], **extra: object) -> dict[str, object]:
    return {
        "AutoScalingGroupName": "perf-asg-1a2b",
        "PolicyName": "perf-requests-1a2b",
        "PolicyType": "TargetTrackingScaling",
        "TargetTrackingConfiguration": config,
        **extra,
    }


def test_request_count_per_target_policy_and_its_alarms() -> None:
    config = {
        "PredefinedMetricSpecification": {
            "PredefinedMetricType": "ALBRequestCountPerTarget",
            "ResourceLabel": LABEL,
        },
        "TargetValue": 1000.0,
    }
    tracking = TargetTracking.from_aws(policy(config), period=10)
    assert tracking.metric.name == "RequestCountPerTarget" and tracking.metric.stat == "Sum"
    assert tracking.metric.dimensions == (
        ("TargetGroup", "targetgroup/perf-tg-1a2b/6d0ecf831eec9f09"),
    )
    assert (
        tracking.arn.startswith("arn:aws:autoscaling:")
        and "policyName/perf-requests-1a2b" in tracking.arn
    )
    high, low = tracking.alarms()
    assert high["AlarmName"].startswith("TargetTracking-perf-asg-1a2b-AlarmHigh-")
    assert (high["EvaluationPeriods"], high["DatapointsToAlarm"], high["Period"]) == (3, 3, 10)
    assert high["ComparisonOperator"] == "GreaterThanThreshold" and high["Threshold"] == 1000.0
    assert (low["EvaluationPeriods"], low["DatapointsToAlarm"]) == (15, 15)
    assert low["ComparisonOperator"] == "LessThanThreshold" and low["Threshold"] == 900.0
    assert high["AlarmActions"] == [tracking.arn] and high["TreatMissingData"] == "missing"
    assert tracking.alarms() == [high, low]  # stable names: creating them again is idempotent
    parsed = Alarm.from_aws({**high, "AlarmArn": "arn"})  # the evaluator reads what it creates
    assert parsed.evaluation_periods == 3 and parsed.result.metric == tracking.metric


def test_cpu_policy_with_scale_in_disabled_creates_only_the_high_alarm() -> None:
    config = {
        "PredefinedMetricSpecification": {"PredefinedMetricType": "ASGAverageCPUUtilization"},
        "TargetValue": 50.0,
        "DisableScaleIn": True,
    }
    tracking = TargetTracking.from_aws(policy(config, EstimatedInstanceWarmup=60), period=60)
    assert tracking.metric.dimensions == (("AutoScalingGroupName", "perf-asg-1a2b"),)
    assert tracking.warmup_s == 60 and not tracking.scale_in
    assert len(tracking.alarms()) == 1


def test_customized_metric() -> None:
    config = {
        "CustomizedMetricSpecification": {
            "MetricName": "Backlog",
            "Namespace": "App",
            "Dimensions": [{"Name": "Queue", "Value": "q"}],
            "Statistic": "Average",
        },
        "TargetValue": 10.0,
    }
    tracking = TargetTracking.from_aws(policy(config), period=10)
    assert (tracking.metric.namespace, tracking.metric.name) == ("App", "Backlog")


@pytest.mark.parametrize(
    "bad",
    [
        policy({}, PolicyType="StepScaling"),
        policy(
            {"PredefinedMetricSpecification": {"PredefinedMetricType": "Other"}, "TargetValue": 1}
        ),
        policy(
            {
                "PredefinedMetricSpecification": {
                    "PredefinedMetricType": "ALBRequestCountPerTarget",
                    "ResourceLabel": "nonsense",
                },
                "TargetValue": 1,
            }
        ),
    ],
)
def test_what_is_not_executed_locally_says_so(bad: dict[str, object]) -> None:
    with pytest.raises(Unsupported):
        TargetTracking.from_aws(bad, period=10)
