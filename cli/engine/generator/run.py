"""One generator process's share of the schedule, executed on time and measured honestly.

At each arrival's due time the scheduler takes a free connection slot and spawns a greenlet that
sends it. Latency is the response time plus the lateness the target caused (coordinated omission
corrected): when every slot is busy the scheduler waits for one, and that wait is the target's
(it holds the connections) for that arrival and every later one due meanwhile; one that waited
past the timeout is a "timeout (all connections busy)" error. The generator's own lateness (timer,
busy loop) is not charged, but watched: too far behind, the run is invalid (merge.py). Latencies
go to HdrHistograms per scheduled second and endpoint; a second is emitted once it finished.
"""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import gevent  # type: ignore[import-untyped]
from gevent.lock import Semaphore  # type: ignore[import-untyped]
from hdrh.histogram import HdrHistogram

from perfenv.cli.engine import schedule, wire
from perfenv.cli.engine.generator.senders import NO_REQUEST, Sender
from perfenv.cli.engine.kinds import classify
from perfenv.cli.verdict.measurement import HIST_HIGHEST_US, HIST_LOWEST_US, HIST_SIGNIFICANT_DIGITS

PROBE_S = 0.05  # the event-loop probe's sleep


def _histogram() -> HdrHistogram:
    return HdrHistogram(HIST_LOWEST_US, HIST_HIGHEST_US, HIST_SIGNIFICANT_DIGITS)


def _encode(hist: HdrHistogram | None) -> str:
    return str((hist or _histogram()).encode().decode("ascii"))


@dataclass
class _Second:
    planned: int
    sent: int = 0
    ok: int = 0
    errors: int = 0
    done: int = 0
    late: int = 0  # sends behind schedule for the generator's own reasons
    dropped: int = 0  # never sent: the generator was too far behind
    expired: int = 0  # never sent: waited for a free connection past the timeout
    slot_waits: int = 0
    lag_ms: float = 0.0
    kinds: Counter[str] = field(default_factory=Counter)
    codes: Counter[str] = field(default_factory=Counter)  # HTTP status -> responses
    hist: HdrHistogram | None = None


@dataclass
class _Endpoint:
    count: int = 0
    errors: int = 0
    hist: HdrHistogram = field(default_factory=_histogram)


@dataclass
class _Arrival:
    second: int
    lag_s: float  # how late the send was behind its due time because the target held every slot


