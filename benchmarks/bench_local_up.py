"""Benchmark: the local target's `up` (perf stack realized in the emulator, app healthy) and
`destroy`, median of 5, in a throwaway PERFENV_HOME with its own emulator (stopped at the end).

Each `up` includes the worker subprocess (interpreter start, pulumi and pulumi_aws imports, the
program's evaluation against the emulator) and the app's health check. The emulator's start-up
(once per machine, reused after) is timed separately.

    .venv/bin/python -m benchmarks.bench_local_up [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from perfenv.cli.targets.local import LocalTarget, emulator
from perfenv.infra.config import load_stack_file


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    os.environ["PERFENV_HOME"] = tempfile.mkdtemp(prefix="perfenv-bench-local-")
    config = load_stack_file(Path(__file__).resolve().parent.parent / "stacks" / "Pulumi.perf.yaml")
    target = LocalTarget()

    started = time.perf_counter()
    emulator.ensure_running()
    start_s = time.perf_counter() - started
    ups, downs, resources = [], [], 0
    try:
        for run in range(args.runs):
            stack = f"perf-bench-{run}"
            tags = {"perfenv:stack": stack, "perfenv:environment": "perf"}
            started = time.perf_counter()
            result = target.up(stack, config, tags, lambda line: None)
            ups.append(time.perf_counter() - started)
            resources = result.resources
            started = time.perf_counter()
            target.destroy(stack, lambda line: None)
            downs.append(time.perf_counter() - started)
            assert target.leftovers(stack) == [], f"{stack} left resources behind"
            target.remove(stack)
    finally:
        emulator.stop(force=True)
    print(f"emulator start-up:        {start_s:6.2f} s (once; reused by later commands)")
    print(
        f"up (perf stack + app):    {statistics.median(ups):6.2f} s median of {args.runs}"
        f" ({resources} resources; min {min(ups):.2f}, max {max(ups):.2f})"
    )
    print(
        f"destroy:                  {statistics.median(downs):6.2f} s median of {args.runs}"
        f" (min {min(downs):.2f}, max {max(downs):.2f})"
    )
    total = statistics.median(u + d for u, d in zip(ups, downs, strict=True))
    print(f"up + destroy:             {total:6.2f} s median")


if __name__ == "__main__":
    main()
