"""The reference service, run as the local target runs it: `python -m perfenv.examples.service`."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from perfenv.examples.service.cli import parse_args
from perfenv.examples.service.launch import running_service


def _get(url: str, timeout: float = 10.0, method: str = "GET") -> tuple[int, Any]:
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _wait_for(predicate: Any, timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def test_prints_one_listening_line_and_serves_health(tmp_path: Path, repo: Path) -> None:
    out = tmp_path / "out"
    with out.open("wb") as stdout:
        process = subprocess.Popen(
            [sys.executable, "-m", "perfenv.examples.service", "--port", "0"],
            cwd=repo,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        assert _wait_for(lambda: out.read_text().endswith("\n"), timeout_s=30)
        lines = out.read_text().splitlines()
        assert len(lines) == 1 and lines[0].startswith("listening on http://127.0.0.1:")
        url = lines[0].removeprefix("listening on ")
        assert int(url.rsplit(":", 1)[1]) > 0
        assert _get(f"{url}/health") == (200, {"status": "ok"})
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
    assert out.read_text().splitlines() == lines  # nothing else on stdout, also on exit


def test_items_latency_is_configurable_and_counted() -> None:
    with running_service("--latency-ms", "7", "--latency-jitter-ms", "0") as url:
        assert _get(f"{url}/items")[1]["slept_ms"] == 7.0
        assert _get(f"{url}/items?latency_ms=12&jitter_ms=0")[1]["slept_ms"] == 12.0
        assert _get(f"{url}/work?ms=2")[0] == 200
        status, stats = _get(f"{url}/admin/stats")
    assert status == 200
    assert stats["requests"] == {"/items": 2, "/work": 1}
    assert stats["rejected"] == 0


def test_slow_fraction_sets_the_tail() -> None:
    flags = ("--latency-ms", "1", "--latency-jitter-ms", "0", "--slow-fraction", "1")
    with running_service(*flags, "--slow-ms", "3") as url:
        assert _get(f"{url}/items")[1]["slept_ms"] == 3.0


def test_concurrency_limit_answers_503_beyond_the_queue() -> None:
    flags = ("--concurrency", "1", "--queue", "0", "--latency-ms", "1500")
    with running_service(*flags, "--latency-jitter-ms", "0") as url:
        first = threading.Thread(target=_get, args=(f"{url}/items",), daemon=True)
        first.start()
        assert _wait_for(lambda: _get(f"{url}/admin/stats")[1]["in_flight"] == 1)
        status, body = _get(f"{url}/items")
        assert (status, body) == (503, {"error": "overloaded"})
        assert _get(f"{url}/admin/stats")[1]["rejected"] == 1


def test_stall_at_holds_requests_from_the_first_load_request() -> None:
    with running_service("--stall-at", "0", "--stall-for", "60", "--latency-ms", "1") as url:
        assert _get(f"{url}/health")[0] == 200  # before any load request: no stall yet
        with pytest.raises((TimeoutError, socket.timeout, urllib.error.URLError)):
            _get(f"{url}/items", timeout=0.5)
        with pytest.raises((TimeoutError, socket.timeout, urllib.error.URLError)):
            _get(f"{url}/health", timeout=0.5)
        assert _get(f"{url}/admin/stats")[0] == 200  # the admin API stays up


def test_admin_stall_is_scheduled() -> None:
    with running_service("--latency-ms", "1") as url:
        status, body = _get(f"{url}/admin/stall?seconds=60&after=0", method="POST")
        assert (status, body) == (200, {"stall_in_s": 0.0, "stall_for_s": 60.0})
        with pytest.raises((TimeoutError, socket.timeout, urllib.error.URLError)):
            _get(f"{url}/items", timeout=0.5)


def test_bad_flags_exit_2(repo: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "perfenv.examples.service", "--concurrency", "-1"],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "--concurrency: must be >= 0" in result.stderr


def test_parse_args_defaults_make_a_knee() -> None:
    config = parse_args(["--port", "0"])
    assert config.concurrency > 0 and config.queue >= 0  # a limit, so stress finds a knee
    assert config.stall_at is None


def test_error_fraction_answers_500_while_health_passes() -> None:
    with running_service("--error-fraction", "1", "--latency-ms", "1") as url:
        assert _get(f"{url}/items") == (500, {"error": "injected"})
        assert _get(f"{url}/work?ms=1")[0] == 500
        assert _get(f"{url}/health")[0] == 200
    with pytest.raises(SystemExit):
        parse_args(["--error-fraction", "1.5"])
