"""Benchmark: the local target's `up` (perf stack realized in the emulator, its 2 instances in
service and healthy behind the balancer) and `destroy`, median of 5, in a throwaway PERFENV_HOME
with its own emulator (stopped at the end).

Each `up` includes the worker subprocess (interpreter start, pulumi and pulumi_aws imports, the
program's evaluation against the emulator), then the fleet: the stack's controller, its
balancer, the app processes and their first health checks (timed apart). The emulator's
start-up (once per machine, reused after) is timed separately. Prints the load average.

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


def _mark(line: str, marks: dict[str, float]) -> None:
    """When `up` hands over to the fleet (the program's resources all exist)."""
    if line.startswith("starting the fleet"):
        marks["fleet"] = time.perf_counter()


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
    ups, fleets, downs, resources = [], [], [], 0
    try:
        for run in range(args.runs):
            stack = f"perf-bench-{run}"
            tags = {"perfenv:stack": stack, "perfenv:environment": "perf"}
            started = time.perf_counter()
            marks: dict[str, float] = {}
            result = target.up(stack, config, tags, lambda line, m=marks: _mark(line, m))
            ups.append(time.perf_counter() - started)
            fleets.append(time.perf_counter() - marks["fleet"])
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
        f"up (perf stack + fleet):    {statistics.median(ups):6.2f} s median of {args.runs}"
        f" ({resources} resources; min {min(ups):.2f}, max {max(ups):.2f})"
    )
    print(
        f"... of which the fleet:   {statistics.median(fleets):6.2f} s median"
        " (controller, balancer, 2 apps, healthy)"
    )
    print(
        f"destroy:                  {statistics.median(downs):6.2f} s median of {args.runs}"
        f" (min {min(downs):.2f}, max {max(downs):.2f})"
    )
    total = statistics.median(u + d for u, d in zip(ups, downs, strict=True))
    print(f"up + destroy:             {total:6.2f} s median")
    print(f"load average {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
