"""The load engine end to end: real Locust processes against the reference service.

Rates stay modest and runs short (a shared two-core machine); margins hold under load.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from hdrh.histogram import HdrHistogram

import perfenv.cli.engine
from perfenv.cli.engine import run_plan, stop_all
from perfenv.cli.errors import BadInput, InfraError
from perfenv.cli.verdict.measurement import LoadPlan, RequestSpec, ScenarioMeasurement, Window
from perfenv.examples.service.launch import running_service
from tests.cli.engine.test_hosts import _Server

pytestmark = pytest.mark.slow

ITEMS = (RequestSpec(method="GET", path="/items"),)


def _steady(result: ScenarioMeasurement) -> HdrHistogram:
    total = HdrHistogram(1, 60_000_000, 3)
    for window in result.windows[result.warmup_s :]:
        total.decode_and_add(window.histogram)
    return total


def _served(url: str) -> dict[str, int]:
    with urllib.request.urlopen(f"{url}/admin/stats", timeout=10) as response:
        return dict(json.loads(response.read())["requests"])


def _dead(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_the_cli_process_never_imports_locust_or_gevent(repo: Path) -> None:
    code = (
        "import sys, perfenv.cli.engine; "
        "print(sorted({'.'.join(m.split('.')[:2]) for m in sys.modules}))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=repo, capture_output=True, text=True)
    assert "locust" not in out.stdout and "gevent" not in out.stdout and "perfenv.cli" in out.stdout


class _PlainClient(threading.Thread):
    """Sequential keep-alive requests beside the engine: what the target delivers right now."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.host, port = url.removeprefix("http://").split(":")
        self.port = int(port)
        self.samples_ms: list[float] = []
        self.stop = threading.Event()

    def run(self) -> None:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=10)
        while not self.stop.is_set():
            start = time.perf_counter()
            connection.request("GET", "/items")
            connection.getresponse().read()
            self.samples_ms.append((time.perf_counter() - start) * 1000)
            self.stop.wait(0.01)
        connection.close()


@pytest.mark.timing
def test_fixed_50ms_target_reports_p50_within_10_percent() -> None:
    loaded_before = {"locust", "gevent"} & set(sys.modules)
    flags = ("--latency-ms", "50", "--latency-jitter-ms", "0", "--concurrency", "0")
    seen: list[Window] = []
    with running_service(*flags) as url:
        plain = _PlainClient(url)
        plain.start()
        plan = LoadPlan(scenario="p50", base_url=url, rates=(20,) * 3, warmup_s=1, requests=ITEMS)
        try:
            result = run_plan(plan, progress=seen.append)
        finally:
            plain.stop.set()
            plain.join(timeout=10)
    p50_ms = _steady(result).get_value_at_percentile(50) / 1000
    plain_ms = statistics.median(plain.samples_ms)
    # On a quiet machine the target is a fixed 50 ms (a plain client reads ~52): the engine
    # must read within 10% of it. When other work on this shared machine slows the target
    # itself (the plain client beside the engine reads more than 5% over), judge the engine
    # against what the target delivered meanwhile, with the same 10% tolerance.
    truth = 50.0 if plain_ms <= 52.5 else plain_ms
    assert abs(p50_ms - truth) <= 0.1 * truth, (p50_ms, plain_ms)
    assert [w.t for w in seen] == [0, 1, 2] and result.windows == tuple(seen)
    assert result.generator.valid, result.generator.reason
    assert (result.generator.planned, result.generator.achieved) == (60, 60)
    assert result.endpoints["GET /items"].count == 40  # the steady state only
    assert {"locust", "gevent"} & set(sys.modules) == loaded_before


