"""Benchmarks of the load engine against the reference service (run by hand, not by pytest).

    .venv/bin/python -m benchmarks.bench_engine [--rounds 3] [--rate 2500]

- efficiency: requests per generator CPU-second, perfenv's engine (open model, FastHttpUser)
  and `wrk` (closed loop, C) against the same /health target in the same run, and their ratio.
  CPU time is the generator's own (the engine's schedule, from its driver processes; wrk's
  rusage), so the target's speed does not decide the number.
- accuracy: p50 and p99 against a target with a known distribution: 98% uniform 10..30 ms,
  2% at 200 ms (p50 = 20.2 ms, p99 = 200 ms); beside them what a plain sequential client
  (http.client, keep-alive) reads from the same target just before, to separate the engine's
  error from the target's own overhead on this machine.
- stall: a 1 s stall during 100 req/s for 10 s; p99 must show it (>= 800 ms; ~905 ms expected).

Prints one table with the median of each measure over the rounds. Needs `wrk` (Debian package
`wrk`): installed with apt-get when running as root, otherwise the wrk rows are skipped.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as a script: make cli/ and examples/ importable
    sys.path.insert(0, str(REPO))

from hdrh.histogram import HdrHistogram  # noqa: E402

from perfenv.cli.engine import run_plan  # noqa: E402
from perfenv.cli.verdict.measurement import LoadPlan, RequestSpec, ScenarioMeasurement  # noqa: E402
from perfenv.examples.service.launch import running_service  # noqa: E402

Row = dict[str, float]


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _steady(result: ScenarioMeasurement) -> HdrHistogram:
    total = HdrHistogram(1, 60_000_000, 3)
    for window in result.windows[result.warmup_s :]:
        total.decode_and_add(window.histogram)
    return total


def _ensure_wrk() -> str | None:
    found = shutil.which("wrk")
    if found or os.geteuid() != 0 or not shutil.which("apt-get"):
        return found
    print("installing wrk: apt-get install -y wrk", file=sys.stderr)
    subprocess.run(["apt-get", "install", "-y", "wrk"], capture_output=True, check=False)
    return shutil.which("wrk")


def efficiency(rate: float, wrk: str | None) -> Row:
    row: Row = {}
    with running_service("--concurrency", "0") as url:
        plan = LoadPlan(
            scenario="efficiency",
            base_url=url,
            rates=(rate,) * 5,
            requests=(RequestSpec(method="GET", path="/health"),),
            max_connections=200,
            timeout_s=2.0,
        )
        result = run_plan(plan)
        done = sum(w.ok + w.errors for w in result.windows)
        row["engine req/s achieved"] = done / plan.duration_s
        row["engine req per CPU-s"] = done / max(1e-6, result.generator.cpu_seconds)
        row["engine run valid (1=yes)"] = float(result.generator.valid)
        if not result.generator.valid:  # expected when target and generator share two cores
            print(f"efficiency run: {result.generator.reason}", file=sys.stderr)
        if wrk is not None:
            before = _children_cpu_s()
            out = subprocess.run(
                [wrk, "-t1", "-c50", "-d5s", f"{url}/health"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            cpu = _children_cpu_s() - before
            match = re.search(r"(\d+) requests in ([\d.]+)s", out)
            if match:
                requests, seconds = int(match[1]), float(match[2])
                row["wrk req/s achieved"] = requests / seconds
                row["wrk req per CPU-s"] = requests / max(1e-6, cpu)
                row["engine/wrk efficiency ratio"] = (
                    row["engine req per CPU-s"] / row["wrk req per CPU-s"]
                )
    return row


def _plain_client_ms(url: str, count: int) -> list[float]:
    """Sequential keep-alive requests from a plain client: the target's latency right now."""
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        connection.request("GET", "/items")
        connection.getresponse().read()
        samples.append((time.perf_counter() - start) * 1000)
    connection.close()
    return sorted(samples)


def accuracy() -> Row:
    flags = ("--latency-ms", "20", "--latency-jitter-ms", "10", "--concurrency", "0")
    with running_service(*flags, "--slow-fraction", "0.02", "--slow-ms", "200") as url:
        plain = _plain_client_ms(url, 300)
        plan = LoadPlan(
            scenario="accuracy",
            base_url=url,
            rates=(100,) * 10,
            warmup_s=2,
            requests=(RequestSpec(method="GET", path="/items"),),
        )
        hist = _steady(run_plan(plan))
    p50, p99 = (hist.get_value_at_percentile(p) / 1000 for p in (50, 99))
    return {
        "accuracy p50 ms (expected 20.2)": p50,
        "accuracy p50 error %": 100 * (p50 - 20.2) / 20.2,
        "accuracy p50 ms, plain client": statistics.median(plain),
        "accuracy p99 ms (expected 200)": p99,
        "accuracy p99 error %": 100 * (p99 - 200) / 200,
        "accuracy p99 ms, plain client": plain[int(0.99 * len(plain)) - 1],
    }


def stall() -> Row:
    flags = ("--latency-ms", "5", "--latency-jitter-ms", "0", "--concurrency", "0")
    with running_service(*flags, "--stall-at", "4", "--stall-for", "1") as url:
        plan = LoadPlan(
            scenario="stall",
            base_url=url,
            rates=(100,) * 10,
            requests=(RequestSpec(method="GET", path="/items"),),
        )
        hist = _steady(run_plan(plan))
    return {
        "stall p50 ms": hist.get_value_at_percentile(50) / 1000,
        "stall p99 ms (>= 800)": hist.get_value_at_percentile(99) / 1000,
        "stall max ms": hist.get_max_value() / 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rate", type=float, default=2500.0, help="engine rate, efficiency run")
    args = parser.parse_args()
    wrk = _ensure_wrk()
    if wrk is None:
        print("wrk not found: `apt-get install -y wrk` (Debian) to compare", file=sys.stderr)
    benches: list[Callable[[], Row]] = [lambda: efficiency(args.rate, wrk), accuracy, stall]
    samples: dict[str, list[float]] = {}
    for round_no in range(1, args.rounds + 1):
        for bench in benches:
            for key, value in bench().items():
                samples.setdefault(key, []).append(value)
        print(f"round {round_no}/{args.rounds} done", file=sys.stderr)
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    print(f"host: {os.cpu_count()} cores, load average now {load}")
    width = max(len(key) for key in samples)
    print(f"{'measure':<{width}}  {'median':>10}  samples")
    for key, values in samples.items():
        shown = ", ".join(f"{v:.4g}" for v in values)
        print(f"{key:<{width}}  {statistics.median(values):>10.4g}  {shown}")


if __name__ == "__main__":
    main()
