"""Benchmark: `perfenv cost report --months 12` over 50 environments and 200 perf runs.

Synthetic data in a moto server on 127.0.0.1: 50 environment stack files (and the cost stack's),
a budget with four notifications per environment, four tagged alarms per environment (named as
the program names them), Cost Explorer results grouped by environment and stack (the report
month by day, the eleven months before it by month), and 200 per-run cost records (with owner
and team) in a file state store. Each measurement is a fresh process
(interpreter start, imports, boto3 clients, every API call, rendering), as a user runs the
command. Prints the median of 5.

    .venv/bin/python benchmarks/bench_cost_report.py [--format table|html] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

ENVIRONMENTS = 50
RUNS = 200
MONTHS = 12
REPORT_MONTH = "2026-10"
NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)
ACCOUNT = "123456789012"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _stack_files(root: Path) -> None:
    template = (REPO / "stacks" / "Pulumi.dev.yaml").read_text()
    for i in range(ENVIRONMENTS):
        name = f"env{i:02d}"
        text = (
            template.replace("name: dev", f"name: {name}")
            .replace("cidr: 10.10.0.0/16", f"cidr: 10.{100 + i}.0.0/16")
            .replace("monthly_usd: 300", f"monthly_usd: {200 + 10 * i}")
            .replace("namespace: perfenv-dev", f"namespace: perfenv-{name}")
        )
        (root / f"Pulumi.{name}.yaml").write_text(text)
    (root / "Pulumi.cost.yaml").write_text((REPO / "stacks" / "Pulumi.cost.yaml").read_text())


def _months() -> list[date]:
    first = date(2026, 10, 1)
    out = [first]
    for _ in range(MONTHS - 1):
        out.insert(0, (out[0] - timedelta(days=1)).replace(day=1))
    return out


def _group(env: str, stack: str, amount: str) -> dict[str, Any]:
    return {
        "Keys": [f"perfenv:environment${env}", f"perfenv:stack${stack}"],
        "Metrics": {"UnblendedCost": {"Amount": amount, "Unit": "USD"}},
    }


def _cost_explorer(runs: list[str]) -> list[dict[str, Any]]:
    """The report's two answers, in the order it asks: the report month by day (every
    environment each day, each run on its day), then the eleven months before it by month.
    moto keys an answer by the request body: every process of the benchmark gets the same."""
    first = date.fromisoformat(f"{REPORT_MONTH}-01")
    daily = []
    for d in range(31):
        day = first + timedelta(days=d)
        groups = [_group(f"env{i:02d}", f"env{i:02d}", f"{3 + i / 10:.4f}") for i in range(50)]
        groups += [_group("perf", s, "1.5") for n, s in enumerate(runs) if n % 28 == d]
        end = day + timedelta(days=1)
        daily.append(
            {
                "TimePeriod": {"Start": day.isoformat(), "End": end.isoformat()},
                "Total": {},
                "Groups": groups,
                "Estimated": False,
            }
        )
    monthly = []
    for m in _months()[:-1]:
        groups = [_group(f"env{i:02d}", f"env{i:02d}", f"{100 + i}.1234") for i in range(50)]
        end = (m.replace(day=28) + timedelta(days=4)).replace(day=1)
        monthly.append(
            {
                "TimePeriod": {"Start": m.isoformat(), "End": end.isoformat()},
                "Total": {},
                "Groups": groups,
                "Estimated": False,
            }
        )
    return [{"ResultsByTime": daily}, {"ResultsByTime": monthly}]


def _seed(url: str, state: Path) -> None:
    import boto3

    from perfenv.cli.cost.estimate import estimate_environment
    from perfenv.cli.cost.prices import load_prices
    from perfenv.cli.cost.records import close_cost_record, write_cost_record
    from perfenv.cli.cost.stacks import environment_stack
    from perfenv.cli.state.store import open_store

    kw: dict[str, Any] = {
        "endpoint_url": url,
        "aws_access_key_id": "bench",
        "aws_secret_access_key": "bench",
    }
    budgets = boto3.client("budgets", region_name="us-east-1", **kw)
    cw = boto3.client("cloudwatch", region_name="eu-west-1", **kw)
    for i in range(ENVIRONMENTS):
        name = f"env{i:02d}"
        budgets.create_budget(
            AccountId=ACCOUNT,
            Budget={
                "BudgetName": f"guardrails-budget-{name}-x",
                "BudgetLimit": {"Amount": f"{200 + 10 * i}.00", "Unit": "USD"},
                "CostFilters": {"TagKeyValue": [f"user:perfenv:environment${name}"]},
                "TimeUnit": "MONTHLY",
                "BudgetType": "COST",
            },
            NotificationsWithSubscribers=[
                {
                    "Notification": {
                        "NotificationType": kind,
                        "ComparisonOperator": "GREATER_THAN",
                        "Threshold": t,
                        "ThresholdType": "PERCENTAGE",
                    },
                    "Subscribers": [{"SubscriptionType": "EMAIL", "Address": "f@example.com"}],
                }
                for kind, t in (
                    ("ACTUAL", 50.0),
                    ("ACTUAL", 80.0),
                    ("ACTUAL", 100.0),
                    ("FORECASTED", 100.0),
                )
            ],
        )
        for a, kind in enumerate(("p95-latency", "5xx-rate", "unhealthy", "cpu")):
            cw.put_metric_alarm(
                AlarmName=f"{name}-mon-{kind}-{a:07d}",
                Namespace="AWS/ApplicationELB",
                MetricName="TargetResponseTime",
                Statistic="Maximum",
                Period=60,
                EvaluationPeriods=1,
                Threshold=0.25,
                ComparisonOperator="GreaterThanThreshold",
                Tags=[{"Key": "perfenv:environment", "Value": name}],
            )
    runs = [f"perf-{n // 10}-{n % 10}-0-r{n:05d}" for n in range(RUNS)]
    body = json.dumps({"results": _cost_explorer(runs)}).encode()
    request = urllib.request.Request(
        f"{url}/moto-api/static/ce/cost-and-usage-results", data=body, method="POST"
    )
    urllib.request.urlopen(request, timeout=10).close()

    store = open_store(f"file://{state}")
    perf = environment_stack("perf").environment
    assert perf is not None
    table = load_prices()
    for n, stack in enumerate(runs):
        started = datetime(2026, 10, 1 + n % 28, 8, tzinfo=UTC)
        write_cost_record(
            store,
            estimate=estimate_environment(stack, perf, Decimal("1.5"), table),
            release=f"{n // 10}.{n % 10}.0",
            target="aws",
            started_at=started,
            owner=f"user{n % 7}",
            team=("payments", "search", "catalog")[n % 3],
        )
        close_cost_record(store, stack, started + timedelta(hours=1))


def once(endpoint: str, stacks: Path, state: str, fmt: str) -> None:
    """One report, as the command builds it (run in a fresh process by the benchmark)."""
    from perfenv.cli.cost.aws_clients import Clients
    from perfenv.cli.cost.output import report_text
    from perfenv.cli.cost.report import build_report
    from perfenv.cli.render import Format
    from perfenv.cli.state.store import open_store

    clients = Clients(target="local", endpoint=endpoint)
    report = build_report(
        clients,
        month=REPORT_MONTH,
        months=MONTHS,
        now=NOW,
        stacks_dir=stacks,
        store=open_store(state),
    )
    text = report_text(report, Format(fmt))
    runs = len(report.runs) - 1
    envs = len(report.environments) - 1
    assert envs == ENVIRONMENTS and runs == RUNS, (envs, runs)
    assert report.requests.get("Cost Explorer") == 2  # the month by day, the year by month
    assert all(isinstance(r["actual_usd"], Decimal) for r in report.runs), "runs not billed"
    sys.stdout.write(f"{len(text)}\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--format", default="table", choices=["table", "md", "csv", "html", "json"])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--once", nargs=3, metavar=("ENDPOINT", "STACKS", "STATE"))
    args = parser.parse_args()
    if args.once:
        once(args.once[0], Path(args.once[1]), args.once[2], args.format)
        return

    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            (root / "stacks").mkdir()
            _stack_files(root / "stacks")
            _seed(url, root / "state")
            walls = []
            env = {**os.environ, "PYTHONPATH": str(REPO)}
            cmd = [
                sys.executable,
                __file__,
                "--format",
                args.format,
                "--once",
                url,
                str(root / "stacks"),
                f"file://{root / 'state'}",
            ]
            for _ in range(args.runs):
                start = time.perf_counter()
                subprocess.run(
                    cmd,
                    check=True,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stdin=subprocess.DEVNULL,
                    timeout=120,
                )
                walls.append(time.perf_counter() - start)
    finally:
        server.stop()
    print(
        f"cost report --months {MONTHS} --format {args.format}: {ENVIRONMENTS} environments, "
        f"{RUNS} runs: median {statistics.median(walls):.2f} s wall of {args.runs} "
        f"(min {min(walls):.2f}, max {max(walls):.2f}; fresh process each)"
    )


if __name__ == "__main__":
    main()
