"""What the report reads where AWS offers more than the emulator: stubbed botocore answers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import boto3
from botocore.stub import Stubber

from perfenv.cli.cost.aws_clients import Asker, Clients
from perfenv.cli.cost.budgets import fetch_budgets
from perfenv.cli.cost.forecast import forecast


def _clients(**stubbed: Any) -> Clients:
    clients = Clients(target="aws")
    for service, client in stubbed.items():
        clients._cache[(service, "us-east-1")] = client
    return clients


def _note(kind: str, threshold: float) -> dict[str, Any]:
    return {
        "NotificationType": kind,
        "ComparisonOperator": "GREATER_THAN",
        "Threshold": threshold,
        "ThresholdType": "PERCENTAGE",
    }


def test_subscribers_come_from_the_budget_api_where_offered() -> None:
    sts = boto3.client("sts", region_name="us-east-1")
    budgets = boto3.client("budgets", region_name="us-east-1")
    with Stubber(sts) as s_sts, Stubber(budgets) as s_budgets:
        s_sts.add_response("get_caller_identity", {"Account": "111122223333"})
        s_budgets.add_response(
            "describe_budgets",
            {
                "Budgets": [
                    {
                        "BudgetName": "guardrails-budget-dev-1234567",
                        "BudgetLimit": {"Amount": "300.0", "Unit": "USD"},
                        "CostFilters": {"TagKeyValue": ["user:perfenv:environment$dev"]},
                        "TimeUnit": "MONTHLY",
                        "BudgetType": "COST",
                    }
                ]
            },
        )
        s_budgets.add_response(
            "describe_budget_notifications_for_account",
            {
                "BudgetNotificationsForAccount": [
                    {
                        "BudgetName": "guardrails-budget-dev-1234567",
                        "Notifications": [_note("ACTUAL", 80.0), _note("FORECASTED", 100.0)],
                    }
                ]
            },
        )
        for address in ("dev-team@example.com", "finance@example.com"):
            s_budgets.add_response(
                "describe_subscribers_for_notification",
                {"Subscribers": [{"SubscriptionType": "EMAIL", "Address": address}]},
            )
        asker = Asker(what="this account")
        found = fetch_budgets(_clients(sts=sts, budgets=budgets), asker, ["dev", "staging"])
        s_budgets.assert_no_pending_responses()

    assert not isinstance(found, Exception) and isinstance(found, dict)
    dev = found["dev"]
    assert "staging" not in found
    assert dev.limit == Decimal("300.0")
    assert not isinstance(dev.notifications, Exception) and isinstance(dev.notifications, list)
    assert [n.text() for n in dev.notifications] == ["80% actual", "100% forecasted"]
    assert dev.notifications[0].subscribers == ("dev-team@example.com",)
    assert dev.subscribers_gap is None
    assert asker.missing == {}


def test_cost_explorer_forecast_is_used_where_offered() -> None:
    ce = boto3.client("ce", region_name="us-east-1")
    with Stubber(ce) as stub:
        stub.add_response(
            "get_cost_forecast",
            {"Total": {"Amount": "40.126", "Unit": "USD"}, "ForecastResultsByTime": []},
            {
                "TimePeriod": {"Start": "2026-11-27", "End": "2026-12-01"},
                "Metric": "UNBLENDED_COST",
                "Granularity": "MONTHLY",
                "Filter": {
                    "Tags": {
                        "Key": "perfenv:environment",
                        "Values": ["dev"],
                        "MatchOptions": ["EQUALS"],
                    }
                },
            },
        )
        mtd, first, today = Decimal("100.00"), date(2026, 11, 1), date(2026, 11, 27)
        result = forecast(_clients(ce=ce), Asker(), "dev", mtd, first, today)
    assert result.amount == Decimal("140.13")  # month to date plus the rest of the month
    assert result.method == "Cost Explorer forecast"


def test_forecast_without_enough_data_falls_back_without_marking_the_api() -> None:
    ce = boto3.client("ce", region_name="us-east-1")
    asker = Asker()
    with Stubber(ce) as stub:
        stub.add_client_error("get_cost_forecast", "DataUnavailableException", "not enough data")
        result = forecast(
            _clients(ce=ce), asker, "dev", Decimal("10"), date(2026, 11, 1), date(2026, 11, 11)
        )
    assert result.amount == Decimal("30.00")  # 10 over 10 days, for 30
    assert result.method == "perfenv linear forecast (run-rate of 10 of 30 days)"
    assert asker.missing == {}  # no data for one environment says nothing of the API
