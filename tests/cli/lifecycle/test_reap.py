"""The cleaners: one bad record does not stop them, and reap trusts the target, not the store."""

from __future__ import annotations

import json
import os
import signal
import time
from typing import Any

from typer.testing import CliRunner

from perfenv.cli.main import app
from perfenv.cli.state.manifest import new_manifest
from perfenv.cli.state.store import open_store
from tests.fakes.target import FakeTarget, fake_deps

runner = CliRunner()


def _invoke(target: FakeTarget, *args: str) -> Any:
    return runner.invoke(app, [*args, "--format", "json"], obj=fake_deps(target))


def _up_expiring(target: FakeTarget, release: str) -> str:
    up = _invoke(target, "up", "--release", release, "--ttl", "1s")
    assert up.exit_code == 0, up.output
    return str(json.loads(up.stdout)["stack"])


def test_one_corrupt_record_is_named_and_the_others_are_listed_and_reaped() -> None:
    target = FakeTarget()
    good = sorted(_up_expiring(target, r) for r in ("5.0.0", "5.0.1"))
    store = open_store()
    corrupt = "runs/perf-bad-abc123.json"
    (store.root / corrupt).write_text("{not json")  # type: ignore[attr-defined]
    stale = json.loads((store.root / f"runs/{good[0]}.json").read_text())  # type: ignore[attr-defined]
    store.put(
        "runs/perf-late-abc123.json", stale | {"stack": "perf-late-abc123", "heartbeat": "soon"}
    )
    time.sleep(1.1)

    listed = _invoke(target, "stacks")
    assert listed.exit_code == 0, listed.output
    assert [r["stack"] for r in json.loads(listed.stdout)] == good
    lines = listed.stderr.splitlines()
    assert any(
        corrupt in line and "malformed JSON" in line and "(skipped)" in line for line in lines
    )
    assert any("perf-late-abc123.json: heartbeat" in line for line in lines)

    reaped = _invoke(target, "reap", "--yes")
    assert reaped.exit_code == 0, reaped.output
    assert [(r["stack"], r["action"]) for r in json.loads(reaped.stdout)] == [
        (stack, "destroyed") for stack in good
    ]
    assert corrupt in reaped.stderr and target.resources() == {}
    assert store.keys("runs/") == ["runs/perf-bad-abc123.json", "runs/perf-late-abc123.json"]


def test_reap_trusts_the_target_not_the_store() -> None:
    target = FakeTarget()
    unmarked = _up_expiring(target, "6.0.0")
    data = target._load()
    del data[unmarked]["tags"]["perfenv:expires-at"]  # the target no longer marks it
    # A long-lived stack carries perfenv's tags too; a forged expiry cannot make it reapable.
    data["staging"] = {
        "tags": {
            "perfenv:project": "perfenv",
            "perfenv:stack": "staging",
            "perfenv:expires-at": "2000-01-01T00:00:00Z",
        },
        "created_at": "2000-01-01T00:00:00+00:00",
        "resources": ["aws:ec2/vpc:Vpc staging"],
        "outputs": {},
    }
    # An expiry tag that is not a time: reported, skipped.
    data["perf-odd-abc123"] = data["staging"] | {
        "tags": {
            "perfenv:project": "perfenv",
            "perfenv:stack": "perf-odd-abc123",
            "perfenv:expires-at": "yesterday",
        }
    }
    target._save(data)
    # The store alone says an expired run of `staging` exists.
    forged = new_manifest(
        stack="perf-gone-abc123",
        target="fake",
        backend="file:///b",
        state_url="file:///s",
        release="x",
        tags={},
        ttl_s=-60,
        out_dir=None,
    )
    open_store().put("runs/perf-gone-abc123.json", forged.model_dump() | {"pid": None})
    time.sleep(1.1)

    reaped = _invoke(target, "reap", "--yes")
    assert reaped.exit_code == 0, reaped.output
    actions = {r["stack"]: r["action"] for r in json.loads(reaped.stdout)}
    assert actions == {
        unmarked: "skipped: the target does not mark it as a run's",
        "perf-gone-abc123": "skipped: the target does not mark it as a run's",
    }
    assert "perf-odd-abc123: expiry tag 'yesterday' is not a time (skipped)" in reaped.stderr
    assert set(target.resources()) == {unmarked, "staging", "perf-odd-abc123"}
    assert not any(call.startswith("destroy") for call in target.calls)


def _sigint(times: int) -> Any:
    def hook(_: str) -> None:
        for _ in range(times):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
        time.sleep(0.5)

    return hook


def test_a_sigint_during_reap_finishes_that_teardown_reports_it_and_stops() -> None:
    target = FakeTarget()
    stacks = sorted(_up_expiring(target, r) for r in ("6.0.0", "6.0.1"))
    time.sleep(1.1)
    target.on_destroy = _sigint(1)
    reaped = _invoke(target, "reap", "--yes")
    assert reaped.exit_code == 130, reaped.output
    actions = {r["stack"]: r["action"] for r in json.loads(reaped.stdout)}
    first = next(s for s in stacks if actions[s] != "skipped: interrupted")
    assert actions[first] == "destroyed"  # the signal did not stop it: it says so
    assert first not in target.resources()
    assert list(actions.values()).count("skipped: interrupted") == 1


def test_a_second_sigint_during_reap_abandons_and_says_so() -> None:
    target = FakeTarget()
    stack = _up_expiring(target, "6.1.0")
    time.sleep(1.1)
    target.on_destroy = _sigint(2)
    reaped = _invoke(target, "reap", "--yes")
    assert reaped.exit_code == 130, reaped.output
    assert json.loads(reaped.stdout)[0]["action"] == "abandoned"
    assert "teardown abandoned" in reaped.stderr and stack in target.resources()
