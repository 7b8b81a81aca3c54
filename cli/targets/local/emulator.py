"""The embedded AWS emulator: one moto server on 127.0.0.1, started on demand, reused after.

`ensure_running()` starts it as a fully detached background process (own session, stdin from
/dev/null, output to `home()/local/emulator.log`) and returns its endpoint; the process itself
writes `home()/local/emulator.json` ({"pid", "endpoint"}) once it listens. Its state lives in its
memory only, so `stop` refuses while stacks are up unless forced.

`python -m perfenv.cli.targets.local.emulator serve` is the background process's entry point.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from perfenv.cli.detached import spawn_detached
from perfenv.cli.errors import BadInput, InfraError
from perfenv.cli.project import home
from perfenv.cli.targets.local import fleet, state

START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 5.0
_MODULE = "perfenv.cli.targets.local.emulator"
# Imported by the server right after it listens, so the first real request does not pay for them.
_WARM_SERVICES = (
    "ec2",
    "elbv2",
    "autoscaling",
    "cloudwatch",
    "logs",
    "iam",
    "sns",
    "sts",
    "budgets",
    "resourcegroupstaggingapi",
)
_WARM_REGIONS = ("eu-west-1", "us-east-1", "aws")  # the shipped stacks' regions; global services


def local_dir() -> Path:
    path = home() / "local"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _pidfile() -> Path:
    return local_dir() / "emulator.json"


def _logfile() -> Path:
    return local_dir() / "emulator.log"


@contextlib.contextmanager
def _lock() -> Iterator[None]:
    """Serializes start and stop between concurrent perfenv processes."""
    with open(local_dir() / "emulator.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _read_pidfile(path: Path | None = None) -> dict[str, Any] | None:
    try:
        data = json.loads((path or _pidfile()).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _is_emulator(pid: int) -> bool:
    """Alive and really our server (a recycled pid would run something else)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return _MODULE.encode() in cmdline and b"serve" in cmdline


def _listening(endpoint: str) -> bool:
    parts = urlsplit(endpoint)
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=1.0):
            return True
    except OSError:
        return False


def running() -> dict[str, Any] | None:
    """{"pid", "endpoint"} of the live emulator, or None."""
    data = _read_pidfile()
    if not data or not _is_emulator(int(data["pid"])) or not _listening(data["endpoint"]):
        return None
    return data


def endpoint() -> str | None:
    data = running()
    return str(data["endpoint"]) if data else None


def ensure_running() -> str:
    """The endpoint URL of the emulator, starting it if none is running."""
    with _lock():
        data = running()
        if data:
            return str(data["endpoint"])
        return _start()


def _start() -> str:
    _pidfile().unlink(missing_ok=True)
    env = {**os.environ, "MOTO_EC2_LOAD_DEFAULT_AMIS": "false", "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", _MODULE, "serve", "--pidfile", str(_pidfile())]
    proc = spawn_detached(command, _logfile(), cwd=local_dir(), env=env)
    try:
        return _wait_listening(proc)
    except BaseException:
        # Timed out, or interrupted (Ctrl-C, a stop request) while it started: nobody uses it
        # yet (we hold the lock), so it must not outlive this start.
        fleet.terminate(proc.pid)
        raise


def _wait_listening(proc: subprocess.Popen[bytes]) -> str:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        data = _read_pidfile()
        if data and data.get("pid") == proc.pid and _listening(data["endpoint"]):
            return str(data["endpoint"])
        if proc.poll() is not None:
            raise InfraError(
                f"local emulator exited at start-up (code {proc.returncode}); see {_logfile()}"
            )
        time.sleep(0.05)
    raise InfraError(
        f"local emulator did not listen within {START_TIMEOUT_S:.0f}s; see {_logfile()}"
    )


def status() -> dict[str, Any]:
    """{"endpoint", "pid", "stacks"}; endpoint and pid are None when it is not running."""
    data = running()
    return {
        "endpoint": data["endpoint"] if data else None,
        "pid": data["pid"] if data else None,
        "stacks": state.names(),
    }


def stop(force: bool = False) -> dict[str, Any]:
    """Stop the emulator. Refuses while stacks are up; `force` forgets them (and their apps)."""
    with _lock():
        stacks = state.names()
        if stacks and not force:
            raise BadInput(
                f"stacks are up in the local emulator: {', '.join(stacks)}; "
                "down them first (or --force to forget them)"
            )
        for name in stacks:
            fleet.stop_stack(name, state.load(name).processes)
            state.remove(name)
        data = _read_pidfile()
        stopped = None
        if data and _is_emulator(int(data["pid"])):
            stopped = int(data["pid"])
            fleet.terminate(stopped, timeout_s=STOP_TIMEOUT_S)
        _pidfile().unlink(missing_ok=True)
        return {"stopped": stopped, "forgotten": stacks}


# --- the background process -------------------------------------------------------------------


def serve(pidfile: Path) -> None:
    from moto.backends import get_backend
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    from perfenv.cli.targets.local import extensions

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request in the log
    # Warm up before listening: moto imports its backends lazily, and an import racing the
    # same import in a request thread can end in a _DeadlockError that kills this process.
    _warm(get_backend)
    # moto's ThreadedMotoServer, with perfenv's extensions in front of moto's app.
    app = extensions.install(DomainDispatcherApplication(create_backend_app))
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=MotoRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host, port = str(server.server_address[0]), int(server.server_address[1])

    def _exit(signum: int, frame: Any) -> None:
        data = _read_pidfile(pidfile)
        if data and data.get("pid") == os.getpid():
            pidfile.unlink(missing_ok=True)
        os._exit(0)  # all state is in memory: nothing to flush, no reason to wait on threads

    signal.signal(signal.SIGTERM, _exit)
    signal.signal(signal.SIGINT, _exit)
    tmp = pidfile.with_suffix(".tmp")
    tmp.write_text(json.dumps({"pid": os.getpid(), "endpoint": f"http://{host}:{port}"}))
    os.replace(tmp, pidfile)
    print(f"moto server listening on http://{host}:{port}", flush=True)
    while True:
        signal.pause()


def _warm(get_backend: Any) -> None:
    """Import the backends and build their usual regions (and global partition) now."""
    from moto.core.models import DEFAULT_ACCOUNT_ID

    for service in _WARM_SERVICES:
        backends = get_backend(service)[DEFAULT_ACCOUNT_ID]
        for region in _WARM_REGIONS:
            with contextlib.suppress(KeyError):
                backends[region]


def main(argv: list[str]) -> None:
    if len(argv) == 3 and argv[0] == "serve" and argv[1] == "--pidfile":
        serve(Path(argv[2]))
        return
    sys.exit(f"usage: python -m {_MODULE} serve --pidfile FILE")


if __name__ == "__main__":
    main(sys.argv[1:])
