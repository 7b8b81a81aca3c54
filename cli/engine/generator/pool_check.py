"""A pooled connection's liveness check that does not hand the event loop to other greenlets.

geventhttpclient (2.6) checks an idle keep-alive socket with `select.select([sock], [], [], 0)`
before reusing it. In the generator's gevent-patched process that is gevent's select, which
after a zero-timeout poll yields (`gevent.sleep(0)`) so that one consumer cannot monopolize the
thread. The check runs inside Locust's timed window (after `start_perf_counter`, before the
send), so every request waited there for whatever else the process had ready: the scheduler,
other responses, the ticks. That is the generator's own time, charged as the target's latency.
The original (blocking-free at timeout 0) select answers the same question without the yield.
"""

from __future__ import annotations

from typing import Any

import gevent.monkey  # type: ignore[import-untyped]
from geventhttpclient.connectionpool import ConnectionPool

_select = gevent.monkey.get_original("select", "select")


def _is_socket_alive(_pool: Any, sock: Any) -> bool:
    """geventhttpclient's check, on the original select: closed, or readable while idle (a FIN
    or stray bytes), is not alive."""
    if sock is None:
        return False
    try:
        if sock.fileno() < 0:
            return False
        readable, _, _ = _select([sock], [], [], 0.0)
        return not readable
    except (OSError, ValueError):
        return False


def install() -> None:
    """Every connection pool of this process checks its idle sockets without yielding."""
    setattr(ConnectionPool, "_is_socket_alive", _is_socket_alive)  # noqa: B010 - a method
