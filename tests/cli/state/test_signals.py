"""The signal policy: the first signal stops a step, teardown goes on, a second SIGINT abandons."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from perfenv.cli.errors import Interrupted
from perfenv.cli.state.signals import (
    SignalPolicy,
    StopRequested,
    TeardownAbandoned,
    interruptible,
    stop_process_group,
    stopping_children,
)


def _signal(sig: int) -> None:
    os.kill(os.getpid(), sig)
    time.sleep(1)  # the handler runs (and may raise) in here


def test_the_first_signal_stops_the_current_step() -> None:
    policy = SignalPolicy()
    with policy.installed(), pytest.raises(StopRequested) as stop, policy.step("up"):
        _signal(signal.SIGTERM)
        raise AssertionError("the step went on")
    assert stop.value.signum == signal.SIGTERM
    assert policy.interrupted and policy.signal_name == "SIGTERM"


def test_no_step_starts_after_a_signal() -> None:
    policy = SignalPolicy()
    with policy.installed():
        _signal(signal.SIGINT)  # idle: recorded, not raised
        assert policy.interrupted
        with pytest.raises(StopRequested), policy.step("suite"):
            raise AssertionError("the step started")


def test_signals_during_teardown_do_not_interrupt_it() -> None:
    policy = SignalPolicy()
    finished = False
    with policy.installed(), policy.teardown():
        _signal(signal.SIGINT)
        _signal(signal.SIGTERM)
        finished = True
    assert finished and policy.received == [signal.SIGINT, signal.SIGTERM]


def test_a_second_sigint_abandons_the_teardown() -> None:
    policy = SignalPolicy()
    with policy.installed():
        with pytest.raises(StopRequested), policy.step("up"):
            _signal(signal.SIGINT)
        with pytest.raises(TeardownAbandoned), policy.teardown():
            _signal(signal.SIGINT)
            raise AssertionError("teardown went on after a second SIGINT")


def test_handlers_are_restored_afterwards() -> None:
    before = signal.getsignal(signal.SIGINT)
    with SignalPolicy().installed():
        assert signal.getsignal(signal.SIGINT) is not before
    assert signal.getsignal(signal.SIGINT) is before


def test_stop_process_group_stops_a_child_in_its_own_group() -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)"],
        start_new_session=True,
        stdin=subprocess.DEVNULL,
    )
    try:
        assert os.getpgid(child.pid) != os.getpgrp()
        stop_process_group(child, grace_s=10)
        assert child.returncode is not None  # it is gone
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def test_signals_after_the_first_wait_while_the_step_stops_its_children() -> None:
    policy = SignalPolicy()
    stopped = False
    with policy.installed(), pytest.raises(StopRequested) as stop:
        with policy.step("suite"):
            try:
                _signal(signal.SIGINT)
            finally:  # what an engine does: stop its children on the way out
                _signal(signal.SIGTERM)  # a CI runner's SIGTERM, seconds after its SIGINT
                stopped = True
    assert stopped and stop.value.signum == signal.SIGINT
    assert policy.received == [signal.SIGINT, signal.SIGTERM]


def test_a_signal_during_a_stop_takes_effect_after_it() -> None:
    policy = SignalPolicy()
    done: list[str] = []
    with policy.installed(), pytest.raises(StopRequested), policy.step("up"):
        with stopping_children():
            _signal(signal.SIGTERM)
            done.append("stop finished")
        done.append("step went on")  # never: the signal is delivered when the stop is done
    assert done == ["stop finished"]


def test_a_second_sigint_in_teardown_waits_for_a_stop_then_abandons() -> None:
    policy = SignalPolicy()
    done: list[str] = []
    with policy.installed():
        with pytest.raises(StopRequested), policy.step("suite"):
            _signal(signal.SIGINT)
        with pytest.raises(TeardownAbandoned), policy.teardown():
            with stopping_children():
                _signal(signal.SIGINT)
                done.append("children stopped")
            done.append("teardown went on")
    assert done == ["children stopped"]


def test_interruptible_stops_the_step_and_says_130() -> None:
    def suite() -> None:
        _signal(signal.SIGINT)
        raise AssertionError("the suite went on")

    with pytest.raises(Interrupted, match="SIGINT during the suite") as stopped:
        interruptible("the suite", suite)
    assert stopped.value.exit_code == 130
    assert interruptible("the suite", lambda: 42) == 42
