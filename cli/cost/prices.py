"""The price table shipped in the repo (`prices.json`), and its rebuild from the AWS Pricing API.

Prices are strings in the file and `Decimal` here: money is never a float. Each region says
where its prices came from and when. The `assumptions` are usage figures (load balancer
capacity units, NAT data, log volume) that no price list can know; the estimate prints them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from perfenv.cli.errors import BadInput

PRICES_PATH = Path(__file__).resolve().parent / "prices.json"
PRICING_API_SOURCE = "AWS Pricing API (get_products, on-demand, Linux, shared tenancy)"


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
    ebs_gp3_gb_month: Decimal
    cloudwatch_alarm_month: Decimal
    cloudwatch_dashboard_month: Decimal
    logs_ingest_gb: Decimal


class Assumptions(_Model):
    alb_lcu: Decimal = Decimal("1")
    nat_gb_per_hour: Decimal = Decimal("0.5")
    log_gb_per_instance_hour: Decimal = Decimal("0.005")
    flow_log_gb_per_hour: Decimal = Decimal("0.01")
    alarms_per_environment: Decimal = Decimal("4")  # p95, 5xx rate, unhealthy, CPU
    dashboards_per_environment: Decimal = Decimal("1")
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


# --- the Pricing API --------------------------------------------------------------------------

GetProducts = Callable[..., Mapping[str, Any]]


def _products(get_products: GetProducts, service: str, **filters: str) -> list[dict[str, Any]]:
    """Every product of `service` matching `filters` (TERM_MATCH), decoded, all pages."""
    terms = [{"Type": "TERM_MATCH", "Field": k, "Value": v} for k, v in filters.items()]
    out: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {
            "ServiceCode": service,
            "Filters": terms,
            "FormatVersion": "aws_v1",
            "MaxResults": 100,
        }
        if token:
            kwargs["NextToken"] = token
        page = get_products(**kwargs)
        out += [json.loads(doc) if isinstance(doc, str) else doc for doc in page["PriceList"]]
        token = page.get("NextToken")
        if not token:
            return out


def on_demand_price(product: Mapping[str, Any], currency: str = "USD") -> Decimal | None:
    """The first-tier on-demand price of one Pricing API product, or None."""
    for term in product.get("terms", {}).get("OnDemand", {}).values():
        for dim in term.get("priceDimensions", {}).values():
            if str(dim.get("beginRange", "0")) not in ("0", "0.0"):
                continue
            try:
                price = Decimal(dim["pricePerUnit"][currency])
            except (KeyError, InvalidOperation):
                continue
            if price > 0:
                return price.normalize()
    return None


def _first(
    products: Iterable[Mapping[str, Any]], usagetype_suffix: str | None = None
) -> Decimal | None:
    for product in products:
        usage = str(product.get("product", {}).get("attributes", {}).get("usagetype", ""))
        if usagetype_suffix and not usage.endswith(usagetype_suffix):
            continue
        price = on_demand_price(product)
        if price is not None:
            return price
    return None


def fetch_region(
    get_products: GetProducts, region: str, instance_types: Iterable[str]
) -> tuple[dict[str, Any], list[str]]:
    """Prices of one region from the Pricing API: (fields found, names of items not found)."""
    found: dict[str, Any] = {"instances": {}}
    missing: list[str] = []
    for itype in sorted(set(instance_types)):
        price = _first(
            _products(
                get_products,
                "AmazonEC2",
                regionCode=region,
                instanceType=itype,
                operatingSystem="Linux",
                tenancy="Shared",
                preInstalledSw="NA",
                capacitystatus="Used",
            )
        )
        if price is None:
            missing.append(f"instance {itype}")
        else:
            found["instances"][itype] = price
    alb = _products(
        get_products, "AWSELB", regionCode=region, productFamily="Load Balancer-Application"
    )
    nat = _products(get_products, "AmazonEC2", regionCode=region, productFamily="NAT Gateway")
    ebs = _products(
        get_products, "AmazonEC2", regionCode=region, productFamily="Storage", volumeApiName="gp3"
    )
    alarms = _products(get_products, "AmazonCloudWatch", regionCode=region, productFamily="Alarm")
    dashboards = _products(
        get_products, "AmazonCloudWatch", regionCode=region, productFamily="Dashboard"
    )
    logs = _products(
        get_products, "AmazonCloudWatch", regionCode=region, productFamily="Data Payload"
    )
    for field, price in (
        ("alb_hour", _first(alb, "LoadBalancerUsage")),
        ("alb_lcu_hour", _first(alb, "LCUUsage")),
        ("nat_gateway_hour", _first(nat, "NatGateway-Hours")),
        ("nat_gateway_gb", _first(nat, "NatGateway-Bytes")),
        ("ebs_gp3_gb_month", _first(ebs, "VolumeUsage.gp3")),
        ("cloudwatch_alarm_month", _first(alarms, "AlarmMonitorUsage")),
        ("cloudwatch_dashboard_month", _first(dashboards)),
        ("logs_ingest_gb", _first(logs, "DataProcessing-Bytes")),
    ):
        if price is None:
            missing.append(field)
        else:
            found[field] = price
    return found, missing


def _had(previous: RegionPrices | None, item: str) -> bool:
    if previous is None:
        return False
    if item.startswith("instance "):
        return item.removeprefix("instance ") in previous.instances
    return True


def refresh_prices(
    get_products: GetProducts,
    old: PriceTable,
    *,
    regions: Iterable[str],
    instance_types: Iterable[str],
    today: datetime | None = None,
) -> tuple[PriceTable, list[str]]:
    """A new table from the Pricing API; items it does not return keep their old price.

    Returns the table and one line per item kept from the old table (or absent from both).
    """
    date = (today or datetime.now(UTC)).date().isoformat()
    types = set(instance_types)
    new_regions: dict[str, RegionPrices] = {}
    notes: list[str] = []
    for region in sorted(set(regions)):
        previous = old.regions.get(region)
        wanted = types | set(previous.instances if previous else ())
        found, missing = fetch_region(get_products, region, wanted)
        merged: dict[str, Any] = previous.model_dump() if previous else {"instances": {}}
        merged["instances"] = {**merged["instances"], **found.pop("instances")}
        merged.update(found)
        kept = [m for m in missing if _had(previous, m)]
        absent = [m for m in missing if not _had(previous, m)]
        if absent:
            raise BadInput(f"{region}: the Pricing API returned no price for {', '.join(absent)}")
        source = PRICING_API_SOURCE
        if kept:
            source += f"; kept from the previous table: {', '.join(kept)}"
            notes += [f"{region}: {m}: not in the Pricing API answer; kept" for m in kept]
        merged.update(source=source, date=date)
        new_regions[region] = RegionPrices.model_validate(merged)
    for region, prices in old.regions.items():
        new_regions.setdefault(region, prices)
    return old.model_copy(update={"regions": dict(sorted(new_regions.items()))}), notes
