"""The stack's metrics in AWS's own namespaces, names and dimensions, one period at a time.

From the journal's lines of one period: `AWS/ApplicationELB` (RequestCount, TargetResponseTime,
HTTPCode_Target_nXX_Count, HTTPCode_ELB_5XX_Count, HealthyHostCount, UnHealthyHostCount,
RequestCountPerTarget), `AWS/EC2` CPUUtilization per instance and per group, `AWS/AutoScaling`
group sizes. As on AWS, request counts and response times are published only for periods that
had requests; host counts and group sizes every period. moto cannot answer percentiles, so
TargetResponseTime goes as statistic values (count, sum, min, max).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from perfenv.cli.verdict.histograms import merged

Datum = dict[str, Any]


def _datum(name: str, dims: dict[str, str], at: datetime, resolution: int, **value: Any) -> Datum:
    return {
        "MetricName": name,
        "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()],
        "Timestamp": at,
        "StorageResolution": resolution,
        **value,
    }


def period_data(lines: list[dict[str, Any]], start: int, period_s: int) -> dict[str, list[Datum]]:
    """{namespace: metric data} for the period that starts at `start` (epoch)."""
    at = datetime.fromtimestamp(start, UTC)
    resolution = 1 if period_s < 60 else 60
    out: dict[str, list[Datum]] = {"AWS/ApplicationELB": [], "AWS/EC2": [], "AWS/AutoScaling": []}
    if not lines:
        return out
    last = lines[-1]
    for arn in last["lb"]:
        out["AWS/ApplicationELB"] += _load_balancer(
            [line["lb"][arn] for line in lines if arn in line["lb"]], at, resolution
        )
    out["AWS/EC2"] += _cpu(lines, last["groups"], at, resolution)
    for name, group in last["groups"].items():
        dims = {"AutoScalingGroupName": name}
        for metric, key in (
            ("GroupDesiredCapacity", "desired"),
            ("GroupInServiceInstances", "in_service"),
            ("GroupTotalInstances", "in_service"),
            ("GroupMinSize", "min"),
            ("GroupMaxSize", "max"),
        ):
            out["AWS/AutoScaling"].append(
                _datum(metric, dims, at, resolution, Value=float(group[key]), Unit="None")
            )
    return out


def _load_balancer(seconds: list[dict[str, Any]], at: datetime, resolution: int) -> list[Datum]:
    first = seconds[-1]
    lb = {"LoadBalancer": first["load_balancer"]}
    both = {**lb, "TargetGroup": first["target_group"]}
    data = [
        _datum(name, both, at, resolution, Value=float(first[key]), Unit="Count")
        for name, key in (("HealthyHostCount", "healthy"), ("UnHealthyHostCount", "unhealthy"))
    ]
    requests = sum(s["requests"] for s in seconds)
    if requests:
        data += [
            _datum("RequestCount", d, at, resolution, Value=float(requests), Unit="Count")
            for d in (lb, both)
        ]
    # Unlike RequestCount, RequestCountPerTarget is 0 for a period without requests: target
    # tracking on it can scale in an idle fleet (AWS's target tracking documentation).
    data.append(
        _datum(
            "RequestCountPerTarget",
            {"TargetGroup": first["target_group"]},
            at,
            resolution,
            Value=requests / max(1, first["healthy"]),
            Unit="Count",
        )
    )
    codes: dict[str, int] = {}
    for second in seconds:
        for code, count in second["target_codes"].items():
            codes[code] = codes.get(code, 0) + count
    for code, count in sorted(codes.items()):
        data += [
            _datum(
                f"HTTPCode_Target_{code}_Count", d, at, resolution, Value=float(count), Unit="Count"
            )
            for d in (lb, both)
        ]
    elb_5xx = sum(s["elb_5xx"] for s in seconds)
    if elb_5xx:
        data.append(
            _datum("HTTPCode_ELB_5XX_Count", lb, at, resolution, Value=float(elb_5xx), Unit="Count")
        )
    times = merged(s["histogram"] for s in seconds)
    if times.get_total_count():
        count = times.get_total_count()
        stats = {
            "SampleCount": float(count),
            "Sum": times.get_mean_value() * count / 1e6,
            "Minimum": times.get_min_value() / 1e6,
            "Maximum": times.get_max_value() / 1e6,
        }
        data += [
            _datum("TargetResponseTime", d, at, resolution, StatisticValues=stats, Unit="Seconds")
            for d in (lb, both)
        ]
    return data


def _cpu(
    lines: list[dict[str, Any]], groups: dict[str, Any], at: datetime, resolution: int
) -> list[Datum]:
    samples: dict[str, list[float]] = {}
    for line in lines:
        for instance, percent in line["cpu"].items():
            samples.setdefault(instance, []).append(percent)
    data = [
        _datum(
            "CPUUtilization",
            {"InstanceId": i},
            at,
            resolution,
            Value=sum(v) / len(v),
            Unit="Percent",
        )
        for i, v in sorted(samples.items())
    ]
    for name, group in sorted(groups.items()):  # each group's average over its instances
        members = group.get("instances")
        if members is None and len(groups) == 1:  # a journal written before members were kept
            members = list(samples)
        every = [sum(samples[i]) / len(samples[i]) for i in members or () if i in samples]
        if every:
            data.append(
                _datum(
                    "CPUUtilization",
                    {"AutoScalingGroupName": name},
                    at,
                    resolution,
                    Value=sum(every) / len(every),
                    Unit="Percent",
                )
            )
    return data
