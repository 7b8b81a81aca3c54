"""A plan run on load generator instances this machine has no network path to (the aws target).

The sequence (docs/adr/0030): the plan (and the suite's locustfile) go to the exchange prefix
of the state store; Run Command starts Locust's master on the master instance and one worker on
each worker instance, with the same arguments the local path uses (`processes.locust_args`);
the CLI polls the commands until the master's ends; the master's records (every worker's
windows reach the master as Locust messages and it writes them all) come back through the
exchange prefix and are merged by the same `Collector`, as the local path merges them.

The master uploads its records every UPLOAD_S while it runs and the CLI reads what was added at
each poll: progress (and an abort budget) sees each second some POLL_S + UPLOAD_S late.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shlex
import time
from collections.abc import Callable

from perfenv.cli.engine import fail_on_error, plan_json, wire
from perfenv.cli.engine.merge import Collector
from perfenv.cli.engine.processes import STARTUP_S, locust_args
from perfenv.cli.errors import InfraError
from perfenv.cli.verdict.abort import BudgetBreached
from perfenv.cli.verdict.generators import DONE, FAILED, RemoteHosts
from perfenv.cli.verdict.measurement import LoadPlan, ScenarioMeasurement, Window

# Where the instances keep a run's files, and the venv perfenv's runtime artifact is installed
# into (`perfenv.infra.delivery.ROOT`).
REMOTE_DIR = "/var/lib/perfenv/generator"
PYTHON = "/opt/perfenv/venv/bin/python"
MASTER_PORT = 5557  # the load generator's security group admits it from the workers
POLL_S = 5.0
UPLOAD_S = 5.0  # how often the master uploads its records while it runs
RECORDS = "records.jsonl"


def run_key(plan: LoadPlan) -> str:
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", plan.scenario)[:40]
    return f"runs/{slug}-{time.time_ns()}"


def script(
    role: str, key: str, args: list[str], remote: RemoteHosts, *, locustfile: bool
) -> list[str]:
    """The shell lines Run Command runs on an instance: fetch the plan, run Locust in `role`,
    hand the master's records (and each process's log) back through the exchange prefix."""
    work = f"{REMOTE_DIR}/{key}"
    log = "$(cat /var/lib/cloud/data/instance-id 2>/dev/null || hostname)-" + role + ".log"
    env = {wire.PLAN_ENV: f"{work}/plan.json", wire.OUT_ENV: f"{work}/{RECORDS}"}
    lines = [
        "set -eu",  # until Locust runs: a plan that cannot be fetched fails the command
        f"mkdir -p {work} && cd {work}",
        f"aws s3 cp --only-show-errors {shlex.quote(remote.uri(f'{key}/plan.json'))} plan.json",
    ]
    if locustfile:
        source = shlex.quote(remote.uri(f"{key}/locustfile.py"))
        lines.append(f"aws s3 cp --only-show-errors {source} locustfile.py")
    lines += [
        "export " + " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items()),
        f"export {wire.ROLE_ENV}={role} PYTHONUNBUFFERED=1",
        f"driver=$({PYTHON} -c 'from perfenv.cli.engine.processes import DRIVER; print(DRIVER)')",
        f'log="{log}"',
        "set +e",
        f'{PYTHON} -m locust -f "$driver" {shlex.join(args)} > "$log" 2>&1 &',
        "pid=$!",
    ]
    if role == "master":  # its records, every UPLOAD_S while it runs and once more at the end
        records = shlex.quote(remote.uri(f"{key}/{RECORDS}"))
        upload = f"[ -f {RECORDS} ] && aws s3 cp --only-show-errors {RECORDS} {records}"
        lines.append(f"while kill -0 $pid 2>/dev/null; do sleep {UPLOAD_S:g}; {upload}; done")
    lines.append("wait $pid; status=$?")
    if role == "master":
        lines.append(upload)
    logs = shlex.quote(remote.uri(f"{key}/logs/"))
    lines += [f'aws s3 cp --only-show-errors "$log" {logs}', 'tail -n 3 "$log" >&2', "exit $status"]
    return lines


def run_remote(
    plan: LoadPlan,
    master: str,
    workers: tuple[str, ...],
    remote: RemoteHosts,
    progress: Callable[[Window], None] | None = None,
) -> ScenarioMeasurement:
    """Run `plan` on the instances (see the module's docstring); the merged measurement. The
    master's records are read as it uploads them, so `progress` sees each second within about
    POLL_S + UPLOAD_S; a BudgetBreached from it cancels the commands, as the local path stops
    its processes, and carries what was measured until then."""
    key = run_key(plan)
    locustfile = plan.locustfile is not None
    if plan.locustfile is not None:
        remote.upload(f"{key}/locustfile.py", plan.locustfile.read_bytes())
    remote.upload(f"{key}/plan.json", plan_json(plan, f"{REMOTE_DIR}/{key}/locustfile.py").encode())
    address = remote.address(master)
    records = _Records(Collector(plan=plan, drivers=max(1, plan.workers), names=workers), key)
    commands: dict[str, str] = {}
    try:
        args = locust_args(plan, "master", port=MASTER_PORT, master_host="0.0.0.0")
        lines = script("master", key, args, remote, locustfile=locustfile)
        commands[master] = remote.send([master], lines, f"perfenv {plan.scenario}: master")
        args = locust_args(plan, "worker", port=MASTER_PORT, master_host=address)
        lines = script("worker", key, args, remote, locustfile=locustfile)
        for worker in workers:
            commands[worker] = remote.send([worker], lines, f"perfenv {plan.scenario}: worker")
        _wait(plan, master, commands, remote, lambda: records.read(remote, progress))
        records.read(remote, progress)  # what the master uploaded last
    except BudgetBreached as breach:
        _cancel(remote, commands)
        measured = records.collector.measurement()
        breach.measurement = dataclasses.replace(measured, aborted=breach.breach.text)
        raise
    except BaseException:
        _cancel(remote, commands)
        raise
    return records.finish(remote)


def _cancel(remote: RemoteHosts, commands: dict[str, str]) -> None:
    for command in commands.values():
        remote.cancel(command)


def _wait(
    plan: LoadPlan,
    master: str,
    commands: dict[str, str],
    remote: RemoteHosts,
    read: Callable[[], None],
) -> None:
    """Until the master's command succeeded, reading its records meanwhile; InfraError when any
    command failed or time ran out."""
    deadline = time.monotonic() + STARTUP_S + plan.duration_s + 2 * plan.timeout_s + 120
    while True:
        read()
        states = {i: remote.state(command, i) for i, command in commands.items()}
        for instance, state in states.items():
            if state.status in FAILED:
                raise InfraError(
                    f"load generator instance {instance}: Run Command {commands[instance]} "
                    f"{state.status}: {state.output or 'no output'}"
                )
        if states[master].status == DONE:
            return
        if time.monotonic() > deadline:
            raise InfraError(
                f"the load generator's master ({master}) did not finish the plan in time "
                f"(Run Command {commands[master]})"
            )
        remote.pause(POLL_S)


class _Records:
    """The master's records as they reach the exchange prefix: complete lines, from where the
    last read ended, into the Collector."""

    def __init__(self, collector: Collector, key: str) -> None:
        self.collector, self.key = collector, key
        self.offset, self.seen = 0, False

    def read(self, remote: RemoteHosts, progress: Callable[[Window], None] | None) -> None:
        body = remote.download(f"{self.key}/{RECORDS}", self.offset)
        if body is None:
            return
        self.seen = True
        end = body.rfind(b"\n") + 1
        self.offset += end
        for line in body[:end].decode("utf-8").splitlines():
            if line.strip():
                for window in self.collector.add(json.loads(line)):
                    if progress is not None:
                        progress(window)

    def finish(self, remote: RemoteHosts) -> ScenarioMeasurement:
        logs = remote.uri(f"{self.key}/logs/")
        if not self.seen:
            raise InfraError(f"the load generator's master wrote no records (logs: {logs})")
        fail_on_error(self.collector, logs)
        if not self.collector.complete:
            raise InfraError(
                f"the load generator's records end before the plan does "
                f"({len(self.collector.windows)} of {self.collector.plan.duration_s} s; "
                f"logs: {logs})"
            )
        return self.collector.measurement()
