"""The stack's controller: the long-lived process that makes a local stack behave.

`python -m perfenv.cli.targets.local.controller SPEC.json`, started detached by `up` (marked
with `PERFENV_STACK`, like every process it starts). Every tick it keeps the groups at their
desired capacity with one app process per in-service instance and feeds each listener's
balancer its registered targets; every second it polls the balancers, tells the emulator the
target health they saw and writes the journal; every metric period it publishes the period's
metrics to the emulator's CloudWatch and runs the period hooks (the place for the autoscaler
and the alarm evaluator). It stops everything it started and exits on SIGTERM or SIGINT, when
the stack is being destroyed or forgotten, and when the emulator has been unreachable for
`EMULATOR_LOST_S`.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
import traceback
import urllib.request
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from perfenv.cli.targets.local import fleet, state
from perfenv.cli.targets.local.controller import listeners as listener_ops
from perfenv.cli.targets.local.controller.groups import Groups
from perfenv.cli.targets.local.controller.journal import Journal
from perfenv.cli.targets.local.controller.metrics import period_data
from perfenv.cli.targets.local.controller.spec import ControllerSpec
from perfenv.cli.targets.local.state import ControllerState

EMULATOR_LOST_S = 15.0
STACK_CHECK_S = 2.0
STARTING_TICK_S = 0.1
SECOND_LAG_S = 0.02  # after a second's end, before asking the balancers for it
PeriodHook = Callable[[int, int], None]  # (period start epoch, period seconds)


class Controller:
    def __init__(self, spec: ControllerSpec) -> None:
        from perfenv.cli.targets.local.realize import Clients

        self.spec = spec
        self.clients = Clients(spec.endpoint)
        self.run_dir = state.run_dir(spec.stack)
        self.state = ControllerState()
        self.groups = Groups(spec, self.clients, self.run_dir)
        self.journal = Journal(state.telemetry_path(spec.stack))
        self.stopping = threading.Event()
        self.listeners: list[listener_ops.ListenerInfo] = []
        self.fed: dict[str, dict[str, int]] = {}  # listener ARN -> targets last sent
        self.polled: dict[str, dict[str, Any]] = {}  # listener ARN -> last /state answer
        self.reported: dict[str, Any] = {}  # target group ARN -> health last told the emulator
        self.pending: list[dict[str, Any]] = []  # journal lines of the current period
        self.on_period: list[PeriodHook] = []  # the autoscaler and alarm evaluator go here

    # --- the loop ------------------------------------------------------------------------

    def run(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda signum, frame: self.stopping.set())
        self._save()
        try:
            elbv2 = self.clients("elbv2", self.spec.region)
            self.listeners = listener_ops.discover(elbv2, self.spec, self.run_dir)
            self._attach_scaling()
            self.groups.sync(set())  # the apps start while the balancers do
            self.state.balancers = [
                listener_ops.start(info, self.run_dir, self.spec.stack) for info in self.listeners
            ]
            self._save()
            self._loop()
        except Exception as exc:
            traceback.print_exc()
            self.state.status, self.state.error = "failed", " ".join(str(exc).split())
        finally:
            self._shutdown()

    def _loop(self) -> None:
        last_ok, next_second, next_stack_check = time.monotonic(), 0.0, 0.0
        while not self.stopping.is_set():
            now = time.monotonic()
            if now >= next_stack_check:
                next_stack_check = now + STACK_CHECK_S
                if not self._stack_is_up():
                    return
            try:
                # While starting, poll the balancers every tick: `up` waits on the first healthy.
                self.tick(every_second=now >= next_second or self.state.status == "starting")
                last_ok = now
            except Exception as exc:  # the emulator may be busy or gone: retry, then give up
                print(f"controller: tick failed: {exc}", flush=True)
                if now - last_ok > EMULATOR_LOST_S:
                    raise
            if now >= next_second:
                next_second = now + _to_next_second()
            # While starting, `up` waits on the first healthy targets: look again soon.
            tick = STARTING_TICK_S if self.state.status == "starting" else self.spec.tick_s
            self.stopping.wait(max(0.0, min(tick, next_second - time.monotonic())))

    def tick(self, every_second: bool = True) -> None:
        unhealthy = {
            id_
            for answer in self.polled.values()
            for id_, target in answer.get("targets", {}).items()
            if target["state"] == "unhealthy"
        }
        self.groups.sync(unhealthy)
        for event in self.groups.events:
            print(f"controller: {event}", flush=True)
        self.groups.events.clear()
        self._feed(self.groups.registered())
        if every_second:
            self._second()
        self._update_status()

    def _attach_scaling(self) -> None:
        """The alarm evaluator and the autoscaler, on every period (ADR 0032)."""
        from perfenv.cli.targets.local.alarms.service import alarm_names
        from perfenv.cli.targets.local.scaling.hooks import attach

        _evaluator, autoscaler, hooks = attach(
            lambda service: self.clients(service, self.spec.region),
            groups=self.spec.groups,
            alarms=alarm_names(state.load(self.spec.stack).resources),
            time_scale=self.spec.time_scale,
            run_dir=self.run_dir,
            journal=state.telemetry_path(self.spec.stack),
        )
        self.groups.activities = autoscaler.log  # replacements are activities too
        self.on_period += hooks

    # --- steps ---------------------------------------------------------------------------

    def _feed(self, registered: dict[str, dict[str, int]]) -> None:
        for index, record in enumerate(self.state.balancers):
            if not fleet.alive(record.process):  # restarted on its port: service_url stays
                print(f"controller: the balancer of {record.listener_arn} died; restarting it")
                info = self.listeners[index]
                info = replace(info, balancer=replace(info.balancer, port=record.process.port))
                record = listener_ops.start(info, self.run_dir, self.spec.stack)
                self.state.balancers[index] = record
                self.fed.pop(record.listener_arn, None)
            wanted = registered.get(record.target_group_arn, {})
            if self.fed.get(record.listener_arn) != wanted:
                targets = {id_: ["127.0.0.1", port] for id_, port in wanted.items()}
                listener_ops.control(record, "PUT", "/targets", {"targets": targets})
                self.fed[record.listener_arn] = dict(wanted)

    def _second(self) -> None:
        for record in self.state.balancers:
            since = self.journal.last_t
            self.polled[record.listener_arn] = listener_ops.control(
                record, "GET", f"/state?since={since}"
            )
        self._report_health()
        cpu = self.journal.cpu(self.groups.processes)
        lines = self.journal.step(self.polled, self.listeners, self.groups.views, cpu)
        period = self.spec.metric_period_s
        for line in lines:
            if self.pending and line["t"] // period != self.pending[0]["t"] // period:
                self._publish(self.pending[0]["t"] // period * period, period)
                self.pending = []
            self.pending.append(line)

    def _report_health(self) -> None:
        for record in self.state.balancers:
            targets = {
                id_: {k: t[k] for k in ("state", "reason", "description")}
                for id_, t in self.polled.get(record.listener_arn, {}).get("targets", {}).items()
            }
            if self.reported.get(record.target_group_arn) == targets:
                continue
            body = json.dumps({"target_group_arn": record.target_group_arn, "targets": targets})
            request = urllib.request.Request(
                f"{self.spec.endpoint}/perfenv/target-health", data=body.encode(), method="POST"
            )
            with urllib.request.urlopen(request, timeout=5):  # noqa: S310 - the local emulator
                self.reported[record.target_group_arn] = targets

    def _publish(self, start: int, period: int) -> None:
        cloudwatch = self.clients("cloudwatch", self.spec.region)
        for namespace, data in period_data(self.pending, start, period).items():
            for chunk in range(0, len(data), 500):
                if data[chunk : chunk + 500]:
                    cloudwatch.put_metric_data(
                        Namespace=namespace, MetricData=data[chunk : chunk + 500]
                    )
        for hook in self.on_period:
            hook(start, period)

    def _update_status(self) -> None:
        healthy = {
            r.target_group_arn: sum(
                t["state"] == "healthy"
                for t in self.polled.get(r.listener_arn, {}).get("targets", {}).values()
            )
            for r in self.state.balancers
        }
        views = self.groups.views.values()
        # Ready: every group at its desired capacity, and each balancer has every in-service
        # instance of its target group's groups as a target, all healthy.
        ready = all(len(v.in_service) == v.desired for v in views) and all(
            set(self.fed.get(r.listener_arn, {}))
            == {i for v in views if r.target_group_arn in v.target_groups for i in v.in_service}
            and healthy.get(r.target_group_arn, 0) == len(self.fed.get(r.listener_arn, {}))
            for r in self.state.balancers
        )
        changed = healthy != self.state.healthy or self.state.instances != self.groups.processes
        if self.state.status == "starting" and ready and self.polled:
            self.state.status, changed = "ready", True
        if changed:
            self.state.healthy = healthy
            self.state.instances = dict(self.groups.processes)
            self._save()

    def _stack_is_up(self) -> bool:
        try:
            status = state.load(self.spec.stack).status
        except Exception:
            return False  # forgotten (or unreadable): nothing left to keep up
        return status not in ("destroying", "destroyed")

    def _shutdown(self) -> None:
        if self.state.status != "failed":
            self.state.status = "stopping"
        self._save()
        fleet.stop([b.process for b in self.state.balancers])
        self.groups.stop_all()
        if self.state.status == "stopping":
            self.state.status = "stopped"
        self.state.instances = {}
        self._save()

    def _save(self) -> None:
        state.save_controller(self.spec.stack, self.state)


def _to_next_second() -> float:
    """Seconds until just after the next wall-clock second: the balancers' seconds are journaled
    as soon as they are over (a run's reader waits for the one holding its window's end)."""
    return 1.0 - time.time() % 1.0 + SECOND_LAG_S


def main(argv: list[str]) -> None:
    """`SPEC.json`, or `SPEC.json STACK` to start before the spec exists (see `early.py`)."""
    if len(argv) not in (1, 2):
        sys.exit("usage: python -m perfenv.cli.targets.local.controller SPEC.json [STACK]")
    spec_file = Path(argv[0])
    if len(argv) == 2:
        from perfenv.cli.targets.local.controller.early import await_spec

        if not await_spec(spec_file, argv[1]):
            return  # the stack's up ended before its fleet: nothing to start
    Controller(ControllerSpec.from_json(spec_file.read_text())).run()
