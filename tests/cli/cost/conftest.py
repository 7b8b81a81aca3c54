"""A moto server on 127.0.0.1 for the cost tests, reset before each test, plus helpers that
declare budgets and alarms the way the cost stack and the environment stacks do."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import urllib.request
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from perfenv.cli.cost.aws_clients import Clients
from perfenv.infra.config import StackFile, load_all

ACCOUNT = "123456789012"
ALWAYS_NOTIFY_ACTUAL = (80.0, 100.0)  # as infra/cost_guardrails.py declares them
FORECAST_NOTIFY = 100.0


def screenshot(page: Path, png: Path) -> bool:
    """Headless Chromium's screenshot of the page, when Chromium is installed."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        return False
    subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--screenshot={png}",
            "--window-size=1280,1500",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return png.exists()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def post(url: str, body: dict[str, Any] | None = None) -> None:
    data = json.dumps(body or {}).encode()
    request = urllib.request.Request(url, data=data, method="POST")
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status in (200, 201)


@pytest.fixture
def emulator(moto_url: str) -> str:
    post(f"{moto_url}/moto-api/reset")
    return moto_url


@pytest.fixture
def clients(emulator: str) -> Clients:
    return Clients(target="local", endpoint=emulator)


def inject_cost_and_usage(url: str, *results: dict[str, Any]) -> None:
    """Queue Cost Explorer answers, in the order the report asks (one query per report)."""
    post(f"{url}/moto-api/static/ce/cost-and-usage-results", {"results": list(results)})


def ce_month(month: str, end: str, groups: dict[tuple[str, str], str]) -> dict[str, Any]:
    """One ResultsByTime entry: (environment, stack) -> amount."""
    return {
        "TimePeriod": {"Start": f"{month}-01", "End": end},
        "Total": {},
        "Groups": [
            {
                "Keys": [f"perfenv:environment${env}", f"perfenv:stack${stack}"],
                "Metrics": {"UnblendedCost": {"Amount": amount, "Unit": "USD"}},
            }
            for (env, stack), amount in groups.items()
        ],
        "Estimated": False,
    }


def ce_day(day: str, groups: dict[tuple[str, str], str]) -> dict[str, Any]:
    """One DAILY ResultsByTime entry for `day` (YYYY-MM-DD)."""
    start = date.fromisoformat(day)
    entry = ce_month(day[:7], (start + timedelta(days=1)).isoformat(), groups)
    entry["TimePeriod"]["Start"] = day
    return entry


def environment_files() -> list[StackFile]:
    return [f for f in load_all() if f.environment is not None]


def cost_file() -> StackFile:
    return next(f for f in load_all() if f.cost is not None)


def declare_budgets(clients: Clients, files: list[StackFile] | None = None) -> None:
    """One budget per environment stack file, as the cost stack declares it."""
    api = clients.client("budgets")
    cost = cost_file().cost
    assert cost is not None
    for stack in files or environment_files():
        env = stack.environment
        assert env is not None
        emails = sorted(set(env.budgets.subscribers) | set(cost.subscribers))
        plan = [("ACTUAL", t) for t in sorted(set(env.budgets.thresholds) | {80.0, 100.0})]
        plan.append(("FORECASTED", FORECAST_NOTIFY))
        api.create_budget(
            AccountId=ACCOUNT,
            Budget={
                "BudgetName": f"guardrails-budget-{stack.stack}-a1b2c3d",
                "BudgetLimit": {"Amount": f"{env.budgets.monthly_usd:.2f}", "Unit": "USD"},
                "CostFilters": {"TagKeyValue": [f"user:perfenv:environment${env.name}"]},
                "TimeUnit": "MONTHLY",
                "BudgetType": "COST",
            },
            NotificationsWithSubscribers=[
                {
                    "Notification": {
                        "NotificationType": kind,
                        "ComparisonOperator": "GREATER_THAN",
                        "Threshold": threshold,
                        "ThresholdType": "PERCENTAGE",
                    },
                    "Subscribers": [{"SubscriptionType": "EMAIL", "Address": e} for e in emails],
                }
                for kind, threshold in plan
            ],
        )


def put_alarm(
    clients: Clients, region: str, name: str, env: str | None, state: str = "OK", **extra: Any
) -> None:
    cw = clients.client("cloudwatch", region)
    tags = [{"Key": "perfenv:environment", "Value": env}] if env else []
    cw.put_metric_alarm(
        AlarmName=name,
        Namespace=extra.pop("Namespace", "AWS/ApplicationELB"),
        MetricName=extra.pop("MetricName", "TargetResponseTime"),
        Statistic="Maximum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=extra.pop("Threshold", 0.25),
        ComparisonOperator="GreaterThanThreshold",
        Tags=tags,
        **extra,
    )
    if state != "OK":
        cw.set_alarm_state(AlarmName=name, StateValue=state, StateReason="test")


NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
