"""Benchmark: scale-out reaction on the local target, breach to a third instance in service.

    .venv/bin/python -m benchmarks.bench_scale_out [--rounds 3]

Each round brings up an ephemeral perf stack (`perfenv up`, the perf template: 2 instances,
max 4, request-count target 1000 per target per 60 s, local metric period 10 s at the default
time scale 6), runs one `scale` scenario against it with `perfenv test --stack` (100 req/s, then
300 req/s from 10 s: 150 per instance, past the target) and takes it down. The reading is the
scenario's `in_service_time`: from the load step (the breach) until the probe saw a third
instance healthy behind the balancer; `scale_out_time` (to the scale-out activity) beside it.

Goal: the median breach-to-third-instance time under 60 s. Prints each round, the medians and
the load average before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

SUITE = """\
name: bench-scale-out
requests:
  - {method: GET, path: /items}
scenarios:
  - {name: scale-out, kind: scale, base_rate: 100, rate: 300, step_at: 10s, duration: 80s}
"""
PERFENV = [sys.executable, "-m", "perfenv.cli.main"]


def _perfenv(*args: str, timeout: float = 600) -> str:
    done = subprocess.run(
        [*PERFENV, *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode not in (0, 1):
        raise SystemExit(f"perfenv {' '.join(args)} exited {done.returncode}: {done.stderr}")
    return done.stdout + done.stderr


def one_round(index: int, work: Path) -> dict[str, float | None]:
    up = _perfenv("up", "--release", f"0.0.{index}-bench", "--target", "local")
    match = re.search(r"(perf-0-0-\d+-bench-[a-z0-9]+)", up)
    if not match:
        raise SystemExit(f"no stack in: {up}")
    stack = match.group(1)
    try:
        out = work / f"round{index}"
        _perfenv("test", "--stack", stack, "--suite", str(work / "suite.yaml"), "--out", str(out))
        analysis = json.loads((out / "results.json").read_text())["scenarios"][0]["analysis"]
    finally:
        _perfenv("down", "--stack", stack)
    return {
        "scale_out_time_s": analysis.get("scale_out_time_s"),
        "in_service_time_s": analysis.get("in_service_time_s"),
        "in_service_after": analysis.get("in_service_after"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    before = os.getloadavg()
    rounds = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "suite.yaml").write_text(SUITE)
        for index in range(1, args.rounds + 1):
            rounds.append(one_round(index, work))
            print(f"round {index}: {rounds[-1]}", flush=True)
    after = os.getloadavg()

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
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
