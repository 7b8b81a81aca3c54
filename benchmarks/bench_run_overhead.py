"""Overhead of a local `perfenv run`: wall time minus the suite's own planned duration.

    .venv/bin/python benchmarks/bench_run_overhead.py [--runs 5] [--suite suites/smoke.yaml]

Each run is a real `perfenv run --target local` (checks, manifest, up in the emulator, the app,
the suite, teardown, leftovers check) in a fresh PERFENV_HOME shared by the runs, so the first
run pays for starting the emulator and later ones reuse it, as on a developer's machine.
Prints every run and the median; the goal is a median under 15 s.
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
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
GOAL_S = 15.0


# Progress lines start with HH:MM:SS; these mark the phases of a run (1 s resolution).
_MARKS = {
    "start": "manifest in",
    "suite": "scenario ",
    "teardown": "destroying ",
    "end": "destroyed, nothing left",
}


def _phases(stderr: str) -> dict[str, float]:
    """Seconds spent bringing the stack up, in the suite (+ reports), and tearing down."""
    seen: dict[str, int] = {}
    for line in stderr.splitlines():
        stamp, _, text = line.partition(" ")
        if len(stamp) != 8 or stamp[2] != ":":
            continue
        h, m, sec = (int(x) for x in stamp.split(":"))
        for name, mark in _MARKS.items():
            if mark in text and name not in seen:
                seen[name] = h * 3600 + m * 60 + sec
    if len(seen) < len(_MARKS):
        return {}
    return {
        "up_s": seen["suite"] - seen["start"],
        "suite_and_reports_s": seen["teardown"] - seen["suite"],
        "teardown_s": seen["end"] - seen["teardown"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--suite", type=Path, default=REPO / "suites" / "smoke.yaml")
    args = parser.parse_args()

    sys.path.insert(0, str(REPO))
    from perfenv.cli.verdict.suite import load_suite, planned_duration_s

    planned = planned_duration_s(load_suite(args.suite))
    perfenv = str(REPO / ".venv" / "bin" / "perfenv")
    with tempfile.TemporaryDirectory(prefix="perfenv-bench-") as tmp:
        env = os.environ | {
            "PERFENV_HOME": f"{tmp}/home",
            "PERFENV_STATE_URL": f"file://{tmp}/state",
            "PERFENV_TARGET": "local",
        }
        rows = []
        try:
            for i in range(args.runs):
                out = Path(tmp) / f"out-{i}"
                cmd = [perfenv, "run", "--release", f"0.0.{i}", "--suite", str(args.suite)]
                cmd += ["--out", str(out), "--baseline", "none", "--format", "json"]
                started = time.perf_counter()
                done = subprocess.run(
                    cmd, env=env, cwd=REPO, capture_output=True, text=True, timeout=900
                )
                wall = time.perf_counter() - started
                phases = _phases(done.stderr)
                rows.append(
                    {
                        "run": i,
                        "exit": done.returncode,
                        "wall_s": round(wall, 2),
                        "overhead_s": round(wall - planned, 2),
                        **phases,
                    }
                )
                print(json.dumps(rows[-1]), file=sys.stderr)
                if done.returncode != 0:
                    print(done.stderr[-2000:], file=sys.stderr)
        finally:
            subprocess.run(
                [perfenv, "local", "stop", "--force"],
                env=env,
                cwd=REPO,
                capture_output=True,
                timeout=60,
            )
    overheads = [r["overhead_s"] for r in rows if r["exit"] == 0]
    median = statistics.median(overheads) if overheads else float("nan")
    summary = {
        "suite": str(
            args.suite.relative_to(REPO) if args.suite.is_relative_to(REPO) else args.suite
        ),
        "planned_s": planned,
        "runs": rows,
        "median_overhead_s": round(median, 2),
        "goal_s": GOAL_S,
        "load_average_1m": round(os.getloadavg()[0], 2),  # 2 shared cores: context for the numbers
        "met": bool(overheads) and median < GOAL_S,
    }
    print(json.dumps(summary, indent=2))
    return 0 if summary["met"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
