"""`perfenv cost prices --refresh`: rebuild the shipped table from the AWS Pricing API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from perfenv.cli.cost.prices import PRICES_PATH, PriceTable, save_prices
from perfenv.cli.cost.pricing_api import refresh_prices
from perfenv.cli.cost.stacks import all_stack_files
from perfenv.cli.errors import BadInput, InfraError
from perfenv.cli.targets.aws.clients import boto_client
from perfenv.cli.targets.aws.guards import check_account

PRICING_REGION = "us-east-1"  # the Pricing API's endpoint; prices cover every region


def pricing_client() -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "pricing", region_name=PRICING_REGION, config=Config(retries={"mode": "standard"})
    )


def refresh_table(
    old: PriceTable,
    *,
    client: Any = None,
    stacks_dir: Path | None = None,
    path: Path = PRICES_PATH,
) -> tuple[PriceTable, list[str]]:
    """Every region and instance type of the table and of the stack files, re-priced and saved."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    envs = [f.environment for f in all_stack_files(stacks_dir) if f.environment is not None]
    regions = set(old.regions) | {e.region for e in envs}
    types = {e.fleet.instance_type for e in envs} | {e.load_generator.instance_type for e in envs}
    if client is None:
        check_account(boto_client, PRICING_REGION)  # the allowlist on every AWS path
    api = client or pricing_client()
    try:
        table, notes = refresh_prices(api.get_products, old, regions=regions, instance_types=types)
    except NoCredentialsError:
        raise BadInput("cost prices --refresh: no AWS credentials for the Pricing API") from None
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "error")
        raise InfraError(f"cost prices --refresh: the Pricing API said {code}") from None
    except BotoCoreError as exc:
        raise InfraError(f"cost prices --refresh: {exc}") from None
    save_prices(table, path)
    return table, [*notes, f"wrote {path}"]
