"""The local balancer: ALB target health and routing, then the real proxy process."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from perfenv.cli.targets.local import fleet
from perfenv.cli.targets.local.balancer.targets import (
    LEAST_OUTSTANDING,
    HealthSettings,
    TargetSet,
)

SETTINGS = HealthSettings(healthy_threshold=3, unhealthy_threshold=2, matcher="200-299,302")


def test_a_new_target_is_healthy_after_one_passed_check_and_unhealthy_after_the_threshold() -> None:
    targets = TargetSet()
    (a,) = targets.register({"i-a": ("127.0.0.1", 1)})
    assert a.state[0] == "initial" and a.state[1] == "Elb.InitialHealthChecking"
    a.record(True, SETTINGS)
    assert a.state[0] == "healthy"
    a.record(False, SETTINGS, "timeout")
    assert a.state[0] == "healthy"  # one failure is below the unhealthy threshold
    a.record(False, SETTINGS, "timeout")
    assert a.state == ("unhealthy", "Target.Timeout", "Request timed out")
    a.record(True, SETTINGS)
    a.record(True, SETTINGS)
    assert a.state[0] == "unhealthy"  # back only after the healthy threshold
    a.record(True, SETTINGS)
    assert a.state[0] == "healthy"
    (b,) = targets.register({"i-a": ("127.0.0.1", 1), "i-b": ("127.0.0.1", 2)})
    b.record(False, SETTINGS, "mismatch", 500)
    b.record(False, SETTINGS, "mismatch", 500)
    assert b.state[1:] == (
        "Target.ResponseCodeMismatch",
        "Health checks failed with these codes: [500]",
    )


def test_the_matcher_takes_codes_lists_and_ranges() -> None:
    assert SETTINGS.matches(200) and SETTINGS.matches(299) and SETTINGS.matches(302)
    assert not SETTINGS.matches(301) and not SETTINGS.matches(500)


def test_routing_round_robin_over_healthy_targets_fail_open_and_none() -> None:
    targets = TargetSet()
    assert targets.pick() is None  # nothing registered: the proxy answers 503
    a, b, c = targets.register({f"i-{n}": ("127.0.0.1", i) for i, n in enumerate("abc")})
    assert {targets.pick().id for _ in range(6)} == {"i-a", "i-b", "i-c"}  # type: ignore[union-attr]
    a.record(True, SETTINGS)
    b.record(True, SETTINGS)
    picks = [targets.pick().id for _ in range(10)]  # type: ignore[union-attr]
    assert picks.count("i-a") == picks.count("i-b") == 5  # c is still initial: not routed
    for target in (a, b):
        for _ in range(2):
            target.record(False, SETTINGS)
    c.record(False, SETTINGS)
    c.record(False, SETTINGS)
    assert {targets.pick().id for _ in range(6)} == {"i-a", "i-b", "i-c"}  # type: ignore[union-attr]


def test_least_outstanding_requests_and_draining() -> None:
    targets = TargetSet(LEAST_OUTSTANDING, deregistration_delay_s=60)
    a, b = targets.register({"i-a": ("127.0.0.1", 1), "i-b": ("127.0.0.1", 2)})
    for target in (a, b):
        target.record(True, SETTINGS)
    a.outstanding = 3
    assert [targets.pick() for _ in range(3)] == [b, b, b]
    targets.register({"i-a": ("127.0.0.1", 1)})  # b deregistered: draining, no new requests
    assert b.state[0] == "draining" and targets.pick() is a
    b.outstanding = 1
    assert targets.expire() == []  # still a request in flight, delay not over
    b.outstanding = 0
    assert targets.expire() == [b] and set(targets.targets) == {"i-a"}


# --- the process ----------------------------------------------------------------------------


@pytest.fixture
def apps(tmp_path: Path) -> Iterator[list[int]]:
    procs = [
        fleet.launch(
            ["{python}", "-m", "perfenv.examples.service", "--port", "{port}"], tmp_path, f"a{i}"
        )
        for i in range(2)
    ]
    try:
        for proc in procs:
            fleet.wait_healthy(proc, "/health")
        yield [p.port for p in procs]
    finally:
        fleet.stop(procs)


@pytest.fixture
def balancer(tmp_path: Path) -> Iterator[dict[str, Any]]:
    spec = {
        "ready_file": str(tmp_path / "ready.json"),
        "health": {
            "path": "/health",
            "interval_s": 0.2,
            "timeout_s": 0.2,
            "healthy_threshold": 2,
            "unhealthy_threshold": 2,
        },
        "deregistration_delay_s": 0.5,
    }
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    proc = subprocess.Popen(
        [sys.executable, "-m", "perfenv.cli.targets.local.balancer", str(tmp_path / "spec.json")],
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 20
        while not (tmp_path / "ready.json").exists():
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
        ready: dict[str, Any] = json.loads((tmp_path / "ready.json").read_text())
        yield ready
    finally:
        fleet.terminate(proc.pid)
        proc.wait(timeout=5)


def call(url: str, data: Any = None) -> tuple[int, bytes]:
    body = json.dumps(data).encode() if data is not None else None
    request = urllib.request.Request(url, data=body, method="PUT" if body else "GET")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def wait_for(condition: Any, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_the_balancer_forwards_round_robin_checks_health_and_counts(
    apps: list[int], balancer: dict[str, Any]
) -> None:
    url, control = (
        f"http://127.0.0.1:{balancer['port']}",
        f"http://127.0.0.1:{balancer['control_port']}",
    )
    assert call(f"{url}/items")[0] == 503  # no target registered
    call(
        f"{control}/targets",
        {"targets": {"i-a": ["127.0.0.1", apps[0]], "i-b": ["127.0.0.1", apps[1]]}},
    )

    def states() -> dict[str, str]:
        return {
            k: v["state"] for k, v in json.loads(call(f"{control}/state")[1])["targets"].items()
        }

    wait_for(lambda: states() == {"i-a": "healthy", "i-b": "healthy"})
    started = int(time.time())
    for _ in range(100):
        assert call(f"{url}/items?latency_ms=0&jitter_ms=0")[0] == 200
    served = [json.loads(call(f"http://127.0.0.1:{port}/admin/stats")[1]) for port in apps]
    assert [s["requests"]["/items"] for s in served] == [50, 50]

    wait_for(lambda: int(time.time()) > started + 1 + 1)
    seconds = json.loads(call(f"{control}/state?since={started - 1}")[1])["seconds"]
    assert sum(s["requests"] for s in seconds) == 100
    assert sum(s["target_codes"].get("2XX", 0) for s in seconds) == 100
    assert all(s["histogram"] for s in seconds if s["requests"])

    call(f"{control}/targets", {"targets": {"i-a": ["127.0.0.1", apps[0]]}})  # b deregistered
    assert "i-b" not in states() or states()["i-b"] == "draining"
    for _ in range(10):
        assert call(f"{url}/items?latency_ms=0")[0] == 200
    b_stats = json.loads(call(f"http://127.0.0.1:{apps[1]}/admin/stats")[1])
    assert b_stats["requests"]["/items"] == 50  # nothing new went to the draining target
    wait_for(lambda: "i-b" not in states())


def test_a_dead_target_turns_unhealthy_and_all_unhealthy_fails_open(
    apps: list[int], balancer: dict[str, Any], tmp_path: Path
) -> None:
    url, control = (
        f"http://127.0.0.1:{balancer['port']}",
        f"http://127.0.0.1:{balancer['control_port']}",
    )
    dead = fleet.free_port()  # nothing listens there
    call(
        f"{control}/targets",
        {"targets": {"i-a": ["127.0.0.1", apps[0]], "i-dead": ["127.0.0.1", dead]}},
    )

    def targets() -> dict[str, Any]:
        return dict(json.loads(call(f"{control}/state")[1])["targets"])

    wait_for(lambda: targets()["i-dead"]["state"] == "unhealthy")
    assert targets()["i-dead"]["reason"] == "Target.FailedHealthChecks"
    assert all(call(f"{url}/items?latency_ms=0")[0] == 200 for _ in range(10))  # only i-a gets them

    # Every target unhealthy: requests go to all of them (fail open); the dead one answers 502.
    call(f"{control}/targets", {"targets": {"i-dead": ["127.0.0.1", dead]}})
    wait_for(lambda: set(targets()) == {"i-dead"})
    assert call(f"{url}/items")[0] == 502
