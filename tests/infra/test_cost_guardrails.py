from __future__ import annotations

import json

from perfenv.cli.program.evaluate import Evaluation
from tests.infra.conftest import only


def test_one_monthly_budget_per_environment_stack_file(
    shipped: dict[str, Evaluation], shipped_files: dict[str, object]
) -> None:
    budgets = shipped["cost"].of_type("aws:budgets/budget:Budget")
    envs = [f for f in shipped_files.values() if getattr(f, "environment", None) is not None]
    assert len(budgets) == len(envs) == 3
    by_filter = {b.inputs["costFilters"][0]["values"][0]: b.inputs for b in budgets}
    perf = by_filter["user:perfenv:environment$perf"]
    assert perf["timeUnit"] == "MONTHLY" and perf["limitAmount"] == "800.00"
    assert perf["costFilters"][0]["name"] == "TagKeyValue"
    notes = {(n["notificationType"], n["threshold"]) for n in perf["notifications"]}
    assert notes == {("ACTUAL", 50), ("ACTUAL", 80), ("ACTUAL", 100), ("FORECASTED", 100)}
    assert "perf@example.com" in perf["notifications"][0]["subscriberEmailAddresses"]


def test_topic_policy_lets_budgets_publish(shipped: dict[str, Evaluation]) -> None:
    ev = shipped["cost"]
    topic = only(ev, "aws:sns/topic:Topic")
    policy = json.loads(only(ev, "aws:sns/topicPolicy:TopicPolicy").inputs["policy"])
    (statement,) = policy["Statement"]
    assert "budgets.amazonaws.com" in statement["Principal"]["Service"]
    assert statement["Resource"] == topic.state["arn"]
    for budget in ev.of_type("aws:budgets/budget:Budget"):
        for note in budget.inputs["notifications"]:
            assert note["subscriberSnsTopicArns"] == [topic.state["arn"]]


def test_billing_alarm_in_us_east_1(shipped: dict[str, Evaluation]) -> None:
    ev = shipped["cost"]
    (alarm,) = ev.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    assert alarm.inputs["metricName"] == "EstimatedCharges"
    assert alarm.inputs["namespace"] == "AWS/Billing"
    assert alarm.inputs["dimensions"] == {"Currency": "USD"}
    assert alarm.inputs["period"] == 21600 and alarm.inputs["statistic"] == "Maximum"
    providers = {p.urn: p for p in ev.of_type("pulumi:providers:aws")}
    assert alarm.provider is not None
    assert providers[alarm.provider.rsplit("::", 1)[0]].inputs["region"] == "us-east-1"


def test_anomaly_detection_and_tag_activation(shipped: dict[str, Evaluation]) -> None:
    ev = shipped["cost"]
    monitor = only(ev, "aws:costexplorer/anomalyMonitor:AnomalyMonitor")
    sub = only(ev, "aws:costexplorer/anomalySubscription:AnomalySubscription")
    assert sub.inputs["monitorArnLists"] == [monitor.state["arn"]]
    assert sub.inputs["frequency"] == "DAILY"
    assert sub.inputs["thresholdExpression"]["dimension"]["values"] == ["100"]
    tags = ev.of_type("aws:costexplorer/costAllocationTag:CostAllocationTag")
    activated = {t.inputs["tagKey"] for t in tags}
    assert activated >= {"perfenv:environment", "perfenv:stack", "perfenv:owner", "perfenv:team"}
    assert all(t.inputs["status"] == "Active" for t in tags)
