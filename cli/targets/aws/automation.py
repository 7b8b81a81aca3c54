"""The Pulumi Automation API over a local work dir, the Pulumi CLI in its own process group.

perfenv's signal policy decides what the CLI receives: an exception in the calling thread (our
StopRequested) stops its group, SIGINT then SIGKILL.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from perfenv.cli.errors import BadInput
from perfenv.cli.project import project
from perfenv.cli.state.signals import stop_process_group

PROJECT = "perfenv"
INSTALL_HINT = (
    "the Pulumi CLI is not installed (needed by --target aws): "
    "curl -fsSL https://get.pulumi.com | sh, then put ~/.pulumi/bin on PATH"
)


class Automation(Protocol):
    """Opens stacks (`pulumi.automation.Stack`, or a fake) and lists them."""

    def stack(self, name: str, work_dir: Path, *, create: bool) -> Any: ...
    def list_stacks(self, work_dir: Path) -> list[tuple[str, datetime | None, dict[str, str]]]: ...
    def remove_stack(self, name: str, work_dir: Path) -> None: ...


def _grouped_command_class() -> type:
    from pulumi.automation import CommandResult, PulumiCommand
    from pulumi.automation.errors import create_command_error

    class GroupedPulumiCommand(PulumiCommand):
        """`PulumiCommand.run`, but the CLI gets its own process group, and an exception in
        this thread (our signal policy's StopRequested) stops it: SIGINT, then SIGKILL."""

        def run(
            self,
            args: list[str],
            cwd: str,
            additional_env: Mapping[str, str],
            on_output: Callable[[str], Any] | None = None,
            on_error: Callable[[str], Any] | None = None,
        ) -> Any:
            if "--non-interactive" not in args:
                args.insert(0, "--non-interactive")
            env = {**os.environ, **additional_env, "PULUMI_AUTOMATION_API": "true"}
            out: list[str] = []
            err: list[str] = []
            process = subprocess.Popen(
                [self.command, *args],
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                encoding="utf-8",
                start_new_session=True,
            )
            readers = [
                threading.Thread(target=_pump, args=(process.stdout, on_output, out), daemon=True),
                threading.Thread(target=_pump, args=(process.stderr, on_error, err), daemon=True),
            ]
            try:
                for reader in readers:
                    reader.start()
                code = process.wait()
                for reader in readers:
                    reader.join()
            except BaseException:
                stop_process_group(process)
                raise
            result = CommandResult(stdout="\n".join(out), stderr="\n".join(err), code=code)
            if code != 0:
                raise create_command_error(result)
            return result

    return GroupedPulumiCommand


def _pump(stream: Any, callback: Callable[[str], Any] | None, chunks: list[str]) -> None:
    for line in iter(stream.readline, ""):
        line = line.rstrip()
        if callback:
            callback(line)
        chunks.append(line)
    stream.close()


class PulumiAutomation:
    """The real thing: `pulumi.automation` over a local work dir, the CLI in its own group."""

    def __init__(self, backend: str) -> None:
        self.backend = backend

    def _options(self, work_dir: Path) -> Any:
        from pulumi import automation as auto

        try:
            command = _grouped_command_class()()
        except FileNotFoundError:
            raise BadInput(INSTALL_HINT) from None
        source = project()
        venv = source.virtualenv
        venv = venv if venv is not None and venv.exists() else Path(sys.prefix)
        settings = auto.ProjectSettings(
            name=PROJECT,
            runtime=auto.ProjectRuntimeInfo("python", {"virtualenv": str(venv)}),
            main=os.path.relpath(source.program, work_dir),
            description="perfenv stack (work dir made by perfenv; see stacks/ for its source)",
            backend=auto.ProjectBackend(self.backend),
        )
        return auto.LocalWorkspaceOptions(
            work_dir=str(work_dir),
            env_vars={"PULUMI_BACKEND_URL": self.backend, "PULUMI_SKIP_UPDATE_CHECK": "true"},
            secrets_provider="passphrase" if not self.backend.startswith("https") else None,
            project_settings=settings,
            pulumi_command=command,
        )

    def stack(self, name: str, work_dir: Path, *, create: bool) -> Any:
        from pulumi import automation as auto

        opts = self._options(work_dir)
        try:
            if create:
                stack: Any = auto.create_stack(name, work_dir=str(work_dir), opts=opts)
            else:
                stack = auto.select_stack(name, work_dir=str(work_dir), opts=opts)
        except FileNotFoundError:
            raise BadInput(INSTALL_HINT) from None
        except auto.StackAlreadyExistsError:
            raise BadInput(f"stack {name}: already up; down it first") from None
        return stack

    def list_stacks(self, work_dir: Path) -> list[tuple[str, datetime | None, dict[str, str]]]:
        from pulumi import automation as auto

        try:
            ws = auto.LocalWorkspace(**vars(self._options(work_dir)))
            found = []
            for summary in ws.list_stacks(include_all=True):
                name = summary.name.rsplit("/", 1)[-1]
                try:
                    tags = dict(ws.list_tags(summary.name))
                except auto.CommandError:
                    tags = {}  # a backend without stack tags: the run registry has them
                updated = summary.last_update
                found.append((name, updated.replace(tzinfo=UTC) if updated else None, tags))
        except FileNotFoundError:
            raise BadInput(INSTALL_HINT) from None
        return found

    def remove_stack(self, name: str, work_dir: Path) -> None:
        from pulumi import automation as auto

        try:
            auto.LocalWorkspace(**vars(self._options(work_dir))).remove_stack(name)
        except auto.StackNotFoundError:
            return
