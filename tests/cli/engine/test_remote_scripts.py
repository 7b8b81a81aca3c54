"""The instance scripts of the aws target's load fleet, run for real on this machine.

`run_remote` sends them to fake "instances" that run each script with bash here: a fake `aws`
on PATH copies `s3://bucket/KEY` to and from a directory, `/opt/perfenv/venv/bin/python` is this
interpreter, the master's address is 127.0.0.1. So the master and worker scripts fetch the
plan, run real Locust processes (master plus two workers) against the reference service, and the
master's records come back through the "bucket" and merge: everything of the sequence but SSM
and S3 themselves (tests/cli/targets/test_aws_generator.py has those, against moto).
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from perfenv.cli.engine import remote
from perfenv.cli.engine.processes import _free_port
from perfenv.cli.verdict.generators import CommandState
from perfenv.cli.verdict.measurement import LoadPlan, RequestSpec
from perfenv.examples.service.launch import running_service

pytestmark = pytest.mark.slow

FAKE_AWS = r"""
import shutil, sys
from pathlib import Path
BUCKET = Path(sys.argv[0]).resolve().parent.parent / "bucket"
args = [a for a in sys.argv[1:] if not a.startswith("--")]
assert args[:2] == ["s3", "cp"], args
source, target = args[2:4]
def local(uri):
    return BUCKET / uri.removeprefix("s3://bucket/") if uri.startswith("s3://") else Path(uri)
destination = local(target)
if target.endswith("/"):
    destination = destination / Path(source).name
destination.parent.mkdir(parents=True, exist_ok=True)
shutil.copyfile(local(source), destination)
"""


@dataclass
class LocalHosts:
    """`RemoteHosts` on this machine: the bucket a directory, each command a bash process."""

    root: Path
    commands: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    ids: itertools.count[int] = field(default_factory=itertools.count)

    def __post_init__(self) -> None:
        (self.root / "bin").mkdir()
        aws = self.root / "bin" / "aws"
        aws.write_text(f"#!{sys.executable}\n{FAKE_AWS}")
        aws.chmod(0o755)

    def uri(self, name: str) -> str:
        return f"s3://bucket/{name}"

    def upload(self, name: str, body: bytes) -> str:
        path = self.root / "bucket" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
        return self.uri(name)

    def download(self, name: str, start: int = 0) -> bytes | None:
        path = self.root / "bucket" / name
        return path.read_bytes()[start:] if path.exists() else None

    def address(self, instance: str) -> str:
        return "127.0.0.1"

    def send(self, instances: list[str], commands: list[str], comment: str) -> str:
        command_id = f"cmd-{next(self.ids)}"
        env = {**os.environ, "PATH": f"{self.root / 'bin'}:{os.environ['PATH']}"}
        self.commands[command_id] = subprocess.Popen(
            ["bash", "-c", "\n".join(commands)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(self.root / f"{command_id}.err", "wb"),  # noqa: SIM115 - with the process
            start_new_session=True,
        )
        return command_id

    def state(self, command_id: str, instance: str) -> CommandState:
        code = self.commands[command_id].poll()
        if code is None:
            return CommandState(status="InProgress")
        output = (self.root / f"{command_id}.err").read_text()[-300:]
        return CommandState(status="Success" if code == 0 else "Failed", output=output)

    def cancel(self, command_id: str) -> None:
        process = self.commands[command_id]
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)

    def pause(self, seconds: float) -> None:
        time.sleep(0.2)

    def stop(self) -> None:
        for process in self.commands.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_the_master_and_worker_scripts_run_locust_and_hand_the_records_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(remote, "PYTHON", sys.executable)
    monkeypatch.setattr(remote, "REMOTE_DIR", str(tmp_path / "instances"))
    monkeypatch.setattr(remote, "MASTER_PORT", _free_port())
    hosts = LocalHosts(tmp_path)
    try:
        with running_service() as url:
            plan = LoadPlan(
                scenario="load",
                base_url=url,
                rates=(10.0, 10.0, 10.0),
                workers=2,
                requests=(RequestSpec(method="GET", path="/items"),),
            )
            seen: list[int] = []
            measured = remote.run_remote(
                plan, "i-master", ("i-w0", "i-w1"), hosts, lambda w: seen.append(w.t)
            )
    finally:
        hosts.stop()
    assert seen == [0, 1, 2] and [w.sent for w in measured.windows] == [10, 10, 10]
    assert sum(w.ok for w in measured.windows) == 30
    assert [(i.instance, i.sent) for i in measured.generator.instances] == [
        ("i-w0", 15),
        ("i-w1", 15),
    ]
    assert measured.generator.valid, measured.generator.reason
    logs = sorted(p.name for p in (tmp_path / "bucket").rglob("logs/*"))
    assert logs and all(name.endswith(("-master.log", "-worker.log")) for name in logs)
