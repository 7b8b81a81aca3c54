"""One create/delete pair per Pulumi resource type, realized in the emulator through boto3.

Types without a handler here (Kubernetes objects, Cost Anomaly Detection, cost allocation
tags, ...) are recorded as simulated by the caller, never dropped.
"""

from __future__ import annotations

import importlib
import threading
from typing import Any

from perfenv.cli.targets.local.realize.base import (
    REGISTRY,
    Ctx,
    Handler,
    RealizeError,
    error_code,
)

__all__ = [
    "REGISTRY",
    "Clients",
    "Ctx",
    "Handler",
    "RealizeError",
    "error_code",
    "handler_for",
]
# Importing each service's module registers its handlers.
for _service in (
    "autoscaling",
    "budgets",
    "endpoints",
    "iam",
    "launch_templates",
    "lb",
    "monitoring",
    "network_acls",
    "routing",
    "security_groups",
    "vpc",
):
    importlib.import_module(f"{__name__}.{_service}")


def handler_for(type_: str) -> Handler | None:
    return REGISTRY.get(type_)


class Clients:
    """boto3 clients against the emulator, one per (service, region), shared across threads.

    The clients of one endpoint are shared by every `Clients` of the process (destroy's and the
    leftovers check's): making one loads its service's model, a tenth of a second for EC2."""

    _clients: dict[tuple[str, str, str], Any] = {}
    _lock = threading.Lock()
    _session: Any = None

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint

    def __call__(self, service: str, region: str) -> Any:
        key = (self.endpoint, service, region)
        with Clients._lock:  # boto3 sessions are not thread-safe; the clients they make are
            if key not in Clients._clients:
                import boto3
                from botocore.config import Config

                if Clients._session is None:  # the emulator takes any key; never use real ones
                    Clients._session = boto3.session.Session(
                        aws_access_key_id="perfenv-local", aws_secret_access_key="perfenv-local"
                    )
                Clients._clients[key] = Clients._session.client(
                    service,
                    region_name=region,
                    endpoint_url=self.endpoint,
                    config=Config(
                        retries={"max_attempts": 1, "mode": "standard"},
                        connect_timeout=5,
                        read_timeout=60,
                    ),
                )
            return Clients._clients[key]
