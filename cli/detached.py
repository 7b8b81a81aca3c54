"""Background processes that cannot hold on to the caller (docs/design.md#background-processes).

Each runs in its own session (so a terminal's Ctrl-C and our signal policy decide what it gets),
reads /dev/null, and appends its output to a log file: one that inherited our output pipe could
keep a CI step or a test runner waiting until its time limit.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path


def spawn_detached(
    command: Sequence[str] | str,
    log_path: Path,
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    shell: bool = False,
) -> subprocess.Popen[bytes]:
    """Start `command` detached, output appended to `log_path`; OSError if it cannot start."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        return subprocess.Popen(
            command,
            shell=shell,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
