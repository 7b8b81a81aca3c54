"""Durations as people write them in suites and on the command line: `90s`, `5m`, `2h`, `1h30m`."""

from __future__ import annotations

import math
import os
import re

from perfenv.infra.errors import ConfigError

DEFAULT_TTL = "3h"  # how long an ephemeral stack may live unless --ttl says otherwise

_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_UNIT_S = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> float:
    """Seconds in `text`; raises ValueError with a readable message."""
    value = text.strip()
    if not value or _PART.sub("", value) != "":
        raise ValueError(f"not a duration like 90s, 5m, 2h or 1h30m (got {text!r})")
    return sum(float(n) * _UNIT_S[unit] for n, unit in _PART.findall(value))


def format_duration(seconds: float) -> str:
    """`1h30m`, `45s`, `250ms`."""
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{n}{u}" for n, u in ((hours, "h"), (minutes, "m"), (secs, "s")) if n]
    return "".join(parts) or "0s"


def env_seconds(name: str, default: float) -> float:
    """Seconds from environment variable `name` (`default` when unset or empty); a value that
    is not a positive number is a ConfigError (one line, exit 2)."""
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (0 < value < math.inf):
        raise ConfigError([f"{name}: expected a number of seconds above 0, got {text!r}"])
    return value
