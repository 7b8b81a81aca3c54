"""Benchmark: the local load balancer against going straight to the app process, side by side.

    .venv/bin/python -m benchmarks.bench_balancer [--rounds 3] [--seconds 10]

One reference service (/items with a fixed 1 ms latency, no concurrency limit) and one
balancer in front of it (the perf stack's health check, scaled). Each round runs, alternating
direct and through the balancer, with perfenv's own engine (open model, latency from the
scheduled send):

- 500 req/s: p50 and p99 of each (goal: the balancer's p50 at most 1 ms above direct);
- 1,000 req/s: achieved throughput through the balancer over direct (goal: at least 95%);
- the balancer's CPU time per 1,000 requests (from /proc, over the 500 req/s runs).

Prints the median of each measure over the rounds, and the load average before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from perfenv.cli.engine import run_plan
from perfenv.cli.targets.local import fleet
from perfenv.cli.targets.local.controller.journal import cpu_seconds
from perfenv.cli.verdict.histograms import merged
from perfenv.cli.verdict.measurement import LoadPlan, RequestSpec, ScenarioMeasurement
from perfenv.examples.service.launch import running_service

PATH = "/items"
SERVICE = ("--latency-ms", "1", "--latency-jitter-ms", "0", "--concurrency", "0")


@contextmanager
def balancer_in_front_of(app_url: str) -> Iterator[tuple[str, int]]:
    """A balancer process forwarding to `app_url`; yields (its URL, its pid)."""
    with tempfile.TemporaryDirectory(prefix="perfenv-bench-balancer-") as tmp:
        spec = {
            "ready_file": f"{tmp}/ready.json",
            "health": {
                "path": "/health",
                "interval_s": 2.5,
                "timeout_s": 0.8,
                "healthy_threshold": 2,
                "unhealthy_threshold": 3,
            },
        }
        Path(tmp, "spec.json").write_text(json.dumps(spec))
        proc = subprocess.Popen(
            [sys.executable, "-m", "perfenv.cli.targets.local.balancer", f"{tmp}/spec.json"],
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            while not Path(spec["ready_file"]).exists():
                assert proc.poll() is None, "the balancer exited"
                time.sleep(0.02)
            ready = json.loads(Path(spec["ready_file"]).read_text())
            port = int(app_url.rsplit(":", 1)[1])
            body = json.dumps({"targets": {"i-bench": ["127.0.0.1", port]}}).encode()
            control = f"http://127.0.0.1:{ready['control_port']}"
            urllib.request.urlopen(urllib.request.Request(f"{control}/targets", body, method="PUT"))
            while True:
                with urllib.request.urlopen(f"{control}/state") as answer:
                    if json.loads(answer.read())["targets"]["i-bench"]["state"] == "healthy":
                        break
                time.sleep(0.05)
            yield f"http://127.0.0.1:{ready['port']}", proc.pid
        finally:
            fleet.terminate(proc.pid)
            proc.wait(timeout=10)


def measure(url: str, rate: float, seconds: int) -> ScenarioMeasurement:
    plan = LoadPlan(
        scenario="bench",
        base_url=url,
        rates=(rate,) * seconds,
        warmup_s=2,
        requests=(RequestSpec(method="GET", path=PATH),),
        max_connections=200,
        timeout_s=5.0,
    )
    return run_plan(plan)


def percentiles(result: ScenarioMeasurement) -> tuple[float, float]:
    hist = merged(w.histogram for w in result.windows[result.warmup_s :])
    return hist.get_value_at_percentile(50) / 1000, hist.get_value_at_percentile(99) / 1000


def achieved(result: ScenarioMeasurement) -> float:
    steady = result.windows[result.warmup_s :]
    return sum(w.ok for w in steady) / max(1, len(steady))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    load_before = os.getloadavg()
    rows: dict[str, list[float]] = {}

    def note(key: str, value: float) -> None:
        rows.setdefault(key, []).append(value)

    with running_service(*SERVICE) as app, balancer_in_front_of(app) as (through, pid):
        for _ in range(args.rounds):
            direct = measure(app, 500, args.seconds)
            cpu_before = cpu_seconds(pid) or 0.0
            balanced = measure(through, 500, args.seconds)
            cpu_used = (cpu_seconds(pid) or 0.0) - cpu_before
            (d50, d99), (b50, b99) = percentiles(direct), percentiles(balanced)
            note("500 req/s p50 ms, direct", d50)
            note("500 req/s p50 ms, through the balancer", b50)
            note("500 req/s p50 added ms (goal <= 1)", b50 - d50)
            note("500 req/s p99 ms, direct", d99)
            note("500 req/s p99 ms, through the balancer", b99)
            sent = sum(w.sent for w in balanced.windows)
            note("balancer CPU ms per 1,000 requests", 1e6 * cpu_used / max(1, sent))
            fast_direct = achieved(measure(app, 1000, args.seconds))
            fast_through = achieved(measure(through, 1000, args.seconds))
            note("1,000 req/s achieved, direct", fast_direct)
            note("1,000 req/s achieved, through the balancer", fast_through)
            note("1,000 req/s through / direct % (goal >= 95)", 100 * fast_through / fast_direct)
    width = max(len(k) for k in rows)
    for key, values in rows.items():
        print(f"{key:<{width}}  {statistics.median(values):9.2f}  (median of {len(values)})")
    print(
        f"load average before {load_before[0]:.2f}, after {os.getloadavg()[0]:.2f} "
        f"({os.cpu_count()} cores)"
    )


if __name__ == "__main__":
    main()
