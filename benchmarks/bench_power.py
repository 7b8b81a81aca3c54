"""How often the gate catches a +10% p95 regression, and how often it cries wolf, by repeats.

    .venv/bin/python -m benchmarks.bench_power [--runs 40] [--duration 15s] [--rate 100]
    .venv/bin/python -m benchmarks.bench_power --analyse out/bench_power/pool.json

Records a pool of runs per condition on the reference service (examples/service on loopback):
"base" and "slower", the same service with every latency 10% higher, run by run alternately so
that the machine's own drift lands on both. Then, for N = 1, 3, 5, 7, 10, resamples at least
100 comparisons per N and condition with `compare`'s own test (block bootstrap for one run a
side, Welch's t-test on per-run p95 for repeats): no change (N base runs against N other base
runs) gives the false-alarm rate, a change (N base against N slower) the detection rate.
The pool is kept (`pool.json`) so that the analysis can be re-run without recording again.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.record_compare_fixtures import start_service, stop
from perfenv.cli.compare.scenario import compare_scenario
from perfenv.cli.durations import parse_duration
from perfenv.cli.engine import run_plan
from perfenv.cli.verdict.measurement import LoadPlan, RequestSpec
from perfenv.cli.verdict.results import measurement_from_record, run_record

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "out" / "bench_power"
NS = (1, 3, 5, 7, 10)
COMPARISONS = 120
BASE = ("--latency-ms", "20", "--latency-jitter-ms", "5", "--slow-ms", "80")
SLOWER = ("--latency-ms", "22", "--latency-jitter-ms", "5.5", "--slow-ms", "88")
COMMON = ("--slow-fraction", "0.03", "--concurrency", "64")
MIX = (
    RequestSpec(method="GET", path="/items", weight=5),
    RequestSpec(method="GET", path="/health", weight=1),
)


def record(runs: int, duration_s: float, rate: float) -> dict[str, Any]:
    pool: dict[str, Any] = {"runs": {"base": [], "slower": []}, "duration_s": duration_s}
    pool["rate"], pool["load_average"] = rate, os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="perfenv-power-") as tmp:
        services = {}
        try:
            for name, flags in (("base", BASE), ("slower", SLOWER)):
                work = Path(tmp) / name
                work.mkdir()
                services[name] = start_service(work, (*flags, *COMMON))
            started = time.monotonic()
            for i in range(runs):
                for name, (_proc, url) in services.items():
                    plan = LoadPlan(
                        scenario="load",
                        base_url=url,
                        rates=(rate,) * round(duration_s),
                        warmup_s=2,
                        requests=MIX,
                    )
                    pool["runs"][name].append(run_record(run_plan(plan)))
                elapsed = time.monotonic() - started
                print(f"pair {i + 1}/{runs} recorded ({elapsed:.0f} s)", flush=True)
        finally:
            for proc, _url in services.values():
                stop(proc)
    pool["load_average_after"] = os.getloadavg()
    return pool


def analyse(pool: dict[str, Any], seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    runs = {k: [measurement_from_record("load", r) for r in v] for k, v in pool["runs"].items()}
    rows = []
    for n in NS:
        alarms = caught = 0
        for _ in range(COMPARISONS):
            picked = rng.sample(runs["base"], 2 * n)
            base, same = picked[:n], picked[n:]
            slower = rng.sample(runs["slower"], n)
            alarms += compare_scenario("load", base, same, seed=rng.randrange(1 << 30))["regressed"]
            caught += compare_scenario("load", base, slower, seed=rng.randrange(1 << 30))[
                "regressed"
            ]
        rows.append(
            {
                "N": n,
                "detection": caught / COMPARISONS,
                "false_alarms": alarms / COMPARISONS,
                "comparisons": COMPARISONS,
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--duration", default="15s")
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--analyse", type=Path, help="a recorded pool.json: analyse it only")
    args = parser.parse_args()
    if args.analyse:
        pool = json.loads(args.analyse.read_text())
    else:
        pool = record(args.runs, parse_duration(args.duration), args.rate)
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / "pool.json").write_text(json.dumps(pool, separators=(",", ":")))
    rows = analyse(pool)
    print(
        f"pool: {len(pool['runs']['base'])} + {len(pool['runs']['slower'])} runs of "
        f"{pool['duration_s']:g} s at {pool['rate']:g} req/s; load average "
        f"{pool['load_average'][0]:.1f} before, {pool['load_average_after'][0]:.1f} after"
    )
    print("| N | detection of +10% p95 | false alarms | comparisons each |")
    print("| --- | --- | --- | --- |")
    for r in rows:
        print(
            f"| {r['N']} | {r['detection'] * 100:.0f}% | {r['false_alarms'] * 100:.0f}% "
            f"| {r['comparisons']} |"
        )
    (OUT / "power.json").parent.mkdir(parents=True, exist_ok=True)
    (OUT / "power.json").write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
