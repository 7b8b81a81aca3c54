"""A controller started before its spec exists (`up` starts it beside the program's evaluation):
it waits for the spec while the stack is being created, and gives up when the up ends first."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from perfenv.cli.targets.local import state
from perfenv.cli.targets.local.controller import early
from perfenv.cli.targets.local.state import StackState


@pytest.fixture(autouse=True)
def _nothing_to_preload(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(early, "PRELOAD", ())


def _creating(stack: str) -> Path:
    state.save(StackState(stack=stack, endpoint="http://127.0.0.1:1"))
    return state.run_dir(stack) / "controller-spec.json"


def test_it_starts_once_up_writes_the_spec_whole() -> None:
    spec = _creating("perf-early")
    later = threading.Timer(0.3, early.write_spec, args=(spec, '{"stack": "perf-early"}'))
    later.start()
    started = time.monotonic()
    assert early.await_spec(spec, "perf-early")
    assert time.monotonic() - started >= 0.25
    assert spec.read_text() == '{"stack": "perf-early"}'
    assert not spec.with_name(spec.name + ".partial").exists()


@pytest.mark.parametrize("ending", ["failed", "destroying", "forgotten"])
def test_it_gives_up_when_the_up_ends_before_the_spec(ending: str) -> None:
    spec = _creating("perf-early")

    def end() -> None:
        if ending == "forgotten":
            state.remove("perf-early")
        else:
            stack_state = state.load("perf-early")
            stack_state.status = ending
            state.save(stack_state)

    threading.Timer(0.2, end).start()
    assert not early.await_spec(spec, "perf-early")
    assert not spec.exists()


def test_the_controller_process_exits_without_starting_anything_when_up_failed() -> None:
    spec = _creating("perf-early")
    failed = state.load("perf-early")
    failed.status = "failed"
    state.save(failed)
    module = "perfenv.cli.targets.local.controller"
    done = subprocess.run(
        [sys.executable, "-m", module, str(spec), "perf-early"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert state.load_controller("perf-early") is None  # it never started its loop
