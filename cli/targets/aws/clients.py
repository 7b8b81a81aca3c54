"""The boto3 clients the aws target uses; tests pass fakes or moto's instead."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

ClientFactory = Callable[[str, str], Any]  # (service, region) -> boto3 client


def boto_client(service: str, region: str) -> Any:
    import boto3
    from botocore.config import Config

    retries = Config(retries={"mode": "adaptive", "max_attempts": 10})
    return boto3.client(service, region_name=region, config=retries)  # type: ignore[call-overload]
