"""Wall-clock time of `perfenv preview --stack perf` (goal: under 5 s), median of 5 runs.

Each run is a fresh process, as a user would run it: interpreter start, imports, the program's
evaluation under mocks and rendering. The CPU time (user + sys) is printed too: on a shared,
loaded machine it says what the wall clock would be on an idle one.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RUNS = 5
GOAL_S = 5.0


def main() -> int:
    perfenv = Path(sys.executable).parent / "perfenv"
    command = [str(perfenv), "preview", "--stack", "perf", "--format", "json"]
    times, cpu = [], []
    for _ in range(RUNS):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(command, cwd=REPO, check=True, stdin=subprocess.DEVNULL, capture_output=True)
        times.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    median = statistics.median(times)
    runs = ", ".join(f"{t:.2f}" for t in times)
    print(f"perfenv preview --stack perf: median {median:.2f} s wall over {RUNS} runs ({runs})")
    print(f"median CPU (user + sys): {statistics.median(cpu):.2f} s; load: {_load()}")
    print(f"goal < {GOAL_S:.0f} s: {'met' if median < GOAL_S else 'MISSED'}")
    return 0 if median < GOAL_S else 1


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} CPUs"


if __name__ == "__main__":
    raise SystemExit(main())
