"""Start and stop the Locust processes of one run (the CLI side: no Locust import here).

Each process gets its own session, so its process group can be killed as a whole and a signal
at the terminal reaches the CLI only. A run is a single Locust process (one driver: `workers`
0 or 1) or Locust's master with N local workers; both end by themselves once the schedule is
done, and a `--run-time` safety bound ends them if the CLI went away.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from perfenv.cli.detached import spawn_detached
from perfenv.cli.engine import wire
from perfenv.cli.errors import InfraError
from perfenv.cli.state.signals import stopping_children
from perfenv.cli.verdict.measurement import LoadPlan

DRIVER = Path(__file__).resolve().parent / "generator" / "locustfile.py"
_RAISED = re.compile(r"[A-Za-z_][\w.]*(Error|Exception)\b")  # a traceback's last line
STARTUP_S = 60.0  # importing Locust on a busy two-core machine takes a few seconds; be patient


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def locust_args(
    plan: LoadPlan, role: str, *, port: int = 0, master_host: str = "127.0.0.1"
) -> list[str]:
    """Locust's arguments for one process of a run: `single`, `master` (listening on
    `master_host`:`port`) or `worker` (connecting there). The same on this machine and on the
    load generator's instances."""
    if role == "worker":
        return ["--worker", "--master-host", master_host, "--master-port", str(port)]
    safety = round(plan.duration_s + 2 * plan.timeout_s + 30)
    common = ["--headless", "--only-summary", "--exit-code-on-error", "0"]
    common += ["--run-time", f"{safety}s"]
    if role == "single":
        return [*common, "-u", "1", "-r", "1"]
    n = str(plan.workers)
    master = ["--master", "--master-bind-host", master_host, "--master-bind-port", str(port)]
    master += ["--expect-workers", n, "--expect-workers-max-wait", str(round(STARTUP_S))]
    return [*common, *master, "-u", n, "-r", n]


def _child_env(plan_file: Path, out_file: Path, role: str) -> dict[str, str]:
    # LOCUST_* settings of the caller's shell would change what Locust runs.
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOCUST_")}
    env["PYTHONUNBUFFERED"] = "1"
    env[wire.PLAN_ENV] = str(plan_file)
    env[wire.OUT_ENV] = str(out_file)
    env[wire.ROLE_ENV] = role
    return env


class Generator:
    """The Locust processes of one run, their logs and output under `workdir`; `names`: the
    load generator instances the workers stand for (their logs are named after them)."""

    def __init__(self, plan: LoadPlan, workdir: Path, names: tuple[str, ...] = ()) -> None:
        self.plan, self.names = plan, names
        self.workdir = workdir
        self.plan_file = workdir / "plan.json"
        self.out_file = workdir / "records.jsonl"
        self.processes: list[subprocess.Popen[bytes]] = []

    def log_files(self) -> list[Path]:
        return sorted(self.workdir.glob("*.log"))

    def _spawn(self, name: str, role: str, args: list[str]) -> None:
        command = [sys.executable, "-m", "locust", "-f", str(DRIVER), *args]
        try:
            self.processes.append(
                spawn_detached(
                    command,
                    self.workdir / f"{name}.log",
                    cwd=self.workdir,  # no locust.conf or pyproject.toml of the caller's cwd
                    env=_child_env(self.plan_file, self.out_file, role),
                )
            )
        except OSError as exc:
            raise InfraError(f"cannot start the load generator: {exc}") from exc

    def start(self) -> None:
        plan = self.plan
        if plan.workers <= 1:  # one driver needs no master (ADR 0039): Locust alone, on time
            name = f"worker-0-{self.names[0]}" if self.names else "locust"
            self._spawn(name, "single", locust_args(plan, "single"))
            return
        port = _free_port()
        self._spawn("master", "master", locust_args(plan, "master", port=port))
        for index in range(plan.workers):
            name = f"worker-{index}" + (f"-{self.names[index]}" if self.names else "")
            self._spawn(name, "worker", locust_args(plan, "worker", port=port))

    def running(self) -> bool:
        """Whether every process still runs (none may end before the plan is done)."""
        return bool(self.processes) and all(p.poll() is None for p in self.processes)

    def wait(self, timeout_s: float) -> bool:
        """Wait for every process to end on its own; whether they all did."""
        deadline = time.monotonic() + timeout_s
        for process in self.processes:
            try:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                return False
        return True

    def stop(self, grace_s: float = 3.0) -> None:
        """SIGTERM each process group, then SIGKILL what is left after `grace_s`; a signal to
        perfenv meanwhile waits for the stop (`stopping_children`)."""
        with stopping_children():
            self._stop(grace_s)

    def _stop(self, grace_s: float) -> None:
        live = [p for p in self.processes if p.poll() is None]
        for process in live:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        for process in live:
            try:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        for process in self.processes:  # members a process left behind in its group
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)

    def log_tail(self) -> str:
        """The last line of each process's log, on one line (for an error message)."""
        tails = []
        for log in self.log_files():
            lines = [line.strip() for line in log.read_text(errors="replace").splitlines()]
            lines = [line for line in lines if line] or ["(empty)"]
            # Prefer an error, then Locust's last log line, over its stats tables.
            errors = [line for line in lines if _RAISED.match(line)]
            logged = [line for line in lines if line.startswith("[")]
            last = (errors or logged or lines)[-1]
            tails.append(f"{log.name}: {last[:160]}")
        return " | ".join(tails)
