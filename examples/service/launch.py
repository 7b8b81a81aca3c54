"""Run the reference service as a background process (tests and benchmarks)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def running_service(*flags: str, start_timeout_s: float = 30.0) -> Iterator[str]:
    """Start the service on a free port (`--port 0 FLAGS...`); yield its URL; stop it by pid."""
    with tempfile.TemporaryDirectory(prefix="perfenv-service-") as tmp:
        ready, log = Path(tmp) / "ready", Path(tmp) / "service.log"
        command = [sys.executable, "-m", "perfenv.examples.service", "--port", "0"]
        with log.open("wb") as out:
            process = subprocess.Popen(
                [*command, "--ready-file", str(ready), *flags],
                cwd=Path(__file__).resolve().parents[2],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            deadline = time.monotonic() + start_timeout_s
            while not ready.exists():
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"reference service did not start: {log.read_text()}")
                time.sleep(0.05)
            yield ready.read_text().split()[-1]
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
