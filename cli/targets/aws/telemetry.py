"""The aws target's telemetry reader: CloudWatch GetMetricData, percentile statistics included.

The load balancer's metrics (AWS/ApplicationELB, dimension `LoadBalancer`; host counts with
`TargetGroup` too), the group's (AWS/AutoScaling GroupInServiceInstances: the Fleet component
enables group metrics collection) and each of its instances' CPUUtilization (AWS/EC2; instances
found by their `aws:autoscaling:groupName` tag, terminated ones included while AWS lists them).
ALB metrics are published per minute and arrive about a minute late: `settle` waits for that.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from perfenv.cli.targets.aws.clients import ClientFactory
from perfenv.cli.targets.telemetry import empty_point

PERIOD_S = 60
SETTLE_S = 150.0  # one period plus CloudWatch's usual delay for ALB metrics
PERCENTILES = ("p50", "p95", "p99")
COUNTS = {
    "requests": "RequestCount",
    "target_5xx": "HTTPCode_Target_5XX_Count",
    "elb_5xx": "HTTPCode_ELB_5XX_Count",
}


class CloudWatchTelemetry:
    def __init__(
        self,
        client: ClientFactory,
        region: str,
        alb_arn: str,
        asg_name: str,
        *,
        period_s: int = PERIOD_S,
        settle_s: float = SETTLE_S,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client, self.region = client, region
        self.alb_arn, self.asg_name = alb_arn, asg_name
        self.period_s, self.settle_s = period_s, settle_s
        self.clock, self.sleep = clock, sleep

    def settle(self, end: float) -> None:
        wait = end + self.settle_s - self.clock()
        if wait > 0:
            self.sleep(min(wait, self.settle_s))

    def read(self, start: float, end: float) -> dict[str, Any]:
        first = int(start) // self.period_s * self.period_s
        last = math.ceil(end / self.period_s) * self.period_s
        lb = {"LoadBalancer": self.alb_arn.split(":loadbalancer/", 1)[1]}
        queries = {
            key: (metric("AWS/ApplicationELB", name, lb), "Sum") for key, name in COUNTS.items()
        }
        for p in PERCENTILES:
            queries[f"{p}_ms"] = (metric("AWS/ApplicationELB", "TargetResponseTime", lb), p)
        queries["in_service"] = (
            metric(
                "AWS/AutoScaling",
                "GroupInServiceInstances",
                {"AutoScalingGroupName": self.asg_name},
            ),
            "Average",
        )
        group = self._target_group()
        if group:
            queries["healthy"] = (
                metric("AWS/ApplicationELB", "HealthyHostCount", {**lb, "TargetGroup": group}),
                "Average",
            )
        instances = self._instances()
        for index, instance in enumerate(instances):
            queries[f"cpu{index}"] = (
                metric("AWS/EC2", "CPUUtilization", {"InstanceId": instance}),
                "Average",
            )
        values = self._get(queries, first, last, self.period_s)
        series = self._series(values, instances, first, last)
        whole = self._get(
            {k: queries[k] for k in ("p50_ms", "p95_ms", "p99_ms")}, first, last, last - first
        )
        totals = {key: sum(p[key] for p in series) for key in COUNTS}
        for key in ("p50_ms", "p95_ms", "p99_ms"):
            found = list(whole.get(key, {}).values())
            totals[key] = round(found[0] * 1000, 3) if found else None
        return {
            "source": "cloudwatch",
            "period_s": self.period_s,
            "totals": totals,
            "series": series,
        }

    def _series(
        self, values: dict[str, dict[int, float]], instances: list[str], first: int, last: int
    ) -> list[dict[str, Any]]:
        series = []
        for at in range(first, last, self.period_s):
            point = empty_point(at)
            for key in COUNTS:
                point[key] = int(values.get(key, {}).get(at, 0))
            for key in ("p50_ms", "p95_ms", "p99_ms"):
                seconds = values.get(key, {}).get(at)
                point[key] = round(seconds * 1000, 3) if seconds is not None else None
            for key in ("in_service", "healthy"):
                found = values.get(key, {}).get(at)
                point[key] = round(found) if found is not None else None
            point["cpu"] = {
                instance: round(values[f"cpu{i}"][at], 2)
                for i, instance in enumerate(instances)
                if at in values.get(f"cpu{i}", {})
            }
            series.append(point)
        return series

    def _get(
        self, queries: dict[str, tuple[dict[str, Any], str]], first: int, last: int, period: int
    ) -> dict[str, dict[int, float]]:
        """{query id: {period start epoch: value}}."""
        cloudwatch = self.client("cloudwatch", self.region)
        ids = {key: f"q{i}" for i, key in enumerate(queries)}
        keys = {v: k for k, v in ids.items()}
        request: dict[str, Any] = {
            "MetricDataQueries": [
                {"Id": ids[key], "MetricStat": {"Metric": m, "Period": period, "Stat": stat}}
                for key, (m, stat) in queries.items()
            ],
            "StartTime": datetime.fromtimestamp(first, UTC),
            "EndTime": datetime.fromtimestamp(last, UTC),
            "ScanBy": "TimestampAscending",
        }
        out: dict[str, dict[int, float]] = {}
        while True:
            page = cloudwatch.get_metric_data(**request)
            for result in page["MetricDataResults"]:
                found = out.setdefault(keys[result["Id"]], {})
                for stamp, value in zip(result["Timestamps"], result["Values"], strict=True):
                    found[int(stamp.timestamp())] = float(value)
            if not page.get("NextToken"):
                return out
            request["NextToken"] = page["NextToken"]

    def _target_group(self) -> str | None:
        groups = self.client("elbv2", self.region).describe_target_groups(
            LoadBalancerArn=self.alb_arn
        )["TargetGroups"]
        return str(groups[0]["TargetGroupArn"].split(":", 5)[5]) if groups else None

    def _instances(self) -> list[str]:
        ec2 = self.client("ec2", self.region)
        filters = [{"Name": "tag:aws:autoscaling:groupName", "Values": [self.asg_name]}]
        found = []
        for page in ec2.get_paginator("describe_instances").paginate(Filters=filters):
            found += [i["InstanceId"] for r in page["Reservations"] for i in r["Instances"]]
        return sorted(found)


def metric(namespace: str, name: str, dimensions: dict[str, str]) -> dict[str, Any]:
    return {
        "Namespace": namespace,
        "MetricName": name,
        "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()],
    }
