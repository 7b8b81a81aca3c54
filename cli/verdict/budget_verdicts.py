"""Each budget's verdict on a scenario: over the whole steady state, or its worst window."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from perfenv.cli.verdict.budgets import FAIL, INVALID, PASS, Budget, judge_budget, value_text
from perfenv.cli.verdict.measurement import Window
from perfenv.cli.verdict.windows import worst_window


@dataclass(frozen=True, kw_only=True)
class BudgetVerdict:
    budget: Budget
    verdict: str
    value: float | None
    at_s: int | None = None  # a windowed budget: the second its worst window ended

    def as_dict(self) -> dict[str, Any]:
        out = {
            "budget": self.budget.text,
            "metric": self.budget.metric,
            "op": self.budget.op,
            "threshold": self.budget.threshold,
            "unit": self.budget.unit,
            "value": self.value,
            "verdict": self.verdict,
        }
        if self.budget.window_s is not None:
            out.update(window_s=self.budget.window_s, worst_window_end_s=self.at_s)
        if self.budget.abort:
            out.update(abort=True, abort_after_s=self.budget.abort_after_s)
        return out

    @property
    def line(self) -> str:
        measured = value_text(self.budget.metric, self.value)
        if self.budget.window_s is not None and self.at_s is not None:
            measured += f" (worst {self.budget.window_s}s window, ending at {self.at_s + 1}s)"
        return f"{self.budget.text}: measured {measured}"


def judge_budgets(
    budgets: Sequence[Budget],
    stats: Mapping[str, float | None],
    runs: Sequence[Sequence[Window]] = (),
) -> tuple[BudgetVerdict, ...]:
    """Each budget on `stats`; a windowed one on every window of `runs` (each run's steady
    windows), or on `stats` when there are no windows (a summary-only run)."""
    out = []
    for budget in budgets:
        if budget.window_s is not None and any(runs):
            value, at = worst_window(budget.metric, budget.window_s, budget.upper, runs)
            verdict = INVALID if value is None else PASS if budget.holds(value) else FAIL
            out.append(BudgetVerdict(budget=budget, verdict=verdict, value=value, at_s=at))
            continue
        verdict, value = judge_budget(budget, stats)
        out.append(BudgetVerdict(budget=budget, verdict=verdict, value=value))
    return tuple(out)
