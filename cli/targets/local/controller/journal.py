"""The stack's server side, one JSON line per second, in `stacks/<stack>/telemetry.jsonl`.

Each line: `{"t": epoch second, "lb": {listener ARN: {"load_balancer", "target_group",
"requests", "target_codes", "elb_5xx", "histogram", "healthy", "unhealthy"}}, "cpu":
{instance id: percent of one core}, "groups": {name: {"desired", "in_service", "instances",
"min", "max"}}}`.
The metrics published to the emulator's CloudWatch are sums and averages of these lines, and the
local telemetry reader reads them back for a scenario's window (percentiles included).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from perfenv.cli.targets.local.controller.groups import GroupView
from perfenv.cli.targets.local.controller.listeners import ListenerInfo
from perfenv.cli.targets.local.state import ProcessRecord

_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime + stime


class Journal:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.last_t = int(time.time()) - 1  # the last second written
        self._cpu: dict[str, tuple[float, float]] = {}  # instance -> (wall, cpu seconds)

    def cpu(self, processes: dict[str, ProcessRecord]) -> dict[str, float]:
        """Each instance's app CPU since the last call, in percent of one core."""
        now, out, seen = time.monotonic(), {}, {}
        for id_, proc in processes.items():
            used = cpu_seconds(proc.pid)
            if used is None:
                continue
            seen[id_] = (now, used)
            before = self._cpu.get(id_)
            if before is not None and now > before[0]:
                out[id_] = round(100 * (used - before[1]) / (now - before[0]), 2)
        self._cpu = seen
        return out

    def step(
        self,
        polled: dict[str, dict[str, Any]],
        listeners: list[ListenerInfo],
        groups: dict[str, GroupView],
        cpu: dict[str, float],
    ) -> list[dict[str, Any]]:
        """Lines for every second completed since the last step; appended to the journal."""
        now = int(time.time())
        seconds = {
            arn: {s["t"]: s for s in answer.get("seconds", [])} for arn, answer in polled.items()
        }
        health = {arn: _health_counts(answer) for arn, answer in polled.items()}
        group_lines = {
            name: {
                "desired": v.desired,
                "in_service": len(v.in_service),
                "instances": sorted(v.in_service),
                "min": v.min,
                "max": v.max,
            }
            for name, v in groups.items()
        }
        lines = []
        for t in range(self.last_t + 1, now):
            lb = {}
            for info in listeners:
                second = seconds.get(info.listener_arn, {}).get(t, {})
                healthy, unhealthy = health.get(info.listener_arn, (0, 0))
                lb[info.listener_arn] = {
                    "load_balancer": info.load_balancer,
                    "target_group": info.target_group,
                    "requests": second.get("requests", 0),
                    "target_codes": second.get("target_codes", {}),
                    "elb_5xx": second.get("elb_5xx", 0),
                    "histogram": second.get("histogram", ""),
                    "healthy": healthy,
                    "unhealthy": unhealthy,
                }
            lines.append({"t": t, "lb": lb, "cpu": cpu, "groups": group_lines})
        if lines:
            with self.path.open("a") as out:
                out.writelines(json.dumps(line, separators=(",", ":")) + "\n" for line in lines)
            self.last_t = now - 1
        return lines


def _health_counts(answer: dict[str, Any]) -> tuple[int, int]:
    states = [t["state"] for t in answer.get("targets", {}).values()]
    return states.count("healthy"), states.count("unhealthy")


def read(path: Path, start: float, end: float) -> list[dict[str, Any]]:
    """The journal's lines for the seconds from `start` to `end` (epoch), oldest first."""
    lines = []
    try:
        with path.open() as journal:
            for raw in journal:
                line = json.loads(raw)
                if int(start) <= line["t"] <= end:
                    lines.append(line)
    except FileNotFoundError:
        return []
    return lines
