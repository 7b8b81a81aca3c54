"""The price table shipped in the repo (`prices.json`); `cli.cost.pricing_api` rebuilds it.

Prices are strings in the file and `Decimal` here: money is never a float. Each region says
where its prices came from and when. The `assumptions` are usage figures (data the balancer
processes, NAT and endpoint data, log volume) that no price list can know; the estimate says
which of its lines rest on them.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from perfenv.cli.errors import BadInput

PRICES_PATH = Path(__file__).resolve().parent / "prices.json"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RegionPrices(_Model):
    source: str
    date: str
    instances: dict[str, Decimal]  # per instance-hour
    alb_hour: Decimal
    alb_lcu_hour: Decimal
    nat_gateway_hour: Decimal
    nat_gateway_gb: Decimal
    vpc_endpoint_hour: Decimal  # an interface endpoint, per zone it sits in
    vpc_endpoint_gb: Decimal  # data an interface endpoint processes
    public_ipv4_hour: Decimal  # every public IPv4 address, in use or idle
    ebs_gp3_gb_month: Decimal
    cloudwatch_alarm_month: Decimal
    cloudwatch_dashboard_month: Decimal
    logs_ingest_gb: Decimal


class Assumptions(_Model):
    alb_processed_gb_per_hour: Decimal = Decimal("1")  # 1 GB/hour is one LCU (EC2 targets)
    nat_gb_per_hour: Decimal = Decimal("0.5")
    endpoint_gb_per_hour: Decimal = Decimal("0.05")  # SSM, logs, metrics of an isolated VPC
    log_gb_per_instance_hour: Decimal = Decimal("0.005")
    flow_log_gb_per_hour: Decimal = Decimal("0.01")
    setup_teardown_hours: Decimal = Decimal("0.5")


class PriceTable(_Model):
    currency: str = "USD"
    hours_per_month: Decimal = Decimal("730")
    assumptions: Assumptions = Assumptions()
    regions: dict[str, RegionPrices] = Field(min_length=1)

    def region(self, name: str) -> RegionPrices:
        try:
            return self.regions[name]
        except KeyError:
            raise BadInput(
                f"{PRICES_PATH.name}: regions: no prices for {name} "
                f"(have {', '.join(sorted(self.regions))}; "
                "`perfenv cost prices --refresh --target aws` adds it)"
            ) from None

    def instance_price(self, region: str, instance_type: str) -> Decimal:
        prices = self.region(region).instances
        if instance_type not in prices:
            raise BadInput(
                f"{PRICES_PATH.name}: regions.{region}.instances: no price for {instance_type} "
                "(`perfenv cost prices --refresh --target aws` adds it)"
            )
        return prices[instance_type]

    def rows(self) -> list[dict[str, Any]]:
        """One row per region and item, for `perfenv cost prices`."""
        out: list[dict[str, Any]] = []
        for name, region in sorted(self.regions.items()):
            items: list[tuple[str, Decimal, str]] = [
                (f"instance {t}", p, "instance-hour") for t, p in sorted(region.instances.items())
            ]
            items += [
                ("load balancer", region.alb_hour, "hour"),
                ("load balancer capacity unit", region.alb_lcu_hour, "LCU-hour"),
                ("NAT gateway", region.nat_gateway_hour, "hour"),
                ("NAT gateway data", region.nat_gateway_gb, "GB"),
                ("VPC interface endpoint", region.vpc_endpoint_hour, "zone-hour"),
                ("VPC endpoint data", region.vpc_endpoint_gb, "GB"),
                ("public IPv4 address", region.public_ipv4_hour, "hour"),
                ("EBS gp3", region.ebs_gp3_gb_month, "GB-month"),
                ("CloudWatch alarm", region.cloudwatch_alarm_month, "alarm-month"),
                ("CloudWatch dashboard", region.cloudwatch_dashboard_month, "dashboard-month"),
                ("log ingestion", region.logs_ingest_gb, "GB"),
            ]
            out += [
                {
                    "region": name,
                    "item": item,
                    f"price_{self.currency.lower()}": price,
                    "unit": unit,
                    "date": region.date,
                    "source": region.source,
                }
                for item, price, unit in items
            ]
        return out


def load_prices(path: Path = PRICES_PATH) -> PriceTable:
    try:
        return PriceTable.model_validate(json.loads(path.read_text()))
    except FileNotFoundError:
        raise BadInput(f"{path}: (file): no price table") from None
    except (json.JSONDecodeError, ValidationError) as exc:
        first = str(exc).splitlines()[0]
        raise BadInput(f"{path}: (file): not a valid price table: {first}") from None


def save_prices(table: PriceTable, path: Path = PRICES_PATH) -> None:
    data = table.model_dump(mode="json")
    path.write_text(json.dumps(data, indent=2) + "\n")
