"""results.json's `server` section and how report.html draws it beside the client side."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from perfenv.cli.reports.html import report_html
from perfenv.cli.targets.local.telemetry import JournalTelemetry
from perfenv.cli.verdict.results import schema_errors, server_section
from tests.cli.reports.test_reports import _doc
from tests.cli.targets.test_telemetry import T0, journal_line


def _server(tmp_path: Path, latency_us: int) -> dict[str, Any]:
    path = tmp_path / "telemetry.jsonl"
    lines = [journal_line(T0 + i, 20, latency_us, {"i-a": 3.0 + i}) for i in range(8)]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    reader = JournalTelemetry(path)
    started = "2027-01-15T08:00:01+00:00"  # T0 + 1: the client's first send
    return server_section(
        [("load", 1, started, reader.read(T0 + 1, T0 + 7)), ("ramp", 1, "", reader.read(T0, T0))]
    )


def test_the_server_section_validates_and_shares_the_client_time_axis(tmp_path: Path) -> None:
    server = _server(tmp_path, 2_000)
    assert server["source"] == "balancer" and server["period_s"] == 1
    load = server["scenarios"][0]
    assert [p["t"] for p in load["series"]] == [0, 1, 2, 3, 4, 5, 6]
    assert load["totals"]["requests"] == 7 * 20
    doc = _doc(server=server)
    assert doc["server"] == server and schema_errors(doc) == []
    assert schema_errors(_doc()) == []  # results without the section stay valid
    broken = _doc(server={**server, "scenarios": [{"scenario": "load"}]})
    assert any(e.startswith("server.scenarios.0") for e in schema_errors(broken))


def test_report_html_draws_the_server_side_and_names_the_gap(tmp_path: Path) -> None:
    page = report_html(_doc(median_ms=20, server=_server(tmp_path, 2_000)))
    assert "Server side (balancer, 1 s periods)" in page
    assert "CPU per instance" in page and "instances in service" in page
    assert "balancer p95" in page
    assert "the gap is network or load generator time" in page  # client ~20 ms vs server 2 ms

    close = report_html(_doc(median_ms=20, server=_server(tmp_path, 19_000)))
    assert "the gap is network" not in close
    assert "CPU per instance" not in report_html(_doc())  # no server section: no such plots
