"""URLs as perfenv writes them down (manifest, results, logs): no user info, no query, no fragment.

A backend URL can carry a secret in either (`s3://bucket?...&profile=`, `https://user:token@`);
what perfenv records only has to say which backend, bucket or service it was. Where the full URL
is needed again (a teardown's backend), it comes from the environment (`restore`).
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit


def redact_url(url: str) -> str:
    """`url` without user info, query and fragment; never raises (a malformed URL is replaced)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<malformed URL>"
    netloc = parts.netloc.rpartition("@")[2]  # host[:port], as written
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def restore(recorded: str, current: str | None) -> str:
    """`current` (from the environment) when it names what `recorded` (redacted) names: the
    secrets stay in the environment; else `recorded` as it is."""
    if current and redact_url(current) == recorded:
        return current
    return recorded
