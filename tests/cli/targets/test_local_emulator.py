"""The emulator's lifecycle: start on demand, reuse, status, stop (refused while stacks are up)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from perfenv.cli.main import app
from perfenv.cli.targets.local import emulator, fleet, state
from perfenv.cli.targets.local.state import StackState


def test_emulator_starts_once_is_reused_and_stop_refuses_while_stacks_are_up() -> None:
    runner = CliRunner()
    endpoint = emulator.ensure_running()
    pid = emulator.status()["pid"]
    try:
        assert endpoint.startswith("http://127.0.0.1:")
        assert emulator.ensure_running() == endpoint  # reused, not restarted
        result = runner.invoke(app, ["local", "status", "--format", "json"])
        assert result.exit_code == 0
        assert json.loads(result.stdout) == {"endpoint": endpoint, "pid": pid, "stacks": []}

        state.save(StackState(stack="perf-up", endpoint=endpoint))
        result = runner.invoke(app, ["local", "stop"])
        assert result.exit_code == 2
        assert "perf-up" in result.stderr and "--force" in result.stderr
        assert emulator.status()["pid"] == pid

        result = runner.invoke(app, ["local", "stop", "--force", "--format", "json"])
        assert result.exit_code == 0, result.stderr
        assert json.loads(result.stdout) == {"stopped": pid, "forgotten": ["perf-up"]}
        assert fleet.start_time(pid) is None and not state.exists("perf-up")
        assert emulator.status() == {"endpoint": None, "pid": None, "stacks": []}
    finally:
        fleet.terminate(pid)


def test_stop_without_an_emulator_is_a_no_op() -> None:
    result = CliRunner().invoke(app, ["local", "stop", "--format", "json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"stopped": None, "forgotten": []}
