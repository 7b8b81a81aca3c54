"""Pulumi calls retried with exponential backoff on a locked stack, throttling or dependencies."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

from perfenv.cli.errors import InfraError

_RETRYABLE = re.compile(
    r"Throttl|Rate exceeded|RequestLimitExceeded|TooManyRequests|SlowDown|"
    r"DependencyViolation|ResourceInUse|currently locked|in use by",
    re.IGNORECASE,
)
T = TypeVar("T")


def backoff_s(base_delay_s: float, attempt: int) -> float:
    """The wait after failed attempt `attempt` (from 1): doubling from `base_delay_s`, capped."""
    delay: float = base_delay_s * 2 ** (attempt - 1)  # int ** int is typed Any
    return min(delay, 60.0)


def retry(
    what: str,
    op: Callable[[], T],
    *,
    attempts: int,
    sleep: Callable[[float], None],
    base_delay_s: float,
) -> T:
    """`op` with exponential backoff on a locked stack, throttling or dependency errors."""
    from pulumi.automation import CommandError, ConcurrentUpdateError

    for attempt in range(1, attempts + 1):
        try:
            return op()
        except CommandError as exc:
            retryable = isinstance(exc, ConcurrentUpdateError) or bool(_RETRYABLE.search(str(exc)))
            if not retryable:
                raise InfraError(f"pulumi {what} failed: {_last_error(exc)}") from None
            if attempt == attempts:
                if isinstance(exc, ConcurrentUpdateError):
                    raise
                raise InfraError(
                    f"pulumi {what} failed after {attempt} attempts: {_last_error(exc)}"
                ) from None
            sleep(backoff_s(base_delay_s, attempt))
    raise AssertionError("unreachable")


def _last_error(exc: Exception) -> str:
    lines = [ln[ln.index("error:") :].strip() for ln in str(exc).splitlines() if "error:" in ln]
    return lines[-1] if lines else str(exc).strip().splitlines()[-1]
