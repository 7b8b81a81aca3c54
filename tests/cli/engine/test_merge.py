"""Merging the drivers' records (exact) and judging the generator's health, on synthetic records."""

from __future__ import annotations

from typing import Any

from hdrh.histogram import HdrHistogram

from perfenv.cli.engine.merge import Collector, merge_histograms
from perfenv.cli.verdict.measurement import LoadPlan, RequestSpec


def _hist(*values_us: int) -> str:
    hist = HdrHistogram(1, 60_000_000, 3)
    for value in values_us:
        hist.record_value(value)
    return str(hist.encode().decode("ascii"))


def _plan(seconds: int = 2, rate: float = 10.0) -> LoadPlan:
    return LoadPlan(
        scenario="s",
        base_url="http://127.0.0.1:1",
        rates=(rate,) * seconds,
        warmup_s=1,
        requests=(RequestSpec(method="GET", path="/"),),
    )


def _window(proc: int, t: int, values: list[int], **extra: Any) -> dict[str, Any]:
    record = {
        "type": "window",
        "proc": proc,
        "t": t,
        "planned": 5,
        "sent": 5,
        "ok": len(values),
        "errors": 0,
        "hist": _hist(*values),
        "kinds": {},
        "late": 0,
        "dropped": 0,
        "lag_ms": 1.0,
        "slot_waits": 0,
        "expired": 0,
    }
    return record | extra


def _ticks(proc: int, cpus: list[float], loop_lag_ms: float = 1.0) -> list[dict[str, Any]]:
    return [{"type": "tick", "proc": proc, "cpu": cpu, "loop_lag_ms": loop_lag_ms} for cpu in cpus]


def test_windows_merge_in_order_only_when_every_driver_reported() -> None:
    collector = Collector(plan=_plan(), drivers=2)
    assert collector.add(_window(1, 1, [3000])) == []  # second 1 before second 0
    assert collector.add(_window(0, 0, [1000, 2000])) == []  # driver 1 still owes second 0
    (first, second) = collector.add(_window(1, 0, [4000])) + collector.add(
        _window(0, 1, [5000, 6000])
    )
    assert (first.t, first.planned, first.sent, first.ok) == (0, 10, 10, 3)
    merged = HdrHistogram.decode(first.histogram)
    assert merged.get_total_count() == 3
    assert merged.get_max_value() == merged.get_highest_equivalent_value(4000)
    assert HdrHistogram.decode(second.histogram).get_total_count() == 3


def test_merge_histograms_is_exact() -> None:
    merged = HdrHistogram.decode(merge_histograms([_hist(10, 20), _hist(30), _hist()]))
    assert merged.get_total_count() == 3
    assert merged.get_value_at_percentile(50) == 20


def test_endpoints_and_errors_add_up_across_drivers() -> None:
    collector = Collector(plan=_plan(seconds=1), drivers=2)
    for proc in (0, 1):
        collector.add({"type": "start", "proc": proc, "wall": 1_800_000_000.0 + proc})
        collector.add(_window(proc, 0, [1000], errors=1, kinds={"HTTP 503": 1}))
        endpoint = {"count": 4, "errors": 1, "hist": _hist(1000, 2000, 3000, 4000)}
        done = {"type": "done", "proc": proc, "cpu_s": 0.25, "endpoints": {"GET /": endpoint}}
        collector.add(done)
    assert collector.complete
    result = collector.measurement()
    assert result.endpoints["GET /"].count == 8 and result.endpoints["GET /"].errors == 2
    assert HdrHistogram.decode(result.endpoints["GET /"].histogram).get_total_count() == 8
    assert result.errors_by_kind == {"HTTP 503": 2}
    assert result.started_at == "2027-01-15T08:00:00.000+00:00"
    assert result.generator.valid and result.generator.planned == 10
    assert result.generator.cpu_seconds == 0.5


def _judged(records: list[dict[str, Any]], seconds: int = 5) -> Any:
    collector = Collector(plan=_plan(seconds=seconds), drivers=1)
    for record in records:
        collector.add(record)
    return collector.health()


def test_sustained_cpu_saturation_is_invalid_and_says_planned_vs_sent() -> None:
    windows = [_window(0, t, [1000], sent=2) for t in range(5)]
    health = _judged(windows + _ticks(0, [50, 95, 99, 97, 40]))
    assert not health.valid
    assert health.reason == "planned 25 requests, sent 10 (40%): generator CPU saturated at 95%"
    assert (health.planned, health.achieved, health.cpu_max_percent) == (25, 10, 95.0)


def test_a_cpu_spike_is_not_saturation() -> None:
    windows = [_window(0, t, [1000]) for t in range(5)]
    assert _judged(windows + _ticks(0, [20, 99, 20, 99, 20])).valid


def test_late_sends_with_free_connections_are_invalid() -> None:
    windows = [_window(0, t, [1000], late=1, lag_ms=250.0) for t in range(5)]
    health = _judged(windows + _ticks(0, [30] * 5))
    assert not health.valid
    assert "5 sends fell more than 100 ms behind schedule (worst 250 ms)" in health.reason


def test_a_stalled_event_loop_is_invalid_even_with_all_connections_busy() -> None:
    windows = [_window(0, t, [1000], slot_waits=3) for t in range(5)]
    ticks = _ticks(0, [60, 70], loop_lag_ms=300)
    health = _judged(windows + ticks + _ticks(0, [10] * 3, loop_lag_ms=1))
    assert not health.valid
    assert "event loop stalled for 0.6 s of the 5 s plan" in health.reason


def test_a_short_loop_hiccup_is_not_a_stall() -> None:
    windows = [_window(0, t, [1000]) for t in range(5)]
    health = _judged(windows + _ticks(0, [60], loop_lag_ms=400) + _ticks(0, [60] * 4))
    assert health.valid, health.reason


def test_waiting_on_a_saturated_target_stays_valid() -> None:
    busy = {"slot_waits": 20, "expired": 10, "errors": 10, "sent": 3, "kinds": {"timeout": 10}}
    windows = [_window(0, t, [2_000_000], **busy) for t in range(5)]
    health = _judged(windows + _ticks(0, [10] * 5))
    assert health.valid and health.reason == ""
    assert health.target_saturated_s == 5 and health.achieved == 15


def test_on_generator_instances_each_worker_is_judged_on_its_own() -> None:
    """Three worker instances: their windows merge into one run, what each sent is its own, and
    one saturated instance makes the run invalid, named, even when the others are idle."""
    names = ("i-aaa", "i-bbb", "i-ccc")
    collector = Collector(plan=_plan(seconds=3), drivers=3, names=names)
    for proc in range(3):
        collector.add({"type": "start", "proc": proc, "wall": 1_800_000_000.0})
        for t in range(3):
            collector.add(_window(proc, t, [1000] * 5, sent=4 + proc))
        for tick in _ticks(proc, [97.0] * 4 if proc == 1 else [20.0] * 4):
            collector.add(tick)
    collector.add({"type": "tick", "proc": -1, "cpu": 5.0, "loop_lag_ms": 0.0})  # the master
    assert [w.sent for w in collector.windows] == [15, 15, 15]
    health = collector.health()
    assert [(i.instance, i.sent, i.valid) for i in health.instances] == [
        ("i-aaa", 12, True),
        ("i-bbb", 15, False),
        ("i-ccc", 18, True),
    ]
    assert not health.valid
    assert health.reason.endswith("generator CPU saturated at 97% on i-bbb")
    assert Collector(plan=_plan(), drivers=1).health().instances == ()
