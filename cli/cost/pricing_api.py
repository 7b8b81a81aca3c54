"""The price table's rebuild from the AWS Pricing API (`perfenv cost prices --refresh`).

Each item is the first-tier on-demand price of the products a `get_products` query returns,
picked by its usage type; an item the API does not return keeps its old price and says so.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from perfenv.cli.cost.prices import PriceTable, RegionPrices
from perfenv.cli.errors import BadInput

PRICING_API_SOURCE = "AWS Pricing API (get_products, on-demand, Linux, shared tenancy)"

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
    vpc = _products(get_products, "AmazonVPC", regionCode=region)
    for field, price in (
        ("alb_hour", _first(alb, "LoadBalancerUsage")),
        ("alb_lcu_hour", _first(alb, "LCUUsage")),
        ("nat_gateway_hour", _first(nat, "NatGateway-Hours")),
        ("nat_gateway_gb", _first(nat, "NatGateway-Bytes")),
        ("ebs_gp3_gb_month", _first(ebs, "VolumeUsage.gp3")),
        ("cloudwatch_alarm_month", _first(alarms, "AlarmMonitorUsage")),
        ("cloudwatch_dashboard_month", _first(dashboards)),
        ("logs_ingest_gb", _first(logs, "DataProcessing-Bytes")),
        ("vpc_endpoint_hour", _first(vpc, "VpcEndpoint-Hours")),
        ("vpc_endpoint_gb", _first(vpc, "VpcEndpoint-Bytes")),
        ("public_ipv4_hour", _first(vpc, "PublicIPv4:InUseAddress")),
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
