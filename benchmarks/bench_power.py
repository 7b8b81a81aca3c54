"""How often the gate catches a +10% p95 regression, and how often it cries wolf, by repeats.

    PYTHONPATH=. .venv/bin/python -m benchmarks.bench_power [--runs 40] [--duration 15s]
    PYTHONPATH=. .venv/bin/python -m benchmarks.bench_power --analyse out/bench_power/pool.json

Records a pool of runs per condition on the reference service (examples/service on loopback):
"base" and "slower", the same service with every latency 10% higher, run by run alternately so
that the machine's own drift lands on both (about 25 minutes for 40 + 40 runs of 15 s). Then,
for N = 1, 3, 5, 7, 10, judges 120 comparisons per N and condition with `compare`'s own test
(block bootstrap for one run a side, Welch on the log of per-run p95 for repeats, ADR 0035): no
change (N base runs against N other base runs) gives the false-alarm rate, a change (N base
against N slower) the detection rate. Two ways of drawing the N runs of a side: at random from
the pool, and as sessions (N consecutive runs, the two sides at different times, as a release's
repeats run). The pool is kept (`pool.json`); `--analyse` re-analyses a kept pool only.
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
GOAL_DETECTION, GOAL_FALSE_ALARMS = 0.80, 0.05
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
    pool["recorded"] = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
    pool["elapsed_s"] = round(time.monotonic() - started)
    return pool


def _random_draw(rng: random.Random, size: int, n: int) -> tuple[list[int], list[int]]:
    """Two disjoint sets of n runs drawn at random from the pool's order."""
    picked = rng.sample(range(size), 2 * n)
    return picked[:n], picked[n:]


def _session_draw(rng: random.Random, size: int, n: int) -> tuple[list[int], list[int]]:
    """Two sessions: n consecutive runs each, recorded at different times (no overlap)."""
    while True:
        i, j = rng.randrange(size - n + 1), rng.randrange(size - n + 1)
        if abs(i - j) >= n:
            return list(range(i, i + n)), list(range(j, j + n))


DRAWS = {"random": _random_draw, "session": _session_draw}


def _regressed(base: list[Any], cand: list[Any], rng: random.Random) -> bool:
    return bool(compare_scenario("load", base, cand, seed=rng.randrange(1 << 30))["regressed"])


def analyse(pool: dict[str, Any], seed: int = 7) -> list[dict[str, Any]]:
    """For each way of drawing and each N: `COMPARISONS` no-change comparisons (N base runs
    against N other base runs) and as many changes (N base runs against N slower runs drawn
    from other positions of the pool), judged by `compare_scenario` as a release is."""
    runs = {k: [measurement_from_record("load", r) for r in v] for k, v in pool["runs"].items()}
    size = min(len(v) for v in runs.values())
    rows = []
    for draw_name, draw in DRAWS.items():
        rng = random.Random(seed)
        for n in NS:
            alarms = caught = 0
            for _ in range(COMPARISONS):
                a, b = draw(rng, size, n)
                base = [runs["base"][i] for i in a]
                same = [runs["base"][i] for i in b]
                slower = [runs["slower"][i] for i in b]
                alarms += _regressed(base, same, rng)
                caught += _regressed(base, slower, rng)
            rows.append(
                {
                    "draw": draw_name,
                    "N": n,
                    "detection": caught / COMPARISONS,
                    "false_alarms": alarms / COMPARISONS,
                    "comparisons": COMPARISONS,
                }
            )
    return rows


def choose(rows: list[dict[str, Any]]) -> str:
    """The issue's rule on the session draws (a release's repeats run one after another): the
    smallest N with >= 80% detection and <= 5% false alarms. If none, the false-alarm bound
    comes first (a gate that stops good releases is switched off): the N with the fewest false
    alarms between sessions, the better detection on a tie."""
    session = [r for r in rows if r["draw"] == "session"]
    for r in session:
        if r["detection"] >= GOAL_DETECTION and r["false_alarms"] <= GOAL_FALSE_ALARMS:
            return f"N = {r['N']} meets the goal"
    best = min(session, key=lambda r: (r["false_alarms"], -r["detection"]))
    return (
        f"no N meets the goal between sessions; the fewest false alarms: N = {best['N']} "
        f"({best['detection']:.0%} detection, {best['false_alarms']:.0%} false alarms)"
    )


def _report(pool: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    took = f", recorded in {pool['elapsed_s']} s" if "elapsed_s" in pool else ""
    print(
        f"pool: {len(pool['runs']['base'])} + {len(pool['runs']['slower'])} runs of "
        f"{pool['duration_s']:g} s at {pool['rate']:g} req/s; load average "
        f"{pool['load_average'][0]:.1f} before, {pool['load_average_after'][0]:.1f} after{took}"
    )
    print(
        "| N | detection, random draws | false alarms, random | detection, sessions "
        "| false alarms, sessions | comparisons each |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    by = {(r["draw"], r["N"]): r for r in rows}
    for n in NS:
        rand, sess = by["random", n], by["session", n]
        print(
            f"| {n} | {rand['detection']:.0%} | {rand['false_alarms']:.0%} "
            f"| {sess['detection']:.0%} | {sess['false_alarms']:.0%} | {COMPARISONS} |"
        )
    print(choose(rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--duration", default="15s")
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--analyse", type=Path, help="a kept pool.json: re-analyse it only")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    if args.analyse:
        pool = json.loads(args.analyse.read_text())
    else:
        pool = record(args.runs, parse_duration(args.duration), args.rate)
        (OUT / "pool.json").write_text(json.dumps(pool, separators=(",", ":")))
    rows = analyse(pool)
    _report(pool, rows)
    (OUT / "power.json").write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
