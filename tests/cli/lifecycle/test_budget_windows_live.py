"""Windowed and abort budgets against a real target, through `perfenv test` and the real engine.

The target is a loopback server in a thread of the test process that answers 200, then 500 to
every request from a given second after its first request on. Bounded: 60 s and ~35 s of load.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from perfenv.cli.main import app

# Not `timing`: what they judge is which seconds failed, not a latency this machine delivers;
# the abort test allows 5 s from the breach to the last request.
pytestmark = pytest.mark.slow


class FailingLater:
    """Answers 200 until `fail_after_s` after the first request, then 500; notes when."""

    def __init__(self, fail_after_s: float) -> None:
        self.first: float | None = None
        self.last = 0.0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                now = time.monotonic()
                outer.first = outer.first or now
                outer.last = now
                self.send_response(500 if now - outer.first >= fail_after_s else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> FailingLater:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


def _suite(tmp_path: Path, budget: str) -> Path:
    path = tmp_path / "suite.yaml"
    path.write_text(
        "name: windows\nrequests: [{path: /items}]\n"
        "scenarios:\n"
        "  - {name: load, kind: load, rate: 10, duration: 60s}\n"
        "  - {name: later, kind: load, rate: 10, duration: 10s}\n"
        f"budgets: [{budget}]\n"
    )
    return path


def _test(suite: Path, url: str, out: Path) -> Any:
    return CliRunner().invoke(app, ["test", "--url", url, "--suite", str(suite), "--out", str(out)])


def test_failing_the_last_10s_of_60s_breaks_a_10s_window(tmp_path: Path) -> None:
    suite = tmp_path / "suite.yaml"
    suite.write_text(
        "name: windows\nrequests: [{path: /items}]\n"
        "scenarios: [{name: load, kind: load, rate: 10, duration: 60s}]\n"
        "budgets: ['error_rate < 20%', 'error_rate < 1% over 10s']\n"
    )
    with FailingLater(50.0) as target:
        result = _test(suite, target.url, tmp_path / "out")
    assert result.exit_code == 1, result.output
    doc = json.loads((tmp_path / "out" / "results.json").read_text())
    whole, windowed = doc["scenarios"][0]["budgets"]
    assert whole["verdict"] == "pass" and whole["value"] < 0.2  # the whole run: ~17%
    assert windowed["verdict"] == "fail" and windowed["value"] > 0.9


def test_an_abort_budget_ends_the_run_within_5s_of_the_breach(tmp_path: Path) -> None:
    budget = "{budget: 'error_rate < 1% over 10s', abort: true}"
    with FailingLater(30.0) as target:
        result = _test(_suite(tmp_path, budget), target.url, tmp_path / "out")
        assert target.first is not None
        failing_from = target.first + 30.0
        last_request = target.last
    assert result.exit_code == 1, result.output
    # The breach shows in the first failing second; the load stops within 5 s of it.
    assert last_request - failing_from <= 1.0 + 5.0
    doc = json.loads((tmp_path / "out" / "results.json").read_text())
    assert doc["verdict"] == "aborted" and doc["aborted"]["scenario"] == "load"
    assert 30 <= doc["aborted"]["at_s"] <= 32
    assert [s["verdict"] for s in doc["scenarios"]] == ["fail", "skipped"]
    for name in ("summary.md", "report.html", "junit.xml"):
        assert "aborted by budget" in (tmp_path / "out" / name).read_text(), name
