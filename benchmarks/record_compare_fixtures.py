"""Record results of one build, run after run, as fixtures for `compare`'s false-alarm tests.

    .venv/bin/python -m benchmarks.record_compare_fixtures [--runs 12] [--duration 20s]

Starts the reference service (examples/service) on a free loopback port, runs one load scenario
against it `--runs` times with perfenv's real engine, and writes each run's results.json to
tests/fixtures/compare/same-build-NN.json. Every pair of these is a comparison of a build with
itself: `compare` must call (almost) none of them a regression.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from perfenv.cli.durations import parse_duration
from perfenv.cli.lifecycle.testrun import run_suite
from perfenv.cli.state.store import open_store
from perfenv.cli.verdict.suite import parse_suite

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "tests" / "fixtures" / "compare"
SERVICE_ARGS = (
    *("--latency-ms", "20", "--latency-jitter-ms", "5"),
    *("--slow-fraction", "0.03", "--slow-ms", "80", "--concurrency", "64"),
)


def start_service(
    work: Path, args: tuple[str, ...] = SERVICE_ARGS
) -> tuple[subprocess.Popen[bytes], str]:
    ready = work / "ready"
    log = (work / "service.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "perfenv.examples.service",
            "--port",
            "0",
            "--ready-file",
            str(ready),
        ]
        + list(args),
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if ready.exists() and "http://" in ready.read_text():
            url = ready.read_text().split()[-1]
            return proc, url
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    stop(proc)
    raise SystemExit(f"the reference service did not start; see {work / 'service.log'}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=12)
    parser.add_argument("--duration", default="20s")
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    suite = parse_suite(
        {
            "name": "compare-fixture",
            "requests": [
                {"method": "GET", "path": "/items", "weight": 5},
                {"method": "GET", "path": "/health", "weight": 1},
            ],
            "scenarios": [
                {
                    "name": "load",
                    "kind": "load",
                    "rate": args.rate,
                    "duration": parse_duration(args.duration),
                    "warmup": 2,
                }
            ],
            "budgets": ["p95 < 500ms", "error_rate < 1%"],
        },
        "record_compare_fixtures",
    )
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="perfenv-record-") as tmp:
        work = Path(tmp)
        store = open_store(f"file://{work / 'state'}")
        proc, url = start_service(work)
        try:
            for i in range(1, args.runs + 1):
                outcome = run_suite(suite, url, work / f"run-{i}", baseline=None, store=store)
                doc = json.loads(outcome.results_path.read_text())
                target = args.out / f"same-build-{i:02d}.json"
                target.write_text(json.dumps(doc, separators=(",", ":")) + "\n")
                stats = doc["scenarios"][0]["stats"]
                print(
                    f"{target.name}: {outcome.verdict}, p50 {stats['p50']:.1f} ms, "
                    f"p95 {stats['p95']:.1f} ms, p99 {stats['p99']:.1f} ms",
                    flush=True,
                )
        finally:
            stop(proc)


if __name__ == "__main__":
    main()