@pytest.mark.timing
def test_a_1s_stall_at_100_rps_shows_in_p99() -> None:
    # Five connections: during the stall they all hang on the target and the arrivals due
    # meanwhile wait for one. Only coordinated-omission correction (their wait counts) puts the
    # stall in p99: the five stalled requests alone are 0.5% of the 1000.
    flags = ("--latency-ms", "5", "--latency-jitter-ms", "0", "--concurrency", "0")
    with running_service(*flags, "--stall-at", "4", "--stall-for", "1") as url:
        plan = LoadPlan(
            scenario="stall", base_url=url, rates=(100,) * 10, requests=ITEMS, max_connections=5
        )
        result = run_plan(plan)
    p99_ms = _steady(result).get_value_at_percentile(99) / 1000
    assert p99_ms >= 800.0
    assert sum(w.errors for w in result.windows) == 0
    assert result.generator.target_saturated_s >= 1 and result.generator.valid


def test_a_plan_far_beyond_the_generator_is_invalid() -> None:
    with running_service("--concurrency", "0") as url:
        plan = LoadPlan(
            scenario="flood",
            base_url=url,
            rates=(50_000,) * 2,
            requests=(RequestSpec(method="GET", path="/health"),),
            timeout_s=1.0,
        )
        health = run_plan(plan).generator
    assert not health.valid
    assert re.match(r"planned 100000 requests, sent \d+ \(\d+%\): \S", health.reason)
    assert health.achieved < health.planned


@pytest.mark.timing
def test_a_stress_ramp_past_the_knee_stays_valid() -> None:
    # 4 slots x 20 ms: the service serves at most ~200 req/s and queues the rest.
    flags = ("--latency-ms", "20", "--latency-jitter-ms", "0", "--concurrency", "4")
    with running_service(*flags, "--queue", "-1") as url:
        plan = LoadPlan(
            scenario="stress",
            base_url=url,
            rates=(100, 150, 300, 400, 400, 400),
            requests=ITEMS,
            timeout_s=1.0,
            max_connections=30,
        )
        result = run_plan(plan)
    health = result.generator
    assert health.valid, health.reason
    assert health.target_saturated_s > 0
    assert result.errors_by_kind.get("timeout (all connections busy)", 0) > 0
    first, last = (HdrHistogram.decode(result.windows[t].histogram) for t in (0, -1))
    assert last.get_value_at_percentile(50) > 10 * first.get_value_at_percentile(50)


def test_two_workers_aggregate_exactly() -> None:
    with running_service("--latency-ms", "10", "--concurrency", "0") as url:
        plan = LoadPlan(
            scenario="workers", base_url=url, rates=(30,) * 3, warmup_s=1, requests=ITEMS, workers=2
        )
        result = run_plan(plan)
        served = _served(url)
    windows = result.windows
    assert [w.planned for w in windows] == [30, 30, 30]
    assert sum(w.sent for w in windows) == sum(w.ok for w in windows) == served["/items"] == 90
    for window in windows:
        assert HdrHistogram.decode(window.histogram).get_total_count() == window.ok
    endpoint = result.endpoints["GET /items"]
    assert endpoint.count == sum(w.ok + w.errors for w in windows[1:]) == 60
    assert HdrHistogram.decode(endpoint.histogram).get_total_count() == 60
    assert result.generator.valid, result.generator.reason


def test_a_locustfile_task_iteration_is_one_arrival(tmp_path: Path) -> None:
    locustfile = tmp_path / "shop.py"
    locustfile.write_text(
        "from locust import FastHttpUser, task\n"
        "class Shopper(FastHttpUser):\n"
        "    def on_start(self):\n"
        "        self.client.get('/health')\n"
        "    @task\n"
        "    def browse(self):\n"
        "        self.client.get('/items?latency_ms=1', name='/items')\n"
        "        self.client.get('/missing')\n"
    )
    with running_service("--concurrency", "0") as url:
        plan = LoadPlan(scenario="lf", base_url=url, rates=(20, 20), locustfile=locustfile)
        result = run_plan(plan)
    assert sum(w.sent for w in result.windows) == 40
    assert set(result.endpoints) == {"GET /items", "GET /missing"}  # on_start is not measured
    assert result.endpoints["GET /items"].count == 40
    assert result.errors_by_kind == {"HTTP 404": 40}


