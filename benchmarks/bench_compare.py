"""`compare`'s false-alarm rate and power, on recorded results of one build.

    .venv/bin/python -m benchmarks.bench_compare [--fixtures tests/fixtures/compare]

False alarms: every ordered pair of recorded runs of one build (single runs: block bootstrap),
and every ordered pair of disjoint groups of 3 runs (repeats: Welch). Power: the same pairs with
the candidate's latencies made 10% (and 30%) worse, every recorded latency scaled by the factor.
Each pair also carries its two runs' own difference (run-to-run noise), so power here is what a
user sees when the baseline and the candidate are separate runs, not a best case.
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from pathlib import Path
from typing import Any

from perfenv.cli.compare import compare_results
from perfenv.cli.compare.scaling import scaled_results

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "compare"


def _repeats(docs: list[dict[str, Any]]) -> dict[str, Any]:
    merged: dict[str, Any] = json.loads(json.dumps(docs[0]))
    for doc in docs[1:]:
        merged["scenarios"][0]["runs"] += doc["scenarios"][0]["runs"]
    return merged


def _rate(
    pairs: list[tuple[int, int]], docs: list[dict[str, Any]], factor: float
) -> tuple[float, int]:
    """Share of ordered pairs (baseline, candidate x factor) that `compare` calls a regression."""
    candidates = [scaled_results(d, factor) if factor != 1.0 else d for d in docs]
    hits = sum(
        compare_results(docs[i], candidates[j], baseline_label="b")["regressed"] for i, j in pairs
    )
    return hits / len(pairs), len(pairs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixtures", type=Path, default=FIXTURES)
    args = parser.parse_args()
    docs = [json.loads(p.read_text()) for p in sorted(args.fixtures.glob("same-build-*.json"))]
    groups = [_repeats(docs[i : i + 3]) for i in range(0, len(docs) - 2, 3)]
    singles = list(itertools.permutations(range(len(docs)), 2))
    repeats = list(itertools.permutations(range(len(groups)), 2))
    print(f"{len(docs)} recorded runs of one build; p95 per run (ms):")
    print("  " + ", ".join(f"{d['scenarios'][0]['stats']['p95']:.1f}" for d in docs))
    print(f"{'method':<28}{'pairs':>6}{'false alarms':>14}{'power +10%':>12}{'power +30%':>12}")
    for label, pairs, sides in (
        ("one run each (bootstrap)", singles, docs),
        ("3 repeats each (Welch)", repeats, groups),
    ):
        started = time.perf_counter()
        false_alarm, n = _rate(pairs, sides, 1.0)
        per_compare = (time.perf_counter() - started) / n
        power10, _ = _rate(pairs, sides, 1.10)
        power30, _ = _rate(pairs, sides, 1.30)
        print(
            f"{label:<28}{n:>6}{false_alarm:>13.1%}{power10:>12.1%}{power30:>12.1%}"
            f"   ({per_compare * 1000:.0f} ms per comparison)"
        )


if __name__ == "__main__":
    main()
