"""The price table: shipped and valid, and its rebuild from a stubbed AWS Pricing API."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from perfenv.cli.cost.prices import PriceTable, load_prices, save_prices
from perfenv.cli.cost.pricing_api import on_demand_price, refresh_prices
from perfenv.cli.cost.refresh import refresh_table
from perfenv.cli.errors import BadInput
from perfenv.infra.config import load_all


def _product(usagetype: str, price: str, unit: str = "Hrs", **attrs: str) -> str:
    sku = "SKU123"
    return json.dumps(
        {
            "product": {"sku": sku, "attributes": {"usagetype": usagetype, **attrs}},
            "terms": {
                "OnDemand": {
                    f"{sku}.JRTCKXETXF": {
                        "priceDimensions": {
                            f"{sku}.JRTCKXETXF.6YS6EN2CT7": {
                                "unit": unit,
                                "beginRange": "0",
                                "endRange": "Inf",
                                "pricePerUnit": {"USD": price},
                            }
                        }
                    }
                }
            },
        }
    )


def _small_table() -> PriceTable:
    shipped = load_prices()
    region = shipped.regions["eu-west-1"].model_copy(
        update={"instances": {"c6i.large": Decimal("0.5")}}
    )
    return shipped.model_copy(update={"regions": {"eu-west-1": region}})


def _stub_region(stubber: Stubber, dashboards: list[str]) -> None:
    answers: list[tuple[dict[str, Any], list[str]]] = [
        (
            {"ServiceCode": "AmazonEC2"},
            [_product("EU-BoxUsage:c6i.large", "0.0960000000", instanceType="c6i.large")],
        ),
        (
            {"ServiceCode": "AWSELB"},
            [
                _product("EU-LoadBalancerUsage", "0.0252000000"),
                _product("EU-LCUUsage", "0.0080000000", unit="LCU-Hrs"),
            ],
        ),
        (
            {"ServiceCode": "AmazonEC2"},
            [
                _product("EU-NatGateway-Hours", "0.0480000000"),
                _product("EU-NatGateway-Bytes", "0.0480000000", unit="GB"),
            ],
        ),
        ({"ServiceCode": "AmazonEC2"}, [_product("EU-EBS:VolumeUsage.gp3", "0.088", "GB-Mo")]),
        ({"ServiceCode": "AmazonCloudWatch"}, [_product("EU-CW:AlarmMonitorUsage", "0.10")]),
        ({"ServiceCode": "AmazonCloudWatch"}, dashboards),
        (
            {"ServiceCode": "AmazonCloudWatch"},
            [_product("EU-DataProcessing-Bytes", "0.57", unit="GB")],
        ),
        (
            {"ServiceCode": "AmazonVPC"},
            [
                _product("EU-VpcEndpoint-Hours", "0.0110000000"),
                _product("EU-VpcEndpoint-Bytes", "0.0100000000", unit="GB"),
                _product("EU-PublicIPv4:IdleAddress", "0.0050000000"),
                _product("EU-PublicIPv4:InUseAddress", "0.0050000000"),
            ],
        ),
    ]
    for params, price_list in answers:
        expected = {
            "ServiceCode": params["ServiceCode"],
            "Filters": ANY,
            "FormatVersion": "aws_v1",
            "MaxResults": 100,
        }
        stubber.add_response(
            "get_products", {"PriceList": price_list, "FormatVersion": "aws_v1"}, expected
        )


def test_shipped_table_has_source_date_and_every_stack_region() -> None:
    table = load_prices()
    for stack in load_all():
        if stack.environment is not None:
            env = stack.environment
            assert env.fleet.instance_type in table.region(env.region).instances
    for region in table.regions.values():
        assert region.source and region.date


def test_on_demand_price_reads_the_first_tier() -> None:
    assert on_demand_price(json.loads(_product("x", "0.0960000000"))) == Decimal("0.096")
    assert on_demand_price({"terms": {}}) is None


def test_refresh_parses_the_pricing_api_and_keeps_what_it_lacks() -> None:
    client = boto3.client("pricing", region_name="us-east-1")
    with Stubber(client) as stubber:
        _stub_region(stubber, dashboards=[])  # no dashboard price: keep the old one
        table, notes = refresh_prices(
            client.get_products,
            _small_table(),
            regions=["eu-west-1"],
            instance_types=["c6i.large"],
            today=datetime(2026, 11, 27, tzinfo=UTC),
        )
        stubber.assert_no_pending_responses()

    region = table.regions["eu-west-1"]
    assert region.instances["c6i.large"] == Decimal("0.096")
    assert region.alb_hour == Decimal("0.0252") and region.alb_lcu_hour == Decimal("0.008")
    assert region.nat_gateway_hour == Decimal("0.048")
    assert region.ebs_gp3_gb_month == Decimal("0.088")
    assert region.logs_ingest_gb == Decimal("0.57")
    assert region.vpc_endpoint_hour == Decimal("0.011")
    assert region.vpc_endpoint_gb == Decimal("0.01")
    assert region.public_ipv4_hour == Decimal("0.005")
    assert region.cloudwatch_dashboard_month == Decimal("3.00")  # kept
    assert region.date == "2026-11-27"
    assert region.source.startswith("AWS Pricing API")
    assert "cloudwatch_dashboard_month" in region.source
    assert notes == ["eu-west-1: cloudwatch_dashboard_month: not in the Pricing API answer; kept"]


def test_refresh_of_a_new_region_needs_every_price() -> None:
    client = boto3.client("pricing", region_name="us-east-1")
    old = _small_table()
    with Stubber(client) as stubber:
        _stub_region(stubber, dashboards=[])
        with pytest.raises(BadInput, match="no price for cloudwatch_dashboard_month"):
            refresh_prices(
                client.get_products,
                old.model_copy(update={"regions": {"us-east-1": old.regions["eu-west-1"]}}),
                regions=["eu-west-1"],
                instance_types=["c6i.large"],
            )


def test_refresh_table_saves_a_table_that_loads(tmp_path: Path) -> None:
    client = boto3.client("pricing", region_name="us-east-1")
    path = tmp_path / "prices.json"
    dev_only = tmp_path / "stacks"
    dev_only.mkdir()
    stack = Path(__file__).resolve().parents[3] / "stacks" / "Pulumi.dev.yaml"
    (dev_only / "Pulumi.dev.yaml").write_text(
        stack.read_text().replace("instance_type: t3.small", "instance_type: c6i.large")
    )
    with Stubber(client) as stubber:
        _stub_region(stubber, dashboards=[_product("EU-DashboardsUsageHour", "3.00", "Dashboards")])
        table, notes = refresh_table(_small_table(), client=client, stacks_dir=dev_only, path=path)
    assert load_prices(path) == table
    assert notes == [f"wrote {path}"]
    save_prices(table, path)
    assert load_prices(path) == table
