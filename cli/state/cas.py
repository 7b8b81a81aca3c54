"""Compare-and-swap over a `Store`: read a record with its version, change it, write it only if
nobody wrote in between; a lost race is read again and retried, never overwritten."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

from perfenv.cli.errors import InfraError
from perfenv.cli.state.store import Store

Change = Callable[[dict[str, Any] | None], dict[str, Any]]
ATTEMPTS = 50


class LostRace(InfraError):
    """Every attempt of a compare-and-swap lost to another writer."""


def update(
    store: Store,
    key: str,
    change: Change,
    *,
    attempts: int = ATTEMPTS,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Write `change(current)` to `key` compare-and-swap; retried (with a short jittered backoff)
    while another writer wins. `change` sees the record as it is now (None if absent) and may
    raise to refuse. LostRace (exit 3) when every attempt lost."""
    for attempt in range(attempts):
        current, version = store.read(key)
        new = change(current)
        if store.put_if(key, new, version):
            return new
        sleep(random.uniform(0, min(0.5, 0.005 * 2**attempt)))
    raise LostRace(f"state store: {key}: still changing after {attempts} attempts; not written")
