"""The data path, on asyncio protocols (no task per request): each client connection's requests
forwarded, one at a time, to a target picked per request.

Upstream connections are kept alive in a pool per target. A pooled connection the target
closed meanwhile is retried once on a fresh one (nothing of the response had come). The
balancer answers itself only as an ALB does: 503 with no registered target, 502 when the target
fails before a whole response, 504 when it does not answer within the idle timeout.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from perfenv.cli.targets.local.balancer.framing import (
    MAX_HEAD,
    NO_BODY_STATUS,
    BadMessage,
    Body,
    Head,
    parse_head,
    response,
    status_of,
)
from perfenv.cli.targets.local.balancer.stats import Stats
from perfenv.cli.targets.local.balancer.targets import Target, TargetSet

REASONS = {
    400: "Bad Request",
    502: "Bad Gateway",
    503: "Service Temporarily Unavailable",
    504: "Gateway Time-out",
}


class Proxy:
    def __init__(
        self, targets: TargetSet, stats: Stats, listen_port: int, idle_timeout_s: float = 60.0
    ) -> None:
        self.targets, self.stats, self.idle_timeout_s = targets, stats, idle_timeout_s
        self.idle: dict[tuple[str, int], list[Upstream]] = {}
        self.set_port(listen_port)

    def set_port(self, port: int) -> None:
        self.forwarded = b"X-Forwarded-Proto: http\r\nX-Forwarded-Port: %d\r\n" % port

    def client(self) -> Client:
        return Client(self)

    def forward(self, client: Client, head: Head, request: bytes) -> None:
        target = self.targets.pick()
        if target is None:
            client.answer(503)
            return
        first, _, rest = request.partition(b"\r\n")
        request = b"%s\r\nX-Forwarded-For: %s\r\n%s%s" % (first, client.ip, self.forwarded, rest)
        target.outstanding += 1
        self.send(client, target, request, first.startswith(b"HEAD "), fresh=False)

    def send(
        self, client: Client, target: Target, request: bytes, is_head: bool, fresh: bool
    ) -> None:
        idle = self.idle.get((target.host, target.port))
        while idle and not fresh:
            upstream = idle.pop()
            if not upstream.closed:
                upstream.start(client, target, request, is_head, reused=True)
                return
        asyncio.get_running_loop().create_task(self._connect(client, target, request, is_head))

    async def _connect(self, client: Client, target: Target, request: bytes, is_head: bool) -> None:
        loop = asyncio.get_running_loop()
        try:
            _, upstream = await loop.create_connection(
                lambda: Upstream(self), target.host, target.port
            )
        except OSError:
            self.done(target)
            client.answer(502, target)
            return
        upstream.start(client, target, request, is_head, reused=False)

    def release(self, upstream: Upstream, target: Target) -> None:
        self.idle.setdefault((target.host, target.port), []).append(upstream)

    def done(self, target: Target) -> None:
        target.outstanding -= 1

    def drop(self, target: Target) -> None:
        """Close the idle connections to a target that is gone."""
        for upstream in self.idle.pop((target.host, target.port), []):
            upstream.close()


class Client(asyncio.Protocol):
    """One client connection: requests parsed from its bytes, answered in order."""

    def __init__(self, proxy: Proxy) -> None:
        self.proxy = proxy
        self.buf = bytearray()
        self.busy = False  # a request of this connection is being forwarded
        self.keep = True
        self.closed = False
        self.ip = b"127.0.0.1"
        self.transport: Any = None
        self.upstream: Upstream | None = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        peer = transport.get_extra_info("peername")
        if peer:
            self.ip = str(peer[0]).encode()

    def data_received(self, data: bytes) -> None:
        self.buf += data
        if not self.busy:
            self._next()

    def _next(self) -> None:
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            if len(self.buf) > MAX_HEAD:
                self.answer(400, close=True)
            return
        try:
            head = parse_head(bytes(self.buf[: end + 4]))
            body = Body(head)
            taken = body.feed(bytes(self.buf[end + 4 :])) if not body.done else 0
        except BadMessage:
            self.answer(400, close=True)
            return
        if not body.done:
            return  # the rest of the body is still on its way
        request = bytes(self.buf[: end + 4 + taken])
        del self.buf[: end + 4 + taken]
        self.busy, self.keep = True, not head.close
        self.proxy.forward(self, head, request)

    def write(self, data: bytes) -> None:
        if not self.closed:
            self.transport.write(data)

    def finished(self, keep: bool) -> None:
        """The current exchange is over; the next request (if any) goes on."""
        self.busy, self.upstream = False, None
        if not (keep and self.keep):
            self.close()
        elif self.buf:
            self._next()

    def answer(self, status: int, target: Target | None = None, close: bool = False) -> None:
        self.proxy.stats.elb_response(status, target.id if target else None)
        reason = REASONS[status]
        body = f"<html><body><center><h1>{status} {reason}</h1></center></body></html>\r\n"
        self.write(response(status, reason, body.encode(), close=close))
        self.finished(keep=not close)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.upstream is not None:
            self.upstream.close()  # nobody is left to read the response

    def pause_writing(self) -> None:
        if self.upstream is not None:
            self.upstream.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.upstream is not None and not self.upstream.closed:
            self.upstream.transport.resume_reading()


class Upstream(asyncio.Protocol):
    """One keep-alive connection to a target, carrying one exchange at a time."""

    def __init__(self, proxy: Proxy) -> None:
        self.proxy = proxy
        self.transport: Any = None
        self.closed = False
        self.client: Client | None = None
        self.target: Target | None = None
        self.buf = bytearray()
        self.body: Body | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.timed_out = False

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def start(
        self, client: Client, target: Target, request: bytes, is_head: bool, reused: bool
    ) -> None:
        self.client, self.target, self.request = client, target, request
        self.is_head, self.reused, self.body, self.timed_out = is_head, reused, None, False
        self.buf.clear()
        client.upstream = self
        loop = asyncio.get_running_loop()
        self.timer = loop.call_later(self.proxy.idle_timeout_s, self._timeout)
        self.started = time.perf_counter()
        self.transport.write(request)

    def data_received(self, data: bytes) -> None:
        client = self.client
        if client is None:  # nothing asked: the target is not speaking HTTP to us
            self.close()
            return
        head = b""
        try:
            if self.body is None:
                self.buf += data
                end = self.buf.find(b"\r\n\r\n")
                if end < 0:
                    if len(self.buf) > MAX_HEAD:
                        raise BadMessage("a response head over 64 KiB")
                    return
                head, data = bytes(self.buf[: end + 4]), bytes(self.buf[end + 4 :])
                self._head(parse_head(head))
            assert self.body is not None
            taken = self.body.feed(data) if data else 0
        except BadMessage:
            self.close()
            return
        client.write(head + data[:taken] if head else data[:taken])  # one send per response
        if self.body.done:
            self._complete(keep=not self.close_after and taken == len(data))

    def _head(self, head: Head) -> None:
        status = status_of(head)
        assert self.target is not None
        self.proxy.stats.target_response(self.target.id, status, time.perf_counter() - self.started)
        bodyless = self.is_head or status in NO_BODY_STATUS or 100 <= status < 200
        until_close = not bodyless and not head.chunked and head.length is None
        self.body = Body(head, bodyless=bodyless, until_close=until_close)
        self.close_after = head.close or until_close

    def _complete(self, keep: bool) -> None:
        client, target = self.client, self.target
        assert client is not None and target is not None
        self.client = None
        if self.timer is not None:
            self.timer.cancel()
        self.proxy.done(target)
        if keep:
            self.proxy.release(self, target)
        else:
            self.close()
        client.finished(keep=not (self.body is not None and self.body.until_close))

    def _timeout(self) -> None:
        self.timed_out = True
        self.close()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            if self.transport is not None:
                self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        client, target = self.client, self.target
        if client is None or target is None:
            return  # idle: it is skipped when next taken from the pool
        self.client = None
        if self.timer is not None:
            self.timer.cancel()
        if client.closed:  # the client left first: nobody to answer
            self.proxy.done(target)
        elif self.body is not None and self.body.until_close and not self.timed_out:
            self.proxy.done(target)
            client.finished(keep=False)  # the end of the connection ended the body
        elif self.body is not None:
            self.proxy.done(target)
            client.close()  # part of a response went out: all that is left is to close
        elif self.timed_out:
            self.proxy.done(target)
            client.answer(504, target)
        elif self.reused:
            self.proxy.send(client, target, self.request, self.is_head, fresh=True)
        else:
            self.proxy.done(target)
            client.answer(502, target)
