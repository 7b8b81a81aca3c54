"""Error kinds of single requests."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from perfenv.cli.engine.kinds import classify


class _RetriesExceeded(Exception):
    def __init__(self, original: BaseException) -> None:
        super().__init__("URL x: 0")
        self.original = original


@pytest.mark.parametrize(
    ("exception", "status", "kind"),
    [
        (None, 200, None),
        (None, 302, None),
        (RuntimeError("bad status"), 503, "HTTP 503"),
        (TimeoutError("timed out"), 0, "timeout"),
        (_RetriesExceeded(TimeoutError("timed out")), 0, "timeout"),
        (ConnectionRefusedError(111, "refused"), 0, "connection refused"),
        (ConnectionResetError(104, "reset"), 0, "connection reset"),
        (OSError(113, "no route"), 0, "connection error"),
        (RuntimeError("price missing\nmore"), 200, "failure: price missing"),
        (KeyError(), 200, "KeyError"),
    ],
)
def test_classify(exception: BaseException | None, status: int, kind: str | None) -> None:
    assert classify(exception, SimpleNamespace(status_code=status)) == kind
