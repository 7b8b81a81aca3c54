"""Just enough HTTP/1.1 framing to forward requests and responses without re-encoding them."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

MAX_HEAD = 64 * 1024
NO_BODY_STATUS = (204, 304)


class BadMessage(Exception):
    """A message this proxy cannot frame (the client gets 400, the upstream call 502)."""


@dataclass(frozen=True, slots=True)
class Head:
    first_line: bytes
    raw: bytes  # the whole head, CRLFCRLF included
    length: int | None  # Content-Length
    chunked: bool
    close: bool  # the sender will close (or asks us to) after this message


def parse_head(raw: bytes, http10_default_close: bool = True) -> Head:
    lines = raw.split(b"\r\n")
    first = lines[0]
    length: int | None = None
    chunked = False
    connection = b""
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(b":")
        if not sep:
            raise BadMessage("a header line without a colon")
        key = name.strip().lower()
        if key == b"content-length":
            try:
                length = int(value.strip())
            except ValueError:
                raise BadMessage("a bad Content-Length") from None
        elif key == b"transfer-encoding":
            chunked = b"chunked" in value.lower()
        elif key == b"connection":
            connection = value.strip().lower()
    http10 = first.endswith(b"HTTP/1.0") or first.startswith(b"HTTP/1.0")
    close = connection == b"close" or (
        http10 and http10_default_close and connection != b"keep-alive"
    )
    return Head(first_line=first, raw=raw, length=length, chunked=chunked, close=close)


async def read_head(reader: asyncio.StreamReader) -> Head | None:
    """The next message head; None at a clean end of stream."""
    try:
        raw = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if not exc.partial.strip():
            return None
        raise BadMessage("the stream ended inside a head") from None
    except asyncio.LimitOverrunError:
        raise BadMessage("a head over 64 KiB") from None
    return parse_head(raw)


class Body:
    """Where the body after a head ends, found by feeding it the bytes that follow as they come
    (Content-Length, chunked with trailers, or none); `until_close` bodies never end here."""

    def __init__(self, head: Head, *, bodyless: bool = False, until_close: bool = False) -> None:
        self.chunked = head.chunked and not bodyless
        self.until_close = until_close and not bodyless
        self.remaining = 0 if bodyless or self.chunked else head.length or 0
        self.done = not (self.chunked or self.until_close or self.remaining)
        self._state = "size"
        self._line = b""

    def feed(self, data: bytes) -> int:
        """How many bytes of `data` belong to the body (the rest follows it)."""
        if self.until_close:
            return len(data)
        if not self.chunked:
            taken = min(self.remaining, len(data))
            self.remaining -= taken
            self.done = self.remaining == 0
            return taken
        at = 0
        while at < len(data) and not self.done:
            if self._state == "data":
                taken = min(self.remaining, len(data) - at)
                self.remaining -= taken
                at += taken
                if self.remaining == 0:
                    self._state = "size"
                continue
            end = data.find(b"\n", at)
            if end < 0:
                self._line += data[at:]
                if len(self._line) > MAX_HEAD:
                    raise BadMessage("a chunk line over 64 KiB")
                return len(data)
            line, self._line, at = self._line + data[at : end + 1], b"", end + 1
            if self._state == "trailer":
                self.done = line == b"\r\n"
                continue
            try:
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
            except ValueError:
                raise BadMessage("a bad chunk size") from None
            self._state, self.remaining = ("trailer", 0) if size == 0 else ("data", size + 2)
        return at


def status_of(head: Head) -> int:
    try:
        return int(head.first_line.split(b" ", 2)[1])
    except (IndexError, ValueError):
        raise BadMessage("a bad status line") from None


def response(status: int, reason: str, body: bytes = b"", close: bool = False) -> bytes:
    headers = [
        f"HTTP/1.1 {status} {reason}",
        "Server: awselb/2.0",
        "Content-Type: text/html",
        f"Content-Length: {len(body)}",
    ]
    if close:
        headers.append("Connection: close")
    return ("\r\n".join(headers) + "\r\n\r\n").encode() + body
