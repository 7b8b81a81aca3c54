from __future__ import annotations

import json

from perfenv.cli.program.evaluate import Evaluation
from perfenv.infra.config import AlarmConfig
from perfenv.infra.monitoring import Monitoring, MonitoringArgs
from tests.infra.conftest import build, only


def _monitoring() -> Evaluation:
    cfg = AlarmConfig(p95_ms=250, error_rate_percent=1.5, cpu_percent=75)
    return build(
        lambda: Monitoring(
            "t-mon",
            MonitoringArgs(
                config=cfg,
                dashboard_name="perfenv-t",
                region="eu-west-1",
                alb_arn_suffix="app/alb/1",
                target_group_arn_suffix="targetgroup/tg/2",
                asg_name="asg-1",
            ),
        )
    )


def test_alarms_on_p95_error_rate_unhealthy_hosts_and_cpu() -> None:
    ev = _monitoring()
    topic = only(ev, "aws:sns/topic:Topic")
    alarms = {a.name: a.inputs for a in ev.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")}
    assert set(alarms) == {
        "t-mon-p95-latency",
        "t-mon-5xx-rate",
        "t-mon-unhealthy-hosts",
        "t-mon-fleet-cpu",
    }
    p95 = alarms["t-mon-p95-latency"]
    assert p95["metricName"] == "TargetResponseTime"
    assert p95["extendedStatistic"] == "p95"
    assert p95["threshold"] == 0.25
    assert p95["dimensions"] == {"LoadBalancer": "app/alb/1"}
    rate = alarms["t-mon-5xx-rate"]
    assert rate["threshold"] == 1.5
    expressions = [q for q in rate["metricQueries"] if q.get("expression")]
    assert len(expressions) == 1 and expressions[0]["returnData"] is True
    assert alarms["t-mon-fleet-cpu"]["dimensions"] == {"AutoScalingGroupName": "asg-1"}
    assert alarms["t-mon-fleet-cpu"]["threshold"] == 75
    assert all(a["alarmActions"] == [topic.state["arn"]] for a in alarms.values())


def test_dashboard_shows_the_environment_metrics() -> None:
    dashboard = only(_monitoring(), "aws:cloudwatch/dashboard:Dashboard")
    assert dashboard.inputs["dashboardName"] == "perfenv-t"
    body = json.loads(dashboard.inputs["dashboardBody"])
    metrics = [m for w in body["widgets"] for m in w["properties"]["metrics"]]
    assert ["AWS/EC2", "CPUUtilization", "AutoScalingGroupName", "asg-1"] in metrics
