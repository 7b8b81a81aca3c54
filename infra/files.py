"""Reading a file a user names, with a bound: a device such as /dev/zero, or a file far larger
than any stack file, suite, manifest or results document, is refused instead of read forever."""

from __future__ import annotations

import errno
from pathlib import Path

MAX_BYTES = 64 << 20  # a results document of a two-hour soak is a few MB


class TooLarge(OSError):
    """More than the bound: an OSError, so that a caller's `unreadable` path reports it."""

    def __init__(self, path: Path, limit: int) -> None:
        super().__init__(errno.EFBIG, f"larger than {limit} bytes", str(path))


def read_text(path: Path, limit: int = MAX_BYTES) -> str:
    """`path`'s text (UTF-8), at most `limit` bytes; TooLarge beyond it, UnicodeDecodeError
    when it is not UTF-8, and the OSError of opening or reading it."""
    with path.open("rb") as stream:
        data = stream.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(path, limit)
    return data.decode("utf-8")
