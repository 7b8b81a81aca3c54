"""Name what went wrong with one request: the keys of `errors_by_kind`.

Pure code, so that it is testable outside the generator: gevent's Timeout is recognised by name
(importing gevent here would patch whoever imports this module).
"""

from __future__ import annotations

from typing import Any


def _is_timeout(exception: BaseException) -> bool:
    kind = type(exception)
    gevent_timeout = kind.__name__ == "Timeout" and kind.__module__.startswith("gevent")
    return gevent_timeout or isinstance(exception, TimeoutError)


def classify(exception: BaseException | None, response: Any) -> str | None:
    """The error kind of one request ("HTTP 503", "timeout", ...), or None when it succeeded."""
    status = getattr(response, "status_code", 0) or 0
    if status and not 200 <= status < 400:
        return f"HTTP {status}"
    if exception is None:
        return None
    original = getattr(exception, "original", None)  # geventhttpclient's RetriesExceeded
    if isinstance(original, BaseException):
        exception = original
    if _is_timeout(exception):
        return "timeout"
    if isinstance(exception, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exception, ConnectionResetError):
        return "connection reset"
    if isinstance(exception, OSError):
        return "connection error"
    text = str(exception).strip()
    return f"failure: {text.splitlines()[0][:60]}" if text else type(exception).__name__
