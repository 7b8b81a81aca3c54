"""The URL guard: load goes only to checked, pinned addresses; redirects are never followed.

Every server here listens on 127.0.0.1 in a thread of the test process, and stops with it.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from perfenv.cli.engine import hosts, run_plan
from perfenv.cli.errors import InfraError
from perfenv.cli.lifecycle.checks import wait_healthy
from perfenv.cli.main import app
from perfenv.cli.verdict.measurement import LoadPlan, RequestSpec

ITEMS = (RequestSpec(method="GET", path="/items"),)


class _Server:
    """A loopback HTTP server in a thread: counts requests, answers `status` (+ Location)."""

    def __init__(self, status: int = 200, location: str = "") -> None:
        self.count = 0
        self.seen: list[tuple[str, float]] = []  # (path, monotonic time) of each request
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                outer.count += 1
                outer.seen.append((self.path, time.monotonic()))
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> _Server:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@contextlib.contextmanager
def redirecting() -> Iterator[tuple[_Server, _Server]]:
    """A server answering 302 to a second loopback server that counts what reaches it."""
    with _Server() as elsewhere, _Server(302, f"{elsewhere.url}/items") as front:
        yield front, elsewhere


def _lookup(table: dict[str, list[str]]) -> Any:
    def getaddrinfo(host: str, port: Any, *_args: Any, **_kwargs: Any) -> list[Any]:
        addresses = table.get(host, [host])
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in addresses]

    return getaddrinfo


def test_a_pinned_name_resolves_to_its_checked_addresses_only() -> None:
    lookup = hosts.guarded(_lookup({"svc.test": ["203.0.113.7"]}), {"svc.test": ("127.0.0.1",)}, ())
    assert [info[4][0] for info in lookup("SVC.test.", 80)] == ["127.0.0.1"]


def test_other_names_are_checked_like_the_target() -> None:
    table = {"other.test": ["203.0.113.7"], "me.localhost": ["127.0.0.2"]}
    lookup = hosts.guarded(_lookup(table), {}, ("198.51.100.0/24",))
    assert lookup("me.localhost", 80)[0][4][0] == "127.0.0.2"
    assert lookup("198.51.100.4", 80)[0][4][0] == "198.51.100.4"
    with pytest.raises(socket.gaierror, match="other.test resolves to 203.0.113.7"):
        lookup("other.test", 80)
    assert lookup(None, 80)  # a passive (bind) lookup is not a destination


@pytest.mark.slow
def test_the_generator_connects_to_the_pinned_address() -> None:
    with _Server() as server:
        port = server.url.rsplit(":", 1)[1]
        plan = LoadPlan(
            scenario="pinned",
            base_url=f"http://perfenv-pinned.invalid:{port}",  # no resolver knows this name
            rates=(10,),
            requests=ITEMS,
            pins={"perfenv-pinned.invalid": ("127.0.0.1",)},
        )
        result = run_plan(plan)
    assert result.errors_by_kind == {} and server.count == 10
    assert result.statuses == {"200": 10}


@pytest.mark.slow
def test_perfenv_test_never_follows_a_redirect(tmp_path: Path) -> None:
    suite = tmp_path / "s.yaml"
    suite.write_text(
        "name: redirect\nrequests: [{path: /items}]\n"
        "scenarios: [{name: load, kind: load, rate: 10, duration: 2s}]\n"
    )
    with redirecting() as (front, elsewhere):
        args = ["test", "--url", front.url, "--suite", str(suite), "--out", str(tmp_path / "o")]
        result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert elsewhere.count == 0 and front.count == 20
    doc = json.loads((tmp_path / "o" / "results.json").read_text())
    run = doc["scenarios"][0]["runs"][0]
    assert run["statuses"] == {"302": 20} and run["errors_by_kind"] == {}


def test_the_health_wait_never_follows_a_redirect() -> None:
    with redirecting() as (front, elsewhere):
        with pytest.raises(InfraError, match=r"not healthy after .* \(HTTP 302\)"):
            wait_healthy(f"{front.url}/health", timeout_s=0.6)
    assert elsewhere.count == 0 and front.count >= 1


@pytest.mark.slow
def test_a_locustfile_never_follows_a_redirect_either(tmp_path: Path) -> None:
    locustfile = tmp_path / "both.py"
    locustfile.write_text(
        "from locust import FastHttpUser, HttpUser, task\n"
        "class Fast(FastHttpUser):\n"
        "    @task\n"
        "    def items(self):\n"
        "        self.client.get('/items')\n"
        "class Plain(HttpUser):\n"
        "    @task\n"
        "    def items(self):\n"
        "        self.client.get('/items')\n"
    )
    with redirecting() as (front, elsewhere):
        plan = LoadPlan(scenario="lf", base_url=front.url, rates=(20,), locustfile=locustfile)
        result = run_plan(plan)
    assert elsewhere.count == 0 and front.count == 20
    assert result.statuses == {"302": 20} and result.errors_by_kind == {}
