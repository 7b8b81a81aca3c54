"""What an environment stack costs per hour and for H hours, item by item, from the price table.

Every line is exact (`Decimal`): the instance line is desired size x hours x the table's price,
nothing rounded. Monthly prices (EBS, alarms, dashboards) become hourly over the table's
`hours_per_month` (730, as AWS bills them). What the lines count is `cli.cost.usage`: everything
the stack creates, the load generator included; each line's basis says whether its quantity is
the config's, an assumption, or not included at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from perfenv.cli.cost.money import cents, plain, sub_cents
from perfenv.cli.cost.prices import PriceTable
from perfenv.cli.cost.usage import CONFIG, NOT_INCLUDED, Usage, generator_instances, usage_lines
from perfenv.infra.config import EnvironmentConfig


@dataclass(frozen=True, kw_only=True)
class EstimateLine:
    item: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    per_hour: Decimal
    total: Decimal  # for the estimate's hours
    note: str = ""
    basis: str = CONFIG  # config | assumption | not included
    in_total: bool = True  # False: an alternative shown for comparison, or not included

    @classmethod
    def of(cls, usage: Usage, hours: Decimal) -> EstimateLine:
        return cls(
            item=usage.item,
            quantity=usage.quantity,
            unit=usage.unit,
            unit_price=usage.unit_price,
            per_hour=usage.per_hour,
            total=usage.per_hour * hours,
            note=usage.note,
            basis=usage.basis,
            in_total=usage.basis != NOT_INCLUDED,
        )

    def row(self, currency: str) -> dict[str, Any]:
        cur = currency.lower()
        return {
            "item": self.item,
            "quantity": plain(self.quantity),
            "unit": self.unit,
            f"unit_price_{cur}": self.unit_price,
            f"per_hour_{cur}": sub_cents(self.per_hour),
            f"total_{cur}": sub_cents(self.total),
            "basis": self.basis,
            "note": self.note,
        }


@dataclass(frozen=True, kw_only=True)
class Estimate:
    stack: str
    environment: str
    region: str
    hours: Decimal
    currency: str
    price_source: str
    price_date: str
    lines: tuple[EstimateLine, ...]
    per_hour_at_max: Decimal
    notes: tuple[str, ...] = field(default_factory=tuple)
    cap: Decimal | None = None  # the spend cap it was checked against, when one applied

    @property
    def per_hour(self) -> Decimal:
        return sum((line.per_hour for line in self.lines if line.in_total), Decimal(0))

    @property
    def total(self) -> Decimal:
        """For `hours`, with the fleet at its desired size."""
        return sum((line.total for line in self.lines if line.in_total), Decimal(0))

    @property
    def total_at_max(self) -> Decimal:
        """For `hours`, with the fleet at its max size: what a run can cost when load scales it."""
        return self.per_hour_at_max * self.hours

    def line(self, item: str) -> EstimateLine:
        return next(line for line in self.lines if line.item == item)

    def rows(self) -> list[dict[str, Any]]:
        cur = self.currency.lower()
        rows = [line.row(self.currency) for line in self.lines]
        blank = dict.fromkeys(rows[0], "")
        rows.append(
            {
                **blank,
                "item": "TOTAL (fleet at desired size)",
                f"per_hour_{cur}": sub_cents(self.per_hour),
                f"total_{cur}": cents(self.total),
            }
        )
        rows.append(
            {
                **blank,
                "item": "TOTAL (fleet at max size)",
                f"per_hour_{cur}": sub_cents(self.per_hour_at_max),
                f"total_{cur}": cents(self.total_at_max),
            }
        )
        return rows

    def to_dict(self) -> dict[str, Any]:
        """The `cost` section of results.json and the per-run cost record's estimate."""
        return {
            "stack": self.stack,
            "environment": self.environment,
            "region": self.region,
            "hours": plain(self.hours),
            "currency": self.currency,
            "per_hour": str(sub_cents(self.per_hour)),
            "total": str(cents(self.total)),
            "total_at_max": str(cents(self.total_at_max)),
            "price_source": self.price_source,
            "price_date": self.price_date,
            "cap": None if self.cap is None else str(self.cap),
            "lines": [
                {
                    "item": line.item,
                    "quantity": plain(line.quantity),
                    "unit": line.unit,
                    "unit_price": str(line.unit_price),
                    "per_hour": str(line.per_hour),
                    "total": str(sub_cents(line.total)),
                    "note": line.note,
                    "basis": line.basis,
                    "in_total": line.in_total,
                }
                for line in self.lines
            ],
            "notes": list(self.notes),
        }


def estimate_environment(
    stack: str,
    env: EnvironmentConfig,
    hours: Decimal,
    table: PriceTable,
    workers: int | None = None,
) -> Estimate:
    """The stack's cost for `hours`, item by item, in the environment's region; `workers` sizes
    the load generator (default: the stack's `load_generator.workers`)."""
    prices = table.region(env.region)
    itype = env.fleet.instance_type
    price = table.instance_price(env.region, itype)
    desired, most = env.fleet.desired, env.fleet.max
    generators = generator_instances(env, workers)
    lines = [
        EstimateLine(
            item="instances (desired size)",
            quantity=Decimal(desired),
            unit=f"{itype}-hour",
            unit_price=price,
            per_hour=desired * price,
            total=desired * hours * price,
            note=f"fleet.desired = {desired}",
        ),
        EstimateLine(
            item="instances (max size)",
            quantity=Decimal(most),
            unit=f"{itype}-hour",
            unit_price=price,
            per_hour=most * price,
            total=most * hours * price,
            note=f"fleet.max = {most}; not in the desired-size total",
            in_total=False,
        ),
        *(EstimateLine.of(u, hours) for u in usage_lines(env, table, desired, generators)),
    ]
    at_max = most * price + sum(
        (u.per_hour for u in usage_lines(env, table, most, generators)), Decimal(0)
    )
    return Estimate(
        stack=stack,
        environment=env.name,
        region=env.region,
        hours=hours,
        currency=table.currency,
        price_source=prices.source,
        price_date=prices.date,
        lines=tuple(lines),
        per_hour_at_max=at_max,
        notes=tuple(f"{line.item}: {line.note}" for line in lines if line.basis == NOT_INCLUDED),
    )