def test_a_closed_port_counts_as_connection_refused() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"  # bound, never listening
        result = run_plan(LoadPlan(scenario="closed", base_url=url, rates=(10,), requests=ITEMS))
    assert result.errors_by_kind == {"connection refused": 10}
    assert result.windows[0].errors == 10 and result.generator.valid


def test_a_missing_locustfile_is_bad_input(tmp_path: Path) -> None:
    missing = tmp_path / "no.py"
    plan = LoadPlan(scenario="x", base_url="http://127.0.0.1:9", rates=(1,), locustfile=missing)
    with pytest.raises(BadInput, match="no such locustfile"):
        run_plan(plan)


def test_an_unloadable_locustfile_is_bad_input(tmp_path: Path) -> None:
    locustfile = tmp_path / "broken.py"
    locustfile.write_text("import no_such_module_for_perfenv\n")
    plan = LoadPlan(scenario="x", base_url="http://127.0.0.1:9", rates=(1,), locustfile=locustfile)
    with pytest.raises(BadInput, match=r"broken.py: cannot load: ModuleNotFoundError"):
        run_plan(plan)


def _pids() -> list[int]:
    return [p.pid for generator in perfenv.cli.engine._RUNNING for p in generator.processes]


def test_interrupting_a_run_stops_its_processes() -> None:
    pids: list[int] = []

    def interrupt(window: Window) -> None:
        pids.extend(_pids())
        raise KeyboardInterrupt

    plan = LoadPlan(scenario="int", base_url="http://127.0.0.1:9", rates=(5,) * 30, requests=ITEMS)
    with pytest.raises(KeyboardInterrupt):
        run_plan(plan, progress=interrupt)
    assert pids and all(_dead(pid) for pid in pids)
    assert not perfenv.cli.engine._RUNNING


def test_stop_all_ends_a_run_with_an_infra_error() -> None:
    pids: list[int] = []

    def stop(window: Window) -> None:
        pids.extend(_pids())
        stop_all()

    plan = LoadPlan(scenario="stop", base_url="http://127.0.0.1:9", rates=(5,) * 30, requests=ITEMS)
    with pytest.raises(InfraError, match="exited before the end"):
        run_plan(plan, progress=stop)
    assert pids and all(_dead(pid) for pid in pids)


def test_a_sequential_journey_runs_whole_per_arrival(tmp_path: Path) -> None:
    locustfile = tmp_path / "journey.py"
    locustfile.write_text(
        "from locust import FastHttpUser, SequentialTaskSet, between, task\n"
        "class Journey(SequentialTaskSet):\n"
        "    @task\n"
        "    def login(self):\n"
        "        self.client.get('/login', name='login')\n"
        "    @task\n"
        "    def browse(self):\n"
        "        self.client.get('/items', name='GET /items')\n"
        "    @task\n"
        "    def checkout(self):\n"
        "        self.client.get('/checkout', name='checkout')\n"
        "class Shopper(FastHttpUser):\n"
        "    wait_time = between(0.5, 1.5)\n"
        "    tasks = [Journey]\n"
    )
    with _Server() as server:
        plan = LoadPlan(
            scenario="journey", base_url=server.url, rates=(10,) * 5, locustfile=locustfile
        )
        result = run_plan(plan)
    counts = {name: e.count for name, e in result.endpoints.items()}
    # Named as the file names them, the method shown once; every journey ran to its end.
    assert counts == {"GET login": 50, "GET /items": 50, "GET checkout": 50}
    assert result.errors_by_kind == {}
    # Two think times of 0.5-1.5 s inside each journey: a checkout comes >= 1 s after its login.
    first = {path: min(t for p, t in server.seen if p == path) for path in ("/login", "/checkout")}
    assert len(server.seen) == 150 and first["/checkout"] - first["/login"] >= 1.0
