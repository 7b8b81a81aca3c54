"""What an environment stack runs per hour, line by line, as the program creates it.

Each line is one kind of billed usage with its quantity per hour and the table's hourly unit
price. A line's basis says where its quantity comes from: the stack config (what the program
creates: instances, gateways, endpoints, addresses), an assumption of the price table (usage no
price list can know: data processed, logs), or nothing at all (what the stack uses but does not
create, named so that nobody reads the total as including it). `tests/cli/cost/test_usage.py`
holds these counts against the resources the evaluated program registers.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from perfenv.cli.cost.money import plain
from perfenv.cli.cost.prices import PriceTable
from perfenv.infra.config import EnvironmentConfig

MONTHLY_PRECISION = Decimal("1e-10")
# What the program creates that its config does not count (tests/cli/cost/test_usage.py holds
# these against the evaluated program): the generator's root volume, the monitoring's alarms and
# dashboard, and the target-tracking policies (CPU, requests per target) whose two alarms each
# Auto Scaling creates and bills.
GENERATOR_VOLUME_GB = 8
MONITORING_ALARMS = 4  # p95 latency, 5xx rate, unhealthy hosts, fleet CPU
DASHBOARDS = 1
TRACKING_POLICIES = 2
ALARMS_PER_TRACKING_POLICY = 2
CONFIG, ASSUMED, NOT_INCLUDED = "config", "assumption", "not included"


@dataclass(frozen=True, kw_only=True)
class Usage:
    item: str
    quantity: Decimal  # per hour
    unit: str
    unit_price: Decimal  # per unit-hour
    note: str
    basis: str = CONFIG

    @property
    def per_hour(self) -> Decimal:
        return self.quantity * self.unit_price


def generator_instances(env: EnvironmentConfig, workers: int | None) -> int:
    """The load generator's instances: `workers` (else the stack's) plus their master."""
    generator = env.load_generator
    if workers is not None:
        generator = generator.model_copy(update={"workers": workers})
    return generator.instances


def usage_lines(
    env: EnvironmentConfig, table: PriceTable, instances: int, generators: int
) -> list[Usage]:
    """Everything but the app fleet's instances, for a fleet of `instances`."""
    return [
        *_compute(env, table, generators),
        *_load_balancer(env, table),
        *_egress(env, table),
        _public_ipv4(env, table),
        *_storage_and_monitoring(env, table, instances, generators),
        *_not_created(env),
    ]


def _monthly(price: Decimal, table: PriceTable) -> Decimal:
    return (price / table.hours_per_month).quantize(MONTHLY_PRECISION)


def _compute(env: EnvironmentConfig, table: PriceTable, generators: int) -> list[Usage]:
    generator = env.load_generator
    workers = max(0, generators - 1)
    return [
        Usage(
            item="load generator instances",
            quantity=Decimal(generators),
            unit=f"{generator.instance_type}-hour",
            unit_price=table.instance_price(env.region, generator.instance_type),
            note=f"{workers} worker(s) + 1 master (--workers)"
            if generators
            else "no workers: the generator's groups are empty",
        )
    ]


def _load_balancer(env: EnvironmentConfig, table: PriceTable) -> list[Usage]:
    prices, gb = table.region(env.region), table.assumptions.alb_processed_gb_per_hour
    return [
        Usage(
            item="load balancer hours",
            quantity=Decimal(1),
            unit="hour",
            unit_price=prices.alb_hour,
            note="one application load balancer",
        ),
        Usage(
            item="load balancer data processed",
            quantity=gb,
            unit="LCU-hour",
            unit_price=prices.alb_lcu_hour,
            note=f"assumed {plain(gb)} GB/hour processed: 1 LCU per GB/hour (EC2 targets)",
            basis=ASSUMED,
        ),
    ]


