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


async def copy_body(head: Head, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Forward the body that follows `head` as it was framed."""
    if head.chunked:
        while True:
            size_line = await reader.readuntil(b"\r\n")
            writer.write(size_line)
            size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while True:  # trailers, then the empty line
                    line = await reader.readuntil(b"\r\n")
                    writer.write(line)
                    if line == b"\r\n":
                        return
            writer.write(await reader.readexactly(size + 2))
    elif head.length:
        writer.write(await reader.readexactly(head.length))


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
