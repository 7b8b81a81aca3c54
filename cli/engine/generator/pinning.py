"""Every name lookup of a generator process goes through the URL guard (cli/engine/hosts.py).

The target's host resolves only to the addresses the CLI checked (pinned); any other name a
locustfile asks for is resolved and checked like the target was, and refused (a failed lookup,
which the request reports as an error) when an address is neither loopback nor allowed. Locust's
clients look names up through `socket.getaddrinfo` (requests, via urllib3) and
`gevent.socket.getaddrinfo` (geventhttpclient, gevent's `create_connection`): both are replaced.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable

import gevent._socketcommon  # type: ignore[import-untyped]
import gevent.socket  # type: ignore[import-untyped]

from perfenv.cli.engine.hosts import Pins, guarded


def install(pins: Pins, allowed_hosts: Iterable[str]) -> None:
    """Guard every lookup of this (gevent-patched) process."""
    lookup = guarded(gevent.socket.getaddrinfo, pins, allowed_hosts)
    socket.getaddrinfo = lookup
    gevent.socket.getaddrinfo = lookup
    gevent._socketcommon.getaddrinfo = lookup
