"""The spend cap: a run whose estimate exceeds its cap stops before anything is created.

The run is priced for the suite's planned duration plus the table's set-up and teardown margin,
with the fleet at its max size (load is what makes the fleet scale, so that is what a perf run
can cost) and the load generator as the run sizes it: `--workers`, else enough workers for the
suite's busiest second (`load_generator.workers_for`).
"""

from __future__ import annotations

from dataclasses import replace
from decimal import ROUND_CEILING, Decimal

from perfenv.cli.cost.estimate import Estimate, estimate_environment
from perfenv.cli.cost.money import cents, dec, plain
from perfenv.cli.cost.prices import PriceTable, load_prices
from perfenv.cli.errors import BadInput
from perfenv.cli.verdict.suite import Suite, planned_duration_s
from perfenv.infra.config import StackFile


def run_hours(suite: Suite, table: PriceTable, repeat: int | None = None) -> Decimal:
    """The suite's planned duration plus set-up and teardown, in hours (up to the next 0.01 h)."""
    seconds = dec(planned_duration_s(suite, repeat=repeat))
    hours = seconds / Decimal(3600) + table.assumptions.setup_teardown_hours
    return hours.quantize(Decimal("0.01"), rounding=ROUND_CEILING)


def peak_rate(suite: Suite) -> float:
    """Requests per second the suite plans in its busiest second."""
    return max((max(s.rates(), default=0.0) for s in suite.scenarios), default=0.0)


def check_cost_cap(
    stack_file: StackFile,
    suite: Suite,
    hours: float | Decimal | None = None,
    *,
    stack: str | None = None,
    cap_usd: float | Decimal | None = None,
    prices: PriceTable | None = None,
    repeat: int | None = None,
    workers: int | None = None,
) -> Estimate:
    """The run's estimate; BadInput (exit 2) when it exceeds the run's or the suite's cap.

    `hours` defaults to the suite's planned duration plus the set-up/teardown margin. A run's
    own cap (`--max-cost`) never lifts the suite's `max_cost_usd`: the lower one applies.
    """
    if stack_file.environment is None:
        raise BadInput(f"{stack_file.path.name}: config: not an environment stack")
    table = prices or load_prices()
    run_h = dec(hours) if hours is not None else run_hours(suite, table, repeat)
    env = stack_file.environment
    if workers is None:
        workers = env.load_generator.workers_for(peak_rate(suite))
    estimate = estimate_environment(stack or stack_file.stack, env, run_h, table, workers)
    caps = [(dec(cap_usd), "--max-cost")] if cap_usd is not None else []
    if suite.max_cost_usd is not None:
        caps.append((dec(suite.max_cost_usd), "max_cost_usd"))
    if not caps:
        return estimate
    cap, name = min(caps)
    return check_cap(estimate, cap, name)


def check_cap(estimate: Estimate, cap: float | Decimal, name: str) -> Estimate:
    """The estimate with its cap; BadInput (exit 2) when the run can cost more than `cap`."""
    limit = Decimal(plain(dec(cap)))  # 1000.0 from the command line reads 1000
    if estimate.total_at_max > limit:
        raise BadInput(
            f"estimated cost ${cents(estimate.total_at_max)} exceeds {name} ${limit} "
            f"({estimate.stack}: {cents(estimate.hours)} h with the fleet at max size, "
            f"{estimate.region} prices of {estimate.price_date})"
        )
    return replace(estimate, cap=limit)
