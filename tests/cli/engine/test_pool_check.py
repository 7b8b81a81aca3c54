"""The generator's connection pools check an idle socket without yielding to other greenlets:
a yield inside Locust's timed window charges the generator's own work to the target."""

from __future__ import annotations

import select
import socket
from collections.abc import Iterator

import gevent  # type: ignore[import-untyped]
import gevent.select  # type: ignore[import-untyped]
import pytest
from geventhttpclient.connectionpool import ConnectionPool

from perfenv.cli.engine.generator import pool_check


@pytest.fixture
def patched_process(
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[socket.socket, socket.socket]]:
    """select as in the generator's gevent-patched process; the pool's check as it installs."""
    monkeypatch.setattr(select, "select", gevent.select.select)
    monkeypatch.setattr(ConnectionPool, "_is_socket_alive", ConnectionPool._is_socket_alive)
    pool_check.install()
    a, b = socket.socketpair()
    try:
        yield a, b
    finally:
        a.close()
        b.close()


def test_the_liveness_check_does_not_let_other_greenlets_run(
    patched_process: tuple[socket.socket, socket.socket],
) -> None:
    idle, _peer = patched_process
    ran: list[int] = []
    gevent.spawn(ran.append, 1)
    assert ConnectionPool._is_socket_alive(None, idle)  # type: ignore[arg-type]
    assert ran == []  # nothing else ran during the check
    gevent.sleep(0)
    assert ran == [1]  # the other greenlet was ready all along


def test_a_socket_closed_or_readable_while_idle_is_not_alive(
    patched_process: tuple[socket.socket, socket.socket],
) -> None:
    idle, peer = patched_process
    peer.sendall(b"x")  # bytes on an idle keep-alive connection: not reusable
    assert not ConnectionPool._is_socket_alive(None, idle)  # type: ignore[arg-type]
    idle.close()
    assert not ConnectionPool._is_socket_alive(None, idle)  # type: ignore[arg-type]
    assert not ConnectionPool._is_socket_alive(None, None)  # type: ignore[arg-type]
