"""What an environment stack costs per hour and for H hours, item by item, from the price table.

Every line is exact (`Decimal`): the instance line is desired size x hours x the table's price,
nothing rounded. Monthly prices (EBS, alarms, dashboards) become hourly over the table's
`hours_per_month` (730, as AWS bills them). Usage that no price list can know (capacity units,
NAT data, log volume) comes from the table's `assumptions` and each such line says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from perfenv.cli.cost.money import cents, plain, sub_cents
from perfenv.cli.cost.prices import PriceTable, RegionPrices
from perfenv.infra.config import EnvironmentConfig

MONTHLY_PRECISION = Decimal("1e-10")


@dataclass(frozen=True, kw_only=True)
class EstimateLine:
    item: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    per_hour: Decimal
    total: Decimal  # for the estimate's hours
    note: str = ""
    in_total: bool = True  # False: an alternative shown for comparison (the fleet at max)

    def row(self, currency: str) -> dict[str, Any]:
        cur = currency.lower()
        return {
            "item": self.item,
            "quantity": plain(self.quantity),
            "unit": self.unit,
            f"unit_price_{cur}": self.unit_price,
            f"per_hour_{cur}": sub_cents(self.per_hour),
            f"total_{cur}": sub_cents(self.total),
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
                    "in_total": line.in_total,
                }
                for line in self.lines
            ],
            "notes": list(self.notes),
        }


def _per_hour_lines(
    env: EnvironmentConfig, prices: RegionPrices, table: PriceTable, instances: int
) -> list[tuple[str, Decimal, str, Decimal, str]]:
    """(item, quantity, unit, hourly unit price, note) for a fleet of `instances`."""
    month = table.hours_per_month
    assume = table.assumptions
    nat_count = env.network.nat_gateways
    gb = Decimal(env.fleet.volume_size_gb)
    n = Decimal(instances)
    return [
        ("load balancer hours", Decimal(1), "hour", prices.alb_hour, ""),
        (
            "load balancer capacity units",
            assume.alb_lcu,
            "LCU-hour",
            prices.alb_lcu_hour,
            f"assumed {plain(assume.alb_lcu)} LCU",
        ),
        (
            "NAT gateway hours",
            Decimal(nat_count),
            "gateway-hour",
            prices.nat_gateway_hour,
            f"nat: {env.network.nat_mode}",
        ),
        (
            "NAT gateway data",
            assume.nat_gb_per_hour if nat_count else Decimal(0),
            "GB",
            prices.nat_gateway_gb,
            f"assumed {plain(assume.nat_gb_per_hour)} GB/hour",
        ),
        (
            "EBS gp3 volumes",
            n * gb,
            "GB",
            (prices.ebs_gp3_gb_month / month).quantize(MONTHLY_PRECISION),
            f"{instances} x {env.fleet.volume_size_gb} GB; {prices.ebs_gp3_gb_month}/GB-month",
        ),
        (
            "CloudWatch alarms",
            assume.alarms_per_environment,
            "alarm",
            (prices.cloudwatch_alarm_month / month).quantize(MONTHLY_PRECISION),
            f"{prices.cloudwatch_alarm_month}/alarm-month",
        ),
        (
            "CloudWatch dashboards",
            assume.dashboards_per_environment,
            "dashboard",
            (prices.cloudwatch_dashboard_month / month).quantize(MONTHLY_PRECISION),
            f"{prices.cloudwatch_dashboard_month}/dashboard-month",
        ),
        (
            "log ingestion",
            n * assume.log_gb_per_instance_hour + assume.flow_log_gb_per_hour,
            "GB",
            prices.logs_ingest_gb,
            f"assumed {plain(assume.log_gb_per_instance_hour)} GB/instance-hour "
            f"+ {plain(assume.flow_log_gb_per_hour)} GB/hour of flow logs",
        ),
    ]


def estimate_environment(
    stack: str, env: EnvironmentConfig, hours: Decimal, table: PriceTable
) -> Estimate:
    """The stack's cost for `hours`, item by item, in the environment's region."""
    prices = table.region(env.region)
    itype = env.fleet.instance_type
    price = table.instance_price(env.region, itype)
    desired, most = env.fleet.desired, env.fleet.max
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
    ]
    for item, qty, unit, unit_price, note in _per_hour_lines(env, prices, table, desired):
        per_hour = qty * unit_price
        lines.append(
            EstimateLine(
                item=item,
                quantity=qty,
                unit=unit,
                unit_price=unit_price,
                per_hour=per_hour,
                total=per_hour * hours,
                note=note,
            )
        )
    at_max = most * price + sum(
        (
            qty * unit_price
            for _, qty, _, unit_price, _ in _per_hour_lines(env, prices, table, most)
        ),
        Decimal(0),
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
    )
