"""Budgets that stop a run: `{budget: "error_rate < 5% over 10s", abort: true, abort_after: 20s}`.

While a scenario runs, each measured second goes to its abort budgets; the first breach raises
`BudgetBreached`, which the engine answers by stopping its generator and handing back what it
measured so far. The run then skips what is left, tears down as usual, and exits 1 with the
verdict "aborted by budget". A windowed budget is checked once its window is full of steady
seconds; a whole-run one on every steady second so far. Neither before `abort_after`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from perfenv.cli.verdict.budgets import Budget, value_text
from perfenv.cli.verdict.measurement import ScenarioMeasurement, Window
from perfenv.cli.verdict.windows import Sliding

ABORTED = "aborted"  # the suite's verdict after a breach


@dataclass(frozen=True, kw_only=True)
class Breach:
    scenario: str
    budget: Budget
    at_s: int  # the scenario's second whose end showed the breach
    value: float

    @property
    def text(self) -> str:
        return (
            f"aborted by budget: {self.budget.text} breached in scenario {self.scenario} "
            f"at {self.at_s + 1} s (measured {value_text(self.budget.metric, self.value)})"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "budget": self.budget.text,
            "at_s": self.at_s + 1,
            "value": self.value,
            "reason": self.text,
        }


class BudgetBreached(Exception):  # noqa: N818 - a signal to stop, not a failure of the code
    """Raised from a scenario's progress hook; the engine attaches what it measured so far."""

    def __init__(self, breach: Breach) -> None:
        super().__init__(breach.text)
        self.breach = breach
        self.measurement: ScenarioMeasurement | None = None


class AbortWatch:
    """A scenario's abort budgets, fed its measured seconds in order."""

    def __init__(self, scenario: str, budgets: Sequence[Budget], warmup_s: int) -> None:
        self.scenario, self.warmup_s = scenario, warmup_s
        self.watched = [(b, Sliding(b.window_s)) for b in budgets if b.abort]

    def see(self, window: Window) -> None:
        """BudgetBreached when this second shows an abort budget breached."""
        if window.t < self.warmup_s:
            return
        for budget, sliding in self.watched:
            sliding.add(window)
            if window.t + 1 < budget.abort_after_s or not sliding.full:
                continue
            value = sliding.value(budget.metric)
            if value is not None and not budget.holds(value):
                raise BudgetBreached(
                    Breach(scenario=self.scenario, budget=budget, at_s=window.t, value=value)
                )