def _egress(env: EnvironmentConfig, table: PriceTable) -> list[Usage]:
    """NAT gateways on a network with a way out; interface endpoints on an isolated one."""
    prices, assume, network = table.region(env.region), table.assumptions, env.network
    lines: list[Usage] = []
    if network.nat_gateways:
        lines += [
            Usage(
                item="NAT gateway hours",
                quantity=Decimal(network.nat_gateways),
                unit="gateway-hour",
                unit_price=prices.nat_gateway_hour,
                note=f"nat: {network.nat_mode}",
            ),
            Usage(
                item="NAT gateway data",
                quantity=assume.nat_gb_per_hour,
                unit="GB",
                unit_price=prices.nat_gateway_gb,
                note=f"assumed {plain(assume.nat_gb_per_hour)} GB/hour",
                basis=ASSUMED,
            ),
        ]
    services = env.interface_endpoints
    if services:
        zones = network.az_count
        lines += [
            Usage(
                item="VPC endpoint hours",
                quantity=Decimal(len(services) * zones),
                unit="endpoint-zone-hour",
                unit_price=prices.vpc_endpoint_hour,
                note=f"{len(services)} interface endpoints ({', '.join(services)}) in {zones} "
                "zones; the S3 gateway endpoint has no charge",
            ),
            Usage(
                item="VPC endpoint data",
                quantity=assume.endpoint_gb_per_hour,
                unit="GB",
                unit_price=prices.vpc_endpoint_gb,
                note=f"assumed {plain(assume.endpoint_gb_per_hour)} GB/hour",
                basis=ASSUMED,
            ),
        ]
    return lines


def _public_ipv4(env: EnvironmentConfig, table: PriceTable) -> Usage:
    count, network = env.public_ipv4_addresses, env.network
    parts = []
    if network.nat_gateways:
        parts.append(f"{network.nat_gateways} NAT Elastic IP(s)")
    if network.internet_facing:
        parts.append(f"the internet-facing balancer's, one per zone ({network.az_count})")
    return Usage(
        item="public IPv4 addresses",
        quantity=Decimal(count),
        unit="address-hour",
        unit_price=table.region(env.region).public_ipv4_hour,
        note=" + ".join(parts) if parts else "none: isolated network, internal balancer",
    )


def _storage_and_monitoring(
    env: EnvironmentConfig, table: PriceTable, instances: int, generators: int
) -> list[Usage]:
    prices, assume = table.region(env.region), table.assumptions
    app_gb = env.fleet.volume_size_gb
    alarms = MONITORING_ALARMS + ALARMS_PER_TRACKING_POLICY * TRACKING_POLICIES
    return [
        Usage(
            item="EBS gp3 volumes",
            quantity=Decimal(instances * app_gb + generators * GENERATOR_VOLUME_GB),
            unit="GB",
            unit_price=_monthly(prices.ebs_gp3_gb_month, table),
            note=f"{instances} x {app_gb} GB + {generators} generator(s) x "
            f"{GENERATOR_VOLUME_GB} GB; {prices.ebs_gp3_gb_month}/GB-month",
        ),
        Usage(
            item="CloudWatch alarms",
            quantity=Decimal(alarms),
            unit="alarm",
            unit_price=_monthly(prices.cloudwatch_alarm_month, table),
            note=f"{MONITORING_ALARMS} of the monitoring + {ALARMS_PER_TRACKING_POLICY} per "
            f"target-tracking policy ({TRACKING_POLICIES}); {prices.cloudwatch_alarm_month}"
            "/alarm-month",
        ),
        Usage(
            item="CloudWatch dashboards",
            quantity=Decimal(DASHBOARDS),
            unit="dashboard",
            unit_price=_monthly(prices.cloudwatch_dashboard_month, table),
            note=f"{prices.cloudwatch_dashboard_month}/dashboard-month",
        ),
        Usage(
            item="log ingestion",
            quantity=(instances + generators) * assume.log_gb_per_instance_hour
            + assume.flow_log_gb_per_hour,
            unit="GB",
            unit_price=prices.logs_ingest_gb,
            note=f"assumed {plain(assume.log_gb_per_instance_hour)} GB/instance-hour "
            f"+ {plain(assume.flow_log_gb_per_hour)} GB/hour of flow logs",
            basis=ASSUMED,
        ),
    ]


def _not_created(env: EnvironmentConfig) -> list[Usage]:
    """A Kubernetes cluster the stack uses (its namespace objects) but does not create."""
    if not env.kubernetes.enabled:
        return []
    return [
        Usage(
            item="Kubernetes cluster",
            quantity=Decimal(0),
            unit="cluster-hour",
            unit_price=Decimal(0),
            note=f"used, not created: namespace {env.kubernetes.namespace} in an existing "
            "cluster, whose nodes and control plane are billed to the cluster",
            basis=NOT_INCLUDED,
        )
    ]
