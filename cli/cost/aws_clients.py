"""boto3 clients for a target, and the rule that an API which gives nothing is asked once.

local: the embedded emulator's endpoint (started on demand). aws: the default credential chain.
Every client here makes one attempt per call (botocore `total_max_attempts=1`; its
`max_attempts` counts retries, so 1 would still mean two requests): an API the account or the
emulator does not offer must cost one request per report, not four.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from perfenv.cli.cost.money import Gap
from perfenv.cli.errors import BadInput
from perfenv.cli.targets.aws.guards import check_account

T = TypeVar("T")
TARGETS = ("local", "aws")
BILLING_REGION = "us-east-1"  # budgets, Cost Explorer, the billing metric

# Error codes that mean "this API is not offered here" rather than "no data for this query".
_NOT_OFFERED = {
    "NotImplemented",
    "InternalFailure",
    "InternalError",
    "UnknownOperationException",
    "InvalidAction",
    "500",
    "501",
}
_NO_DATA = {"DataUnavailableException", "BillExpirationException"}
_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "OptInRequired"}


def local_endpoint() -> str:
    """The embedded emulator's endpoint, started if needed."""
    from perfenv.cli.targets.local.emulator import ensure_running

    return ensure_running()


@dataclass
class Clients:
    """One session's clients for a target, cached per (service, region)."""

    target: str
    endpoint: str | None = None
    _cache: dict[tuple[str, str], Any] = field(default_factory=dict)
    _session: Any = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def client(self, service: str, region: str = BILLING_REGION) -> Any:
        with self._lock:
            key = (service, region)
            if key not in self._cache:
                import boto3
                from botocore.config import Config

                if self._session is None:
                    self._session = boto3.session.Session()
                config = Config(
                    retries={"total_max_attempts": 1, "mode": "standard"},
                    connect_timeout=5,
                    read_timeout=30,
                    max_pool_connections=16,
                )
                # The emulator takes any credentials; a machine without AWS ones still works.
                creds = (
                    {"aws_access_key_id": "perfenv-local", "aws_secret_access_key": "local"}
                    if self.target == "local"
                    else {}
                )
                self._cache[key] = self._session.client(
                    service,
                    region_name=region,
                    endpoint_url=self.endpoint,
                    config=config,
                    **creds,
                )
            return self._cache[key]


def clients_for(target: str) -> Clients:
    if target not in TARGETS:
        raise BadInput(f"--target: expected one of {', '.join(TARGETS)}, got {target!r}")
    if target == "local":
        return Clients(target="local", endpoint=local_endpoint())
    clients = Clients(target="aws")
    check_account(clients.client, BILLING_REGION)  # the allowlist, on the cost commands too
    return clients


@dataclass
class Asker:
    """Calls APIs for one report; an API that is not offered (or not permitted) is asked once.

    `ask` returns the call's result, or a Gap saying why there is none. Later calls to an API
    already found missing return the same Gap without a request.
    """

    what: str = "the emulator"
    missing: dict[str, Gap] = field(default_factory=dict)
    requests: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def ask(self, api: str, call: Callable[[], T]) -> T | Gap:
        with self._lock:
            if api in self.missing:
                return self.missing[api]
            self.requests[api] = self.requests.get(api, 0) + 1
        try:
            return call()
        except NotImplementedError:  # moto in-process
            return self._mark(api, Gap(f"{api} is not offered by {self.what}"))
        except Exception as exc:  # noqa: BLE001 - botocore errors are classified below
            return self._classify(api, exc)

    def pages(
        self, api: str, call: Callable[..., dict[str, Any]], max_pages: int, **kwargs: Any
    ) -> list[dict[str, Any]] | Gap:
        """Every page of a `NextToken`-paged call (at most max_pages), or a failed page's Gap."""
        out: list[dict[str, Any]] = []
        token: str | None = None
        for _ in range(max_pages):
            more = {"NextToken": token} if token else {}
            page = self.ask(api, lambda: call(**kwargs, **more))  # noqa: B023 - called at once
            if isinstance(page, Gap):
                return page
            out.append(page)
            token = page.get("NextToken")
            if not token:
                break
        return out

    def _classify(self, api: str, exc: Exception) -> Gap:
        from botocore.exceptions import BotoCoreError, ClientError

        if isinstance(exc, ClientError):
            error = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            if code in _NO_DATA:
                return Gap(f"no data yet ({code})")
            if code in _DENIED:
                return self._mark(api, Gap(f"{api} not permitted ({code})"))
            if code in _NOT_OFFERED or status in (500, 501):
                return self._mark(api, Gap(f"{api} is not offered by {self.what}"))
            return self._mark(api, Gap(f"{api} failed ({code or status})"))
        if isinstance(exc, BotoCoreError):
            return self._mark(api, Gap(f"{api} unreachable ({type(exc).__name__})"))
        raise exc

    def _mark(self, api: str, gap: Gap) -> Gap:
        with self._lock:
            self.missing[api] = gap
        return gap
