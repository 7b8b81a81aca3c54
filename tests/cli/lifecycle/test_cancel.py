"""A CI runner cancels `perfenv test` the way it cancels any step: SIGINT, then SIGTERM two
seconds later. perfenv exits 130 and leaves no load generator or command process behind.

Real processes on loopback: a small HTTP server in this process, `perfenv test` in its own
session, its children found by the environment they inherit (PERFENV_HOME of this test).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from perfenv.cli.project import home
from tests.conftest import REPO

pytestmark = pytest.mark.slow
PERFENV = [sys.executable, "-m", "perfenv.cli.main"]


class _Ok(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the http.server protocol
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


def ours(exclude: int = 0) -> dict[int, str]:
    """Live processes that inherited this test's PERFENV_HOME (perfenv's children), by cmdline."""
    mark = f"PERFENV_HOME={home()}".encode()
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) in (exclude, os.getpid()):
            continue
        try:
            if mark not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            if (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                continue  # exited; its parent (gone) leaves it to init
            found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
    return found


def _suite(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "suite.yaml"
    path.write_text(
        "name: cancelled\n"
        f"{body}"
        "scenarios:\n"
        "  - {name: load, kind: load, rate: 5, duration: 40s, warmup: 1s}\n"
        'budgets: ["error_rate < 50%"]\n'
    )
    return path


def _cancel_like_ci(args: list[str], tmp_path: Path, started: str) -> tuple[int, str]:
    """Start perfenv, wait until a child whose cmdline holds `started` runs, then SIGINT and,
    2 s later, SIGTERM; its exit code and stderr."""
    log = tmp_path / "perfenv.log"
    with log.open("w") as err:
        proc = subprocess.Popen(
            [*PERFENV, *args],
            cwd=REPO,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,  # our signals, not the test runner's
        )
    try:
        deadline = time.monotonic() + 90
        while not any(started in cmd for cmd in ours(proc.pid).values()):
            assert proc.poll() is None, log.read_text()[-2000:]
            assert time.monotonic() < deadline, f"no {started} process: {log.read_text()[-2000:]}"
            time.sleep(0.2)
        time.sleep(2)  # into the load
        os.kill(proc.pid, signal.SIGINT)
        time.sleep(2)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
        code = proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
    return code, log.read_text()


def _no_process_left() -> None:
    left = ours()
    for pid in left:  # never leave one running, whatever the assertion says
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    assert left == {}


def test_sigint_then_sigterm_during_perfenv_test_on_locust(server: str, tmp_path: Path) -> None:
    suite = _suite(tmp_path, "engine: locust\nrequests:\n  - {method: GET, path: /}\n")
    args = ["test", "--url", server, "--suite", str(suite), "--out", str(tmp_path / "out")]
    code, stderr = _cancel_like_ci(args, tmp_path, "locust")
    assert code == 130, stderr[-3000:]
    assert "SIGINT during the suite: stopped" in stderr
    assert "Traceback" not in stderr
    _no_process_left()


def test_sigint_then_sigterm_during_perfenv_test_on_a_command(server: str, tmp_path: Path) -> None:
    # The command starts a child of its own, as a k6 wrapper script would, and takes 4 s to
    # stop: the SIGTERM that follows the SIGINT lands while perfenv is stopping it.
    command = "trap 'sleep 4; exit 1' TERM; sleep 61 & wait"
    suite = _suite(tmp_path, f"engine: command\ncommand: {command!r}\n")
    args = ["test", "--url", server, "--suite", str(suite), "--out", str(tmp_path / "out")]
    code, stderr = _cancel_like_ci(args, tmp_path, "sleep 61")
    assert code == 130, stderr[-3000:]
    assert "Traceback" not in stderr
    _no_process_left()
