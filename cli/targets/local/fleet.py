"""The application fleet of a local stack: `app.local_command` run as detached local processes.

Processes are identified by pid plus their /proc start time, so a recycled pid is never taken
for ours; they are stopped by pid (SIGTERM to their process group, then SIGKILL).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from perfenv.cli.detached import spawn_detached
from perfenv.cli.errors import InfraError
from perfenv.cli.project import home, root
from perfenv.cli.state.signals import stopping_children
from perfenv.cli.targets.local.state import ProcessRecord

HEALTH_TIMEOUT_S = 30.0
# Set in the environment of each process of a stack (controller, balancers, apps): a Ctrl-C
# between its start and its pid being recorded must not leave it running unseen, so destroy
# and the leftovers check also look for the mark ...
STACK_ENV = "PERFENV_STACK"
# ... and the perfenv home it belongs to: the same stack name in another home (another
# project, a concurrent test run) is another stack, whose processes are not ours to stop.
STACK_HOME_ENV = "PERFENV_STACK_HOME"
_POLL_S = 0.05
CONTROLLER_MODULE = "perfenv.cli.targets.local.controller"
CONTROLLER_STOP_S = 20.0  # it stops its balancers and app processes (5 s each at worst) first
# The app processes this process started: kept so their exit status stays ours to read.
_children: dict[int, subprocess.Popen[bytes]] = {}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_time(pid: int) -> str | None:
    """Field 22 of /proc/<pid>/stat (start time, clock ticks); None if there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] == "Z":  # a zombie has exited already
        return None
    return fields[19]


def alive(proc: ProcessRecord) -> bool:
    return start_time(proc.pid) == proc.started


def command_for(template: list[str], port: int) -> list[str]:
    return [
        part.replace("{python}", sys.executable).replace("{port}", str(port)) for part in template
    ]


def launch(
    template: list[str], log_dir: Path, label: str, stack: str | None = None
) -> ProcessRecord:
    """Start one app process on a free port, detached; `wait_healthy` checks it."""
    port = free_port()
    try:
        return spawn(command_for(template, port), log_dir / f"{label}-{port}.log", port, stack)
    except OSError as exc:
        raise InfraError(f"app.local_command {template[0]!r} cannot start: {exc}") from None


def spawn(command: list[str], log: Path, port: int = 0, stack: str | None = None) -> ProcessRecord:
    """Start `command` detached, marked with the stack; OSError if it cannot start."""
    env = {**os.environ, STACK_ENV: stack, STACK_HOME_ENV: str(home())} if stack else None
    proc = spawn_detached(command, log, cwd=root(), env=env)
    _children[proc.pid] = proc
    return ProcessRecord(
        pid=proc.pid, started=start_time(proc.pid) or "", port=port, command=command, log=str(log)
    )


def wait_healthy(proc: ProcessRecord, health_path: str) -> None:
    """Until the health check answers 2xx; InfraError if the process exits or time runs out."""
    url = f"http://127.0.0.1:{proc.port}{health_path}"
    deadline = time.monotonic() + HEALTH_TIMEOUT_S
    while time.monotonic() < deadline:
        if not alive(proc):
            code = _exit_code(proc.pid)
            raise InfraError(
                f"app process exited with code {code} before {url} answered; see {proc.log}"
            )
        if _healthy(url):
            return
        time.sleep(_POLL_S)
    stop([proc])
    raise InfraError(
        f"app health check {url} did not pass within {HEALTH_TIMEOUT_S:.0f}s; see {proc.log}"
    )


def start(template: list[str], health_path: str, log_dir: Path, label: str) -> ProcessRecord:
    """Start one app process and wait for its health check."""
    proc = launch(template, log_dir, label)
    wait_healthy(proc, health_path)
    return proc


def _exit_code(pid: int) -> int | str:
    child = _children.get(pid)
    code = child.poll() if child is not None else None
    return "unknown" if code is None else code


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1.0) as response:  # noqa: S310 - loopback only
            return 200 <= int(response.status) < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False


def terminate(pid: int, timeout_s: float = 5.0) -> None:
    """SIGTERM the process group led by `pid`, then SIGKILL after `timeout_s`; a signal to
    perfenv meanwhile waits for the stop (`stopping_children`)."""
    terminate_all([pid], timeout_s)


def terminate_all(pids: list[int], timeout_s: float = 5.0) -> None:
    """`terminate` for several at once: they all get SIGTERM, then those still there after
    `timeout_s` SIGKILL, so stopping N processes takes as long as the slowest, not the sum."""
    with stopping_children():
        for pid in pids:
            _signal_group(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        left = list(pids)
        while left and time.monotonic() < deadline:
            left = [pid for pid in left if _exists(pid)]
            if left:
                time.sleep(_POLL_S)
        for pid in left:
            _signal_group(pid, signal.SIGKILL)
            _reap(pid)


def stop(processes: list[ProcessRecord]) -> None:
    terminate_all([proc.pid for proc in processes if alive(proc)])


def marked(stack: str) -> list[int]:
    """Live processes whose environment carries the stack's mark, recorded or not."""
    mark = {f"{STACK_ENV}={stack}".encode(), f"{STACK_HOME_ENV}={home()}".encode()}
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:  # gone, or not ours to read
            continue
        if mark <= set(environ.split(b"\0")) and start_time(int(entry.name)) is not None:
            pids.append(int(entry.name))
    return pids


def stop_stack(stack: str, processes: list[ProcessRecord]) -> None:
    """Stop the stack's controller first (it would replace what it sees die, and it stops what
    it started), then the recorded processes, then any marked one the records missed."""
    marks = marked(stack)
    for pid in [p for p in marks if _is_controller(p)]:
        terminate(pid, CONTROLLER_STOP_S)
    stop(processes)
    terminate_all(marked(stack))


def _is_controller(pid: int) -> bool:
    try:
        return CONTROLLER_MODULE.encode() in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def live_pids(stack: str, processes: list[ProcessRecord]) -> list[int]:
    return sorted({p.pid for p in processes if alive(p)} | set(marked(stack)))


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            os.kill(pid, sig)


def _exists(pid: int) -> bool:
    _reap(pid)
    return start_time(pid) is not None


def _reap(pid: int) -> None:
    """Collect our own exited child, if it is one, so it does not linger as a zombie."""
    child = _children.get(pid)
    if child is not None:
        child.poll()
        return
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)
