"""Benchmark: scale-out reaction on the local target, breach to a third instance in service.

    PYTHONPATH=. .venv/bin/python -m benchmarks.bench_scale_out [--rounds 3]

Run from the project's root. It runs alone: a throwaway PERFENV_HOME with its own emulator,
stopped at the end (with every stack it brought up taken down), and bounded: each command has
a deadline (on one, perfenv is interrupted as Ctrl-C would, so it tears down, then killed), and
the whole benchmark stops starting rounds after `--budget` seconds (default 15 minutes; the 3
rounds took 321 s here at a load average of 4-8, the first with the emulator's start).

Each round brings up an ephemeral perf stack (`perfenv up`, the perf template: 2 instances,
max 4, request-count target 1000 per target per 60 s, local metric period 10 s at the default
time scale 6), runs one `scale` scenario against it with `perfenv test --stack` (100 req/s, then
280 req/s from 10 s: 140 per instance, past the target, for ceil(1400 x 2 / 1000) = 3 instances)
and takes it down. The reading is the scenario's `in_service_time`: from the load step (the
breach) until the probe saw a third instance healthy behind the balancer; `scale_out_time` (to
the scale-out activity) beside it.

Goal: the median breach-to-third-instance time under 60 s. Prints each round, the medians and
the load average before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SUITE = """\
name: bench-scale-out
requests:
  - {method: GET, path: /items}
scenarios:
  - {name: scale-out, kind: scale, base_rate: 100, rate: 280, step_at: 10s, duration: 80s}
"""
PERFENV = [sys.executable, "-m", "perfenv.cli.main"]


def _perfenv(*args: str, timeout: float) -> str:
    """perfenv's output; interrupted (SIGINT: it tears down) past `timeout`, killed 60 s later."""
    with subprocess.Popen(
        [*PERFENV, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as proc:
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGINT)
            try:
                proc.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()
            raise SystemExit(f"perfenv {' '.join(args)} took over {timeout:.0f} s") from None
    if proc.returncode not in (0, 1):
        raise SystemExit(f"perfenv {' '.join(args)} exited {proc.returncode}: {err}")
    return out + err


def one_round(index: int, work: Path) -> dict[str, float | None]:
    up = _perfenv("up", "--release", f"0.0.{index}-bench", "--target", "local", timeout=180)
    match = re.search(r"(perf-0-0-\d+-bench-[a-z0-9]+)", up)
    if not match:
        raise SystemExit(f"no stack in: {up}")
    stack = match.group(1)
    try:
        out = work / f"round{index}"
        suite = str(work / "suite.yaml")
        _perfenv("test", "--stack", stack, "--suite", suite, "--out", str(out), timeout=240)
        analysis = json.loads((out / "results.json").read_text())["scenarios"][0]["analysis"]
    finally:
        _perfenv("down", "--stack", stack, timeout=180)
    return {
        "scale_out_time_s": analysis.get("scale_out_time_s"),
        "in_service_time_s": analysis.get("in_service_time_s"),
        "in_service_after": analysis.get("in_service_after"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--budget", type=float, default=900, help="seconds; no round starts after")
    args = parser.parse_args()
    before, started = os.getloadavg(), time.monotonic()
    rounds = []
    with tempfile.TemporaryDirectory(prefix="perfenv-bench-scale-") as tmp:
        work = Path(tmp)
        os.environ["PERFENV_HOME"] = str(work / "home")  # its own emulator and stacks
        (work / "suite.yaml").write_text(SUITE)
        try:
            for index in range(1, args.rounds + 1):
                if time.monotonic() - started > args.budget:
                    print(f"budget of {args.budget:.0f} s spent: {index - 1} rounds", flush=True)
                    break
                rounds.append(one_round(index, work))
                print(f"round {index}: {rounds[-1]}", flush=True)
        finally:
            _perfenv("local", "stop", "--force", timeout=60)
    after, took = os.getloadavg(), time.monotonic() - started

    def median(key: str) -> float | None:
        values = [r[key] for r in rounds if r[key] is not None]
        return statistics.median(values) if values else None

    print(
        json.dumps(
            {
                "rounds": len(rounds),
                "median_in_service_time_s": median("in_service_time_s"),
                "median_scale_out_time_s": median("scale_out_time_s"),
                "load_average_before": before,
                "load_average_after": after,
                "wall_s": round(took, 1),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
