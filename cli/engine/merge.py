"""Turn the generator processes' records into a ScenarioMeasurement, exactly.

Windows of the same scheduled second from every driver merge into one (summed counts, added
histograms), in order, as soon as all drivers reported that second. The generator's health is
judged from the same records: CPU ticks, late and dropped sends, waits for a free connection.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime

from hdrh.histogram import HdrHistogram

from perfenv.cli.engine import wire
from perfenv.cli.verdict.measurement import (
    HIST_HIGHEST_US,
    HIST_LOWEST_US,
    HIST_SIGNIFICANT_DIGITS,
    EndpointStats,
    GeneratorHealth,
    InstanceHealth,
    LoadPlan,
    ScenarioMeasurement,
    Window,
)

CPU_SATURATED_PERCENT = 90.0  # one process's share of one core
SUSTAINED_S = 3  # consecutive seconds the CPU must stay saturated to count
STALLED_FRACTION = 0.1  # of the plan's duration, that one process's event loop may stall
BEHIND_FRACTION = 0.01  # sends late for the generator's own reasons, of those planned


def merge_histograms(encoded: list[str]) -> str:
    """One encoded histogram holding every value of the given ones."""
    total = HdrHistogram(HIST_LOWEST_US, HIST_HIGHEST_US, HIST_SIGNIFICANT_DIGITS)
    for text in encoded:
        total.decode_and_add(text)
    return str(total.encode().decode("ascii"))


def _sustained(samples: list[float]) -> float:
    """The highest level the samples held for SUSTAINED_S consecutive seconds."""
    span = min(SUSTAINED_S, len(samples))
    if span == 0:
        return 0.0
    return max(min(samples[i : i + span]) for i in range(len(samples) - span + 1))


@dataclass
class _Totals:
    late: int = 0
    dropped: int = 0
    expired: int = 0
    max_lag_ms: float = 0.0
    saturated_s: int = 0


@dataclass
class Collector:
    """Feeds on records (any order across drivers); yields windows in order of seconds."""

    plan: LoadPlan
    drivers: int
    names: tuple[str, ...] = ()  # the drivers' load generator instances, by share index
    windows: list[Window] = field(default_factory=list)
    errors_by_kind: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    error: wire.Record | None = None
    _pending: dict[int, list[wire.Record]] = field(default_factory=lambda: defaultdict(list))
    _starts: dict[int, float] = field(default_factory=dict)
    _done: dict[int, wire.Record] = field(default_factory=dict)
    _cpu: dict[int, list[float]] = field(default_factory=lambda: defaultdict(list))
    _loop_lag: dict[int, list[float]] = field(default_factory=lambda: defaultdict(list))
    _totals: _Totals = field(default_factory=_Totals)
    _sent: Counter[int] = field(default_factory=Counter)  # per driver

    @property
    def started(self) -> bool:
        return len(self._starts) >= self.drivers

    @property
    def complete(self) -> bool:
        return len(self._done) >= self.drivers and len(self.windows) == self.plan.duration_s

    def add(self, record: wire.Record) -> list[Window]:
        """Take one record; return the windows it completed."""
        kind = record["type"]
        if kind == "window":
            self._pending[record["t"]].append(record)
            return self._merge_ready()
        if kind == "tick":
            self._cpu[record["proc"]].append(float(record["cpu"]))
            self._loop_lag[record["proc"]].append(float(record.get("loop_lag_ms", 0.0)))
        elif kind == "start":
            self._starts[record["proc"]] = float(record["wall"])
        elif kind == "done":
            self._done[record["proc"]] = record
        elif kind == "error" and self.error is None:
            self.error = record
        return []

    def _merge_ready(self) -> list[Window]:
        ready = []
        while len(self._pending.get(len(self.windows), ())) >= self.drivers:
            parts = self._pending.pop(len(self.windows))
            window = Window(
                t=len(self.windows),
                planned=sum(p["planned"] for p in parts),
                sent=sum(p["sent"] for p in parts),
                ok=sum(p["ok"] for p in parts),
                errors=sum(p["errors"] for p in parts),
                histogram=merge_histograms([p["hist"] for p in parts]),
            )
            for part in parts:
                self._sent[part["proc"]] += part["sent"]
                self.errors_by_kind.update(part["kinds"])
                self.statuses.update(part.get("codes") or {})
                self._totals.late += part["late"]
                self._totals.dropped += part["dropped"]
                self._totals.expired += part["expired"]
                self._totals.max_lag_ms = max(self._totals.max_lag_ms, part["lag_ms"])
            self._totals.saturated_s += any(p["slot_waits"] for p in parts)
            self.windows.append(window)
            ready.append(window)
        return ready

    def _endpoints(self) -> dict[str, EndpointStats]:
        parts: dict[str, list[wire.Record]] = defaultdict(list)
        for done in self._done.values():
            for name, stats in done["endpoints"].items():
                parts[name].append(stats)
        return {
            name: EndpointStats(
                count=sum(s["count"] for s in stats),
                errors=sum(s["errors"] for s in stats),
                histogram=merge_histograms([s["hist"] for s in stats]),
            )
            for name, stats in sorted(parts.items())
        }

    def cpu_max_percent(self) -> float:
        """The busiest process's CPU, sustained for SUSTAINED_S consecutive seconds."""
        return max((_sustained(samples) for samples in self._cpu.values()), default=0.0)

    def loop_stalled_s(self) -> float:
        """How long the worst process's event loop stalled (was late by LATE_SEND_MS or more).

        A loop that wakes a sleeper late was busy that long: it sent nothing on time and read
        no response, so waits for a connection in that time are the generator's, not the target's.
        """
        return max(
            (
                sum(lag for lag in samples if lag >= wire.LATE_SEND_MS) / 1000
                for samples in self._loop_lag.values()
            ),
            default=0.0,
        )

    def health(self) -> GeneratorHealth:
        planned = sum(w.planned for w in self.windows)
        sent = sum(w.sent for w in self.windows)
        totals = self._totals
        cpu, stalled_s = self.cpu_max_percent(), self.loop_stalled_s()
        behind = totals.late + totals.dropped
        causes = []
        instances = self.instances()
        saturated = [i for i in instances if not i.valid]
        if saturated:  # judged per instance: one saturated worker invalidates the run
            causes += [
                f"generator CPU saturated at {i.cpu_max_percent:.0f}% on {i.instance}"
                for i in saturated
            ]
        if cpu >= CPU_SATURATED_PERCENT and not saturated:
            causes.append(f"generator CPU saturated at {cpu:.0f}%")
        if stalled_s >= STALLED_FRACTION * self.plan.duration_s:
            causes.append(
                f"generator event loop stalled for {stalled_s:.1f} s"
                f" of the {self.plan.duration_s} s plan"
            )
        if planned and behind > BEHIND_FRACTION * planned:
            causes.append(
                f"{behind} sends fell more than {wire.LATE_SEND_MS:.0f} ms behind schedule"
                f" (worst {totals.max_lag_ms:.0f} ms) while connections were free"
            )
        reason = ""
        if causes:
            share = f"{100 * sent / planned:.0f}%" if planned else "-"
            reason = f"planned {planned} requests, sent {sent} ({share}): " + "; ".join(causes)
        return GeneratorHealth(
            valid=not causes,
            reason=reason,
            planned=planned,
            achieved=sent,
            cpu_max_percent=round(cpu, 1),
            max_send_lag_ms=round(totals.max_lag_ms, 1),
            target_saturated_s=totals.saturated_s,
            cpu_seconds=round(sum(d.get("cpu_s", 0.0) for d in self._done.values()), 3),
            instances=tuple(instances),
        )

    def instances(self) -> list[InstanceHealth]:
        """Each named driver's instance: what it sent, its sustained CPU, whether it kept up."""
        out = []
        for share, name in enumerate(self.names):
            cpu = _sustained(self._cpu.get(share, []))
            out.append(
                InstanceHealth(
                    instance=name,
                    sent=self._sent[share],
                    cpu_max_percent=round(cpu, 1),
                    valid=cpu < CPU_SATURATED_PERCENT,
                )
            )
        return out

    def measurement(self) -> ScenarioMeasurement:
        first = min(self._starts.values(), default=0.0)
        return ScenarioMeasurement(
            scenario=self.plan.scenario,
            started_at=datetime.fromtimestamp(first, UTC).isoformat(timespec="milliseconds"),
            warmup_s=self.plan.warmup_s,
            windows=tuple(self.windows),
            endpoints=self._endpoints(),
            errors_by_kind=dict(self.errors_by_kind),
            generator=self.health(),
            statuses=dict(sorted(self.statuses.items())),
        )
