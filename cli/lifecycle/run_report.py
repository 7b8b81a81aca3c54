"""What `perfenv run` is asked (`RunOptions`) and what it answers (`RunReport`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from perfenv.cli.durations import DEFAULT_TTL
from perfenv.cli.errors import OK


@dataclass(frozen=True, kw_only=True)
class RunOptions:
    release: str
    target: str | None = None
    suite: Path
    ttl: str = DEFAULT_TTL
    out_dir: Path | None = None  # default: one per run, `perfenv-results/<stack>`
    baseline: str = "auto"
    keep_on_failure: bool = False
    workers: int | None = None
    max_cost: float | None = None  # --max-cost, USD; the suite's max_cost_usd also applies
    repeat: int | None = None  # runs of each steady scenario; default the suite's `repeat:`
    template: Path | None = None  # default: the project's perf template


RECORD_COLUMNS = [
    "stack",
    "release",
    "target",
    "verdict",
    "exit_code",
    "status",
    "out_dir",
    "results",
    "leftovers",
]


@dataclass(kw_only=True)
class RunReport:
    stack: str
    release: str
    target: str
    exit_code: int = OK
    verdict: str = ""
    messages: list[str] = field(default_factory=list)
    out_dir: str = ""
    results: str = ""
    leftovers: list[str] = field(default_factory=list)
    status: str = ""
    timings: dict[str, float] = field(default_factory=dict)  # seconds per phase (state.phases)

    def record(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "release": self.release,
            "target": self.target,
            "verdict": self.verdict,
            "exit_code": self.exit_code,
            "status": self.status,
            "out_dir": self.out_dir,
            "results": self.results,
            "leftovers": len(self.leftovers),
            "timings": self.timings,  # in the JSON record; tables show the RECORD_COLUMNS
        }
