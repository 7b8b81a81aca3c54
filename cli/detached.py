"""Background processes that cannot hold on to the caller (docs/design.md#background-processes).

Each runs in its own session (so a terminal's Ctrl-C and our signal policy decide what it gets),
reads /dev/null, and appends its output to a log file: one that inherited our output pipe could
keep a CI step or a test runner waiting until its time limit.

And each gets `child_env`: the environment without the secrets passphrase, the backend URL and
the cloud credentials. None of perfenv's children needs them (Locust, the command engine, the
emulator, app processes and the local fleet's own processes, which use the emulator's fixed
keys); a child that logged its environment, or a user's command, must not see them. The Pulumi
CLI, which does need them, is started by the Automation API, not here.

`end_process` ends perfenv's own processes (the CLI, the local target's worker and controller)
without the interpreter's teardown.
"""

from __future__ import annotations

import atexit
import os
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NoReturn

# Names that hold a secret, or point at one: never passed to a child.
SECRET_PREFIXES = ("PULUMI_CONFIG_PASSPHRASE", "PULUMI_ACCESS_TOKEN", "PULUMI_BACKEND_URL")
CREDENTIALS = frozenset(
    {
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_ROLE_ARN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
        "GOOGLE_APPLICATION_CREDENTIALS",
        "GOOGLE_CREDENTIALS",
        "CLOUDSDK_AUTH_ACCESS_TOKEN",
        "AZURE_CLIENT_SECRET",
        "AZURE_CLIENT_CERTIFICATE_PASSWORD",
        "ARM_CLIENT_SECRET",
        "ARM_ACCESS_KEY",
        "ARM_SAS_TOKEN",
        "KUBECONFIG",
        "PERFENV_KUBECONFIG",
    }
)
# ...and no file or instance metadata to find AWS credentials in instead.
NO_AWS_CREDENTIALS = {
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}


def child_env(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """`env` (default: ours) without secrets and cloud credentials, for a child process."""
    base = os.environ if env is None else env
    kept = {
        key: value
        for key, value in base.items()
        if key not in CREDENTIALS and not key.startswith(SECRET_PREFIXES)
    }
    return kept | NO_AWS_CREDENTIALS


def spawn_detached(
    command: Sequence[str] | str,
    log_path: Path,
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    shell: bool = False,
) -> subprocess.Popen[bytes]:
    """Start `command` detached, output appended to `log_path`, with `child_env(env)`; OSError
    if it cannot start."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        return subprocess.Popen(
            command,
            shell=shell,
            cwd=cwd,
            env=child_env(env),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def end_process(code: int | str | None = 0) -> NoReturn:
    """Exit with `code` as `sys.exit` would, less the interpreter's teardown.

    Threads are joined, atexit handlers run and the output is flushed, as at any exit; what is
    skipped is clearing every module and collecting what is left, which takes seconds once
    pulumi's providers, boto3 or matplotlib are loaded, and which nothing here needs.
    """
    if isinstance(code, str):  # sys.exit("message"): the message on stderr, exit 1
        print(code, file=sys.stderr)
    status = code if isinstance(code, int) else 0 if code is None else 1
    # What the interpreter's own exit does first: stop thread pools, join non-daemon threads.
    shutdown = getattr(threading, "_shutdown", None)
    if shutdown is not None and threading.current_thread() is threading.main_thread():
        shutdown()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe or stream: nothing more to say there
            pass
    os._exit(status)
