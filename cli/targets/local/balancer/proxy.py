"""The data path: each client connection's requests forwarded to a target picked per request.

Upstream connections are kept alive in a pool per target. A pooled connection the target
closed meanwhile is retried once on a fresh one (nothing of the response was read yet). The
balancer answers itself only as an ALB does: 503 with no registered target, 502 when the
target fails before a whole response, 504 when it does not answer within the idle timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from perfenv.cli.targets.local.balancer.framing import (
    NO_BODY_STATUS,
    BadMessage,
    Head,
    copy_body,
    read_head,
    response,
    status_of,
)
from perfenv.cli.targets.local.balancer.stats import Stats
from perfenv.cli.targets.local.balancer.targets import Target, TargetSet

Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]
REASONS = {
    400: "Bad Request",
    502: "Bad Gateway",
    503: "Service Temporarily Unavailable",
    504: "Gateway Time-out",
}


class UpstreamFailed(Exception):
    """The target closed, refused or broke the exchange: the client gets 502."""


class Pool:
    """Idle keep-alive connections per target."""

    def __init__(self) -> None:
        self.idle: dict[tuple[str, int], list[Connection]] = {}

    async def get(self, target: Target) -> tuple[Connection, bool]:
        """(connection, reused)."""
        idle = self.idle.get((target.host, target.port))
        while idle:
            conn = idle.pop()
            if not conn[1].is_closing() and not conn[0].at_eof():
                return conn, True
        try:
            return await asyncio.open_connection(target.host, target.port), False
        except OSError as exc:
            raise UpstreamFailed(str(exc)) from None

    def put(self, target: Target, conn: Connection) -> None:
        self.idle.setdefault((target.host, target.port), []).append(conn)

    def drop(self, target: Target) -> None:
        for _, writer in self.idle.pop((target.host, target.port), []):
            writer.close()


class Proxy:
    def __init__(
        self, targets: TargetSet, stats: Stats, listen_port: int, idle_timeout_s: float = 60.0
    ) -> None:
        self.targets, self.stats, self.pool = targets, stats, Pool()
        self.idle_timeout_s = idle_timeout_s
        self.forwarded = (
            f"X-Forwarded-Proto: http\r\nX-Forwarded-Port: {listen_port}\r\n"
        ).encode()

    async def serve_client(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        peer = writer.get_extra_info("peername")
        client_ip = (peer[0] if peer else "127.0.0.1").encode()
        try:
            while True:
                try:
                    head = await read_head(reader)
                except BadMessage:
                    self._answer(writer, 400, close=True)
                    return
                if head is None:
                    return
                body = await _read_body(head, reader)
                keep = await self._exchange(head, body, client_ip, writer)
                await writer.drain()
                if not keep or head.close:
                    return
        except (ConnectionError, asyncio.IncompleteReadError, BadMessage):
            return
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    async def _exchange(
        self, head: Head, body: bytes, client_ip: bytes, client: asyncio.StreamWriter
    ) -> bool:
        """Forward one request; False when the client connection must close after it."""
        target = self.targets.pick()
        if target is None:
            return self._answer(client, 503)
        first, _, rest = head.raw.partition(b"\r\n")
        request = b"%s\r\nX-Forwarded-For: %s\r\n%s%s" % (first, client_ip, self.forwarded, rest)
        is_head = first.startswith(b"HEAD ")
        target.outstanding += 1
        try:
            for attempt in (1, 2):
                conn: Connection | None = None
                reused = False
                try:
                    conn, reused = await self.pool.get(target)
                    started = time.perf_counter()
                    upstream_head = await asyncio.wait_for(
                        _send(conn, request, body), timeout=self.idle_timeout_s
                    )
                except TimeoutError:
                    _close(conn)
                    return self._answer(client, 504, target)
                except (UpstreamFailed, ConnectionError, asyncio.IncompleteReadError, BadMessage):
                    _close(conn)
                    if reused and attempt == 1:
                        continue  # the target closed an idle connection: try a fresh one
                    return self._answer(client, 502, target)
                elapsed = time.perf_counter() - started
                return await self._relay(target, conn, upstream_head, is_head, client, elapsed)
            return self._answer(client, 502, target)
        finally:
            target.outstanding -= 1

    async def _relay(
        self,
        target: Target,
        conn: Connection,
        head: Head,
        is_head: bool,
        client: asyncio.StreamWriter,
        elapsed: float,
    ) -> bool:
        status = status_of(head)
        self.stats.target_response(target.id, status, elapsed)
        client.write(head.raw)
        reader, writer = conn
        if is_head or status in NO_BODY_STATUS or 100 <= status < 200:
            bodyless = True
        else:
            bodyless = False
        try:
            if not bodyless and (head.chunked or head.length is not None):
                await copy_body(head, reader, client)
            elif not bodyless:  # delimited by the end of the connection
                while chunk := await reader.read(65536):
                    client.write(chunk)
                writer.close()
                return False
        except (ConnectionError, asyncio.IncompleteReadError, BadMessage):
            writer.close()
            return False  # the client got part of a response: all we can do is close
        if head.close:
            writer.close()
        else:
            self.pool.put(target, conn)
        return True

    def _answer(
        self,
        client: asyncio.StreamWriter,
        status: int,
        target: Target | None = None,
        close: bool = False,
    ) -> bool:
        self.stats.elb_response(status, target.id if target else None)
        reason = REASONS[status]
        body = f"<html><body><center><h1>{status} {reason}</h1></center></body></html>\r\n"
        client.write(response(status, reason, body.encode(), close=close))
        return not close


def _close(conn: Connection | None) -> None:
    if conn is not None:
        conn[1].close()


async def _read_body(head: Head, reader: asyncio.StreamReader) -> bytes:
    if head.chunked:
        sink = _Collect()
        await copy_body(head, reader, sink)  # type: ignore[arg-type]
        return sink.data
    if head.length:
        return await reader.readexactly(head.length)
    return b""


class _Collect:
    """A writer that keeps what is written (a chunked request body, forwarded as it came)."""

    def __init__(self) -> None:
        self.data = b""

    def write(self, data: bytes) -> None:
        self.data += data


async def _send(conn: Connection, request: bytes, body: bytes) -> Head:
    reader, writer = conn
    writer.write(request + body if body else request)
    await writer.drain()
    head = await read_head(reader)
    if head is None:
        raise UpstreamFailed("the target closed the connection")
    return head