class Run:
    """This process's share of the schedule, executed and measured."""

    def __init__(
        self,
        plan: dict[str, Any],
        share: int,
        sender: Callable[[int], Sender],
        emit: Callable[[wire.Record], None],
    ) -> None:
        self.share = share
        self.shares = max(1, plan["workers"])
        self.rates: list[float] = plan["rates"]
        self.timeout: float = plan["timeout_s"]
        self.warmup: int = plan["warmup_s"]
        self.slot_count = max(1, plan["max_connections"] // self.shares)
        self.slots = Semaphore(self.slot_count)
        planned = schedule.planned_per_second(self.rates, share, self.shares)
        self.seconds = [_Second(planned=n) for n in planned]
        self.next_emit = 0
        self.endpoints: dict[str, _Endpoint] = {}
        self.arrivals: dict[Any, _Arrival] = {}
        self.pending: dict[Any, int] = {}  # arrival greenlet -> its second, until it finished
        self.t0 = 0.0
        self.loop_lag_s = 0.0
        self.sender = sender(self.slot_count)
        self.emit = emit

    def clock(self) -> float:
        return time.perf_counter() - self.t0

    # -- measurement --------------------------------------------------------------------------

    def record(self, second: int, endpoint: str, latency_us: int, kind: str | None) -> None:
        value = min(max(latency_us, HIST_LOWEST_US), HIST_HIGHEST_US)
        sec = self.seconds[second]
        if sec.hist is None:
            sec.hist = _histogram()
        sec.hist.record_value(value)
        if kind is None:
            sec.ok += 1
        else:
            sec.errors += 1
            sec.kinds[kind] += 1
        if second >= self.warmup:
            stats = self.endpoints.setdefault(endpoint, _Endpoint())
            stats.hist.record_value(value)
            stats.count += 1
            stats.errors += kind is not None

    def on_request(
        self,
        request_type: str,
        name: str,
        response_time: float,
        response: Any = None,
        exception: BaseException | None = None,
        **_: Any,
    ) -> None:
        arrival = self.arrivals.get(gevent.getcurrent())
        if arrival is None:
            return  # not part of an arrival (a user's on_start)
        latency_us = round(response_time * 1000 + arrival.lag_s * 1e6)
        endpoint = self.sender.endpoint_of(request_type, name)
        status = getattr(response, "status_code", 0) or 0
        if status:
            self.seconds[arrival.second].codes[str(status)] += 1
        self.record(arrival.second, endpoint, latency_us, classify(exception, response))

    @contextlib.contextmanager
    def unmeasured(self) -> Iterator[None]:
        """Requests made inside are not part of the current arrival (a user's on_start)."""
        saved = self.arrivals.pop(gevent.getcurrent(), None)
        try:
            yield
        finally:
            if saved is not None:
                self.arrivals[gevent.getcurrent()] = saved

    # -- completion and streaming -------------------------------------------------------------

    def finish(self, second: int) -> None:
        self.seconds[second].done += 1
        self.flush()

    def flush(self) -> None:
        """Emit every second, in order, whose arrivals have all finished."""
        while self.next_emit < len(self.seconds):
            sec = self.seconds[self.next_emit]
            if sec.done < sec.planned:
                return
            self.emit(
                {
                    "type": "window",
                    "proc": self.share,
                    "t": self.next_emit,
                    "planned": sec.planned,
                    "sent": sec.sent,
                    "ok": sec.ok,
                    "errors": sec.errors,
                    "hist": _encode(sec.hist),
                    "kinds": dict(sec.kinds),
                    "codes": dict(sec.codes),
                    "late": sec.late,
                    "dropped": sec.dropped,
                    "lag_ms": round(sec.lag_ms, 3),
                    "slot_waits": sec.slot_waits,
                    "expired": sec.expired,
                }
            )
            sec.hist = None  # a long soak must not hold every second's histogram
            self.next_emit += 1

    def account_unsent(self) -> None:
        """Arrivals whose greenlet was killed before it ran were never sent: the generator's."""
        for second in self.pending.values():
            self.seconds[second].dropped += 1
            self.finish(second)
        self.pending.clear()
        for sec in self.seconds[self.next_emit :]:  # nothing may stay unreported
            sec.dropped += sec.planned - sec.done
            sec.done = sec.planned
        self.flush()

    def expire(self, second: int) -> None:
        self.seconds[second].expired += 1
        endpoint = self.sender.expired_endpoint()
        self.record(second, endpoint, round(self.timeout * 1e6), "timeout (all connections busy)")
        self.finish(second)

    # -- the schedule -------------------------------------------------------------------------

    def arrive(self, second: int, due: float, waited_until: float) -> None:
        start = self.clock()
        sec = self.seconds[second]
        sec.sent += 1
        own_lag_ms = (start - max(due, waited_until)) * 1000
        sec.lag_ms = max(sec.lag_ms, own_lag_ms)
        sec.late += own_lag_ms > wire.LATE_SEND_MS
        me = gevent.getcurrent()
        self.arrivals[me] = _Arrival(second=second, lag_s=max(0.0, min(start, waited_until) - due))
        try:
            self.sender.send(self.unmeasured)
        except gevent.GreenletExit:
            kind = "timeout (unfinished at the end)"
            self.record(second, NO_REQUEST, round((self.clock() - due) * 1e6), kind)
        except Exception as exc:  # a user task's own failure is an error of its arrival
            kind = f"task error: {type(exc).__name__}"
            self.record(second, NO_REQUEST, round((self.clock() - due) * 1e6), kind)
        finally:
            self.arrivals.pop(me, None)
            self.pending.pop(me, None)
            self.slots.release()
            self.finish(second)

    def issue_arrivals(self) -> None:
        waited_until = -1.0  # when the scheduler last got a slot after waiting for one
        for k, due, second in schedule.arrivals(self.rates, self.share, self.shares):
            now = self.clock()
            if due > now:
                gevent.sleep(due - now)
                now = self.clock()
            elif k % 64 == 0:
                gevent.sleep(0)  # behind schedule: still let responses be read
            if now - due > self.timeout:
                if waited_until >= due:
                    self.expire(second)
                else:
                    self.seconds[second].dropped += 1
                    self.finish(second)
                continue
            if not self.slots.acquire(blocking=False):
                self.seconds[second].slot_waits += 1
                got = self.slots.acquire(timeout=max(0.0, due + self.timeout - now))
                waited_until = self.clock()
                if not got:
                    self.expire(second)
                    continue
            self.pending[gevent.spawn(self.arrive, second, due, waited_until)] = second

    def probe(self) -> None:
        """How late the event loop wakes a sleeper: a busy generator wakes everything late."""
        while True:
            before = time.perf_counter()
            gevent.sleep(PROBE_S)
            self.loop_lag_s = max(self.loop_lag_s, time.perf_counter() - before - PROBE_S)

    def tick(self) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        while True:
            gevent.sleep(1.0)
            wall2, cpu2 = time.perf_counter(), time.process_time()
            loop_lag_ms, self.loop_lag_s = round(self.loop_lag_s * 1000, 1), 0.0
            self.emit(
                {
                    "type": "tick",
                    "proc": self.share,
                    "cpu": round(100 * (cpu2 - cpu) / max(1e-6, wall2 - wall), 1),
                    "inflight": self.slot_count - self.slots.counter,
                    "slots": self.slot_count,
                    "loop_lag_ms": loop_lag_ms,
                }
            )
            wall, cpu = wall2, cpu2

    def execute(self) -> None:
        self.t0, cpu0 = time.perf_counter(), time.process_time()
        self.emit({"type": "start", "proc": self.share, "wall": time.time()})
        ticker = gevent.spawn(self.tick)
        prober = gevent.spawn(self.probe)
        try:
            self.issue_arrivals()
            drain_until = len(self.rates) + 2 * self.timeout + 2
            while self.pending and self.clock() < drain_until:
                gevent.sleep(0.05)
            gevent.killall(list(self.pending), block=True, timeout=5)
        finally:
            gevent.killall([ticker, prober])
        self.account_unsent()
        self.emit(
            {
                "type": "done",
                "proc": self.share,
                "cpu_s": round(time.process_time() - cpu0, 3),
                "endpoints": {
                    name: {"count": ep.count, "errors": ep.errors, "hist": _encode(ep.hist)}
                    for name, ep in sorted(self.endpoints.items())
                },
            }
        )
