"""The local loop and where its time goes: the CLI's start, the preview, a warm local run.

    .venv/bin/python -m benchmarks.bench_loop [--runs 5] [--only help,preview,run]

Every ratio is measured side by side in this one run (the commands interleaved), medians of
`--runs`:

- help: `perfenv --help` and `perfenv run --help` against a bare `python -c "import typer"`
  (goal: at most 2x).
- preview: `perfenv preview --stack perf` against its import floor, a python that imports and
  loads exactly the provider submodules the stack's resources come from (goal: at most 2x).
  pulumi_aws's submodules are lazy modules that load on first touch: the floor touches them,
  else it would time `import pulumi_aws` alone. The preview's split (interpreter and imports,
  evaluation, rendering) comes from a driver that calls what the command calls.
- run: a warm local `perfenv run` of the smoke suite on the perf stack (fleet and balancer
  included; an untimed first run starts the emulator and fills the parity cache), each phase's
  wall time from the run's record (`timings`, always on), and its overhead: the wall time minus
  the suite's planned duration (goal: at most 8 s).

Prints Markdown tables for the README, with the load average before and after: the machine is
shared, so say it with the numbers. A throwaway PERFENV_HOME and state store; the emulator
started here is stopped at the end.
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
BIN = Path(sys.executable).parent
PERFENV = str(BIN / "perfenv")
SUITE = REPO / "suites" / "smoke.yaml"
PHASES = {  # the run's record names (perfenv.cli.state.phases) and what they are
    "startup": "start-up: interpreter and the CLI's imports",
    "checks": "checks: config, suite, cost, parity (cached), TTL, baseline",
    "manifest": "manifest and cost record",
    "up": "up",
    "up/emulator": "... emulator (running: reused)",
    "up/evaluation": "... evaluation: worker start, imports, the program's first resource",
    "up/realization": "... realization: the resources created in the emulator",
    "up/health": "... app and balancer health: controller, apps, balancer, first checks",
    "health": "service_url health check",
    "suite": "suite",
    "suite/measure": "... the load itself (planned 10 s)",
    "suite/judging": "... judging: verdict, server side, comparison",
    "suite/store": "... store",
    "suite/reports": "... the four files: started here, written beside the teardown",
    "teardown": "teardown",
    "teardown/destroy": "... destroy: the stack's processes, then its resources",
    "teardown/leftovers": "... leftovers check",
    "reports": "the files (release history, report.html) still being written after teardown",
    "exit": "after the record: the process's exit",
}
PREVIEW_DRIVER = r"""
import importlib, json, sys, time
t0 = time.perf_counter()
import perfenv.cli.main  # what the command imports
for name in sys.argv[1].split(","):
    hasattr(importlib.import_module(name), "_load")  # lazy modules load on first touch
from perfenv.cli.program.preview import preview
t1 = time.perf_counter()
resources = preview("perf")
t2 = time.perf_counter()
from perfenv.cli.render import Format, render
render(resources, Format.json)
t3 = time.perf_counter()
print(json.dumps({"imports": t1 - t0, "evaluation": t2 - t1, "rendering": t3 - t2}))
"""
FLOOR = 'import importlib, sys\nfor n in sys.argv[1].split(","):\n'
FLOOR += '    hasattr(importlib.import_module(n), "_load")\n'


def wall(command: list[str], env: dict[str, str] | None = None) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True, check=True, timeout=900
    )
    return time.perf_counter() - started, done.stdout


def interleaved(commands: dict[str, list[str]], runs: int) -> dict[str, float]:
    """Median wall seconds of each command, the commands taking turns."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            times[name].append(wall(command)[0])
    return {name: statistics.median(values) for name, values in times.items()}


def provider_modules(types: set[str]) -> list[str]:
    """The pulumi_aws / pulumi_kubernetes modules that the resource types come from."""
    found = set()
    for type_ in types:
        package, module, name = type_.split(":")
        if package == "pulumi" and module == "providers":
            found.add(f"pulumi_{name}")
        elif package == "aws":
            group = module.split("/")[0]
            found.add("pulumi_aws" if group == "index" else f"pulumi_aws.{group}")
        elif package == "kubernetes":
            group, version = module.rsplit("/", 1)
            found.add(f"pulumi_kubernetes.{group.split('.')[0]}.{version}")
    return sorted(found)


def bench_help(runs: int) -> list[str]:
    python = str(BIN / "python")
    medians = interleaved(
        {
            "import typer": [python, "-c", "import typer"],
            "perfenv --help": [PERFENV, "--help"],
            "perfenv run --help": [PERFENV, "run", "--help"],
            "perfenv preview --help": [PERFENV, "preview", "--help"],
        },
        runs,
    )
    floor = medians.pop("import typer")
    rows = [f'| `python -c "import typer"` | {floor:.3f} s | 1.00x | |']
    for name, seconds in medians.items():
        rows.append(f"| `{name}` | {seconds:.3f} s | {seconds / floor:.2f}x | <= 2x |")
    return ["| command | median | vs import typer | goal |", "|---|---|---|---|", *rows]


def bench_preview(runs: int) -> list[str]:
    python = str(BIN / "python")
    _, out = wall([PERFENV, "preview", "--stack", "perf", "--format", "json"])
    modules = ",".join(provider_modules({r["type"] for r in json.loads(out)}))
    print(f"provider modules of the perf stack: {modules}", file=sys.stderr)
    preview = [PERFENV, "preview", "--stack", "perf", "--format", "json"]
    medians = interleaved(
        {"preview": preview, "floor": [python, "-c", FLOOR, modules]},
        runs,
    )
    splits = [json.loads(wall([python, "-c", PREVIEW_DRIVER, modules])[1]) for _ in range(runs)]
    split = {k: statistics.median(s[k] for s in splits) for k in splits[0]}
    ratio = medians["preview"] / medians["floor"]
    rest = medians["preview"] - split["evaluation"] - split["rendering"]
    return [
        "| what | median | goal |",
        "|---|---|---|",
        f"| `perfenv preview --stack perf` | {medians['preview']:.2f} s | |",
        f"| ... interpreter and imports | {rest:.2f} s | |",
        f"| ... evaluation | {split['evaluation']:.2f} s | |",
        f"| ... rendering | {split['rendering']:.3f} s | |",
        f"| import floor (the stack's provider submodules, loaded) | {medians['floor']:.2f} s | |",
        f"| preview / floor | {ratio:.2f}x | <= 2x |",
    ]


def bench_run(runs: int) -> list[str]:
    sys.path.insert(0, str(REPO))
    from perfenv.cli.verdict.suite import load_suite, planned_duration_s

    planned = planned_duration_s(load_suite(SUITE))
    with tempfile.TemporaryDirectory(prefix="perfenv-bench-loop-") as tmp:
        env = os.environ | {
            "PERFENV_HOME": f"{tmp}/home",
            "PERFENV_STATE_URL": f"file://{tmp}/state",
            "PERFENV_TARGET": "local",
        }

        def one(i: int) -> tuple[float, dict[str, float]]:
            command = [PERFENV, "run", "--release", f"0.0.{i}", "--suite", str(SUITE)]
            command += ["--out", f"{tmp}/out-{i}", "--baseline", "none", "--format", "json"]
            seconds, out = wall(command, env)
            timings: dict[str, float] = json.loads(out)["timings"]
            top = sum(v for k, v in timings.items() if "/" not in k)
            return seconds, timings | {"exit": max(0.0, seconds - top)}

        try:
            first, _ = one(0)  # untimed in the table: starts the emulator, fills the parity cache
            measured = [one(i) for i in range(1, runs + 1)]
        finally:
            subprocess.run([PERFENV, "local", "stop", "--force"], env=env, capture_output=True)
    walls = [w for w, _ in measured]
    print(f"run walls: {', '.join(f'{w:.2f}' for w in walls)}", file=sys.stderr)

    def median(name: str) -> float:
        return statistics.median(timings.get(name, 0.0) for _, timings in measured)

    rows = [f"| {what} | {median(name):.2f} s |" for name, what in PHASES.items()]
    overhead = statistics.median(w - planned for w in walls)
    return [
        "| phase of a warm local run (smoke suite, perf stack) | median |",
        "|---|---|",
        *rows,
        f"| **wall** | {statistics.median(walls):.2f} s |",
        f"| **overhead** (wall minus the suite's planned {planned:.0f} s; goal <= 8 s) "
        f"| {overhead:.2f} s |",
        f"| first run (as `make demo` on a fresh machine: starts the emulator, fills the parity "
        f"cache): overhead, once; goal < 15 s | {first - planned:.2f} s |",
    ]


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f} (1/5/15 min) on {os.cpu_count()} CPUs"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", default="help,preview,run")
    args = parser.parse_args()
    benches = {"help": bench_help, "preview": bench_preview, "run": bench_run}
    print(f"load average before: {_load()}")
    for name in args.only.split(","):
        print(f"\n{name} (medians of {args.runs}):\n")
        print("\n".join(benches[name](args.runs)))
    print(f"\nload average after: {_load()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
