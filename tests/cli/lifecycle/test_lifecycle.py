"""The ephemeral run's lifecycle with a fake target and a fake suite runner."""

from __future__ import annotations

import json
import os
import re
import signal
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from perfenv.cli import lifecycle
from perfenv.cli.errors import BadInput, CheckFailed
from perfenv.cli.main import app
from perfenv.cli.state.manifest import Manifest
from perfenv.cli.state.store import open_store
from tests.fakes.target import FakeRunner, FakeSuite, FakeTarget, fake_deps

runner = CliRunner()


@dataclass
class Cli:
    """The perfenv app invoked with fakes as its `Deps` (the click context's `obj`)."""

    deps: lifecycle.Deps
    runner: FakeRunner

    def invoke(self, args: list[str]) -> Any:
        return runner.invoke(app, args, obj=self.deps)

    def run(self, out: Path, *extra: str) -> Any:
        args = ["run", "--release", "1.4.2", "--suite", "suites/smoke.yaml", "--out", str(out)]
        return self.invoke([*args, *extra, "--format", "json"])


@pytest.fixture
def fake() -> FakeTarget:
    return FakeTarget()


@pytest.fixture
def cli(fake: FakeTarget) -> Cli:
    return _use(fake)


def _use(target: FakeTarget, **changes: Any) -> Cli:
    suite_runner = changes.pop("runner", FakeRunner())
    return Cli(
        deps=fake_deps(target, **({"run_suite": suite_runner, "warm_up": lambda: None} | changes)),
        runner=suite_runner,
    )


def _registry() -> list[str]:
    return open_store().keys("runs/")


def _out_manifest(out: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((out / "manifest.json").read_text())
    return data


def test_run_ups_tests_and_tears_down(cli: Cli, fake: FakeTarget, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = cli.run(out)
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    stack = record["stack"]
    assert re.fullmatch(r"perf-1-4-2-[a-z0-9]{6}", stack)
    assert fake.calls == [
        f"up {stack}",
        f"destroy {stack}",
        f"leftovers {stack}",
        f"remove {stack}",
    ]
    assert fake.resources() == {}
    assert _registry() == []
    copy = _out_manifest(out)
    assert copy["status"] == "done" and copy["stack"] == stack
    assert (out / "results.json").exists()


def test_run_times_its_phases_in_the_record_and_on_stderr(cli: Cli, tmp_path: Path) -> None:
    result = cli.run(tmp_path / "out")
    assert result.exit_code == 0, result.output
    timings = json.loads(result.stdout)["timings"]
    top = [name for name in timings if "/" not in name]
    assert top == ["startup", "checks", "manifest", "up", "health", "suite", "teardown", "reports"]
    assert {"teardown/destroy", "teardown/leftovers"} <= set(timings)
    assert all(seconds >= 0 for seconds in timings.values())
    assert "phases: startup" in result.stderr and "teardown" in result.stderr
    args = ["run", "--release", "1.4.3", "--suite", "suites/smoke.yaml"]
    table = cli.invoke([*args, "--out", str(tmp_path / "out2")])
    assert table.exit_code == 0 and "stack" in table.stdout and "timings" not in table.stdout


def test_run_warms_the_reports_imports_up_before_the_stack_comes_up(
    fake: FakeTarget, tmp_path: Path
) -> None:
    seen: list[list[str]] = []
    cli = _use(fake, warm_up=lambda: seen.append(list(fake.calls)))
    assert cli.run(tmp_path / "out").exit_code == 0
    assert seen == [[]]  # once, before `up`: the imports overlap the stack coming up


def test_warm_up_imports_in_a_daemon_thread_and_skips_what_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from perfenv.cli.lifecycle import deps

    monkeypatch.delitem(sys.modules, "colorsys", raising=False)
    monkeypatch.setattr(deps, "REPORT_MODULES", ("no_such_module_here", "colorsys"))
    started: list[threading.Thread] = []

    class Recorded(threading.Thread):
        def start(self) -> None:
            started.append(self)
            super().start()

    monkeypatch.setattr(deps.threading, "Thread", Recorded)
    deps.warm_up()
    (thread,) = started
    assert thread.daemon  # never holds up the CLI's exit
    thread.join(timeout=10)
    assert not thread.is_alive() and "colorsys" in sys.modules


def test_run_tags_and_run_config(
    cli: Cli, fake: FakeTarget, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PERFENV_OWNER", "ci-bot")
    result = cli.run(tmp_path / "out", "--ttl", "2h")
    assert result.exit_code == 0, result.output
    stack = json.loads(result.stdout)["stack"]
    manifest = _out_manifest(tmp_path / "out")
    tags = manifest["tags"]
    assert tags["perfenv:project"] == "perfenv"
    assert tags["perfenv:environment"] == "perf"
    assert tags["perfenv:stack"] == stack
    assert tags["perfenv:release"] == "1.4.2"
    assert tags["perfenv:owner"] == "ci-bot"
    assert tags["perfenv:expires-at"] == manifest["expires_at"]
    config = fake.configs[stack]
    assert config.stack == stack
    assert config.run.release == "1.4.2" and config.run.owner == "ci-bot"
    assert config.run.expires_at == manifest["expires_at"]


def test_manifest_exists_before_anything_is_created(tmp_path: Path) -> None:
    seen: dict[str, Any] = {}

    def check(stack: str) -> None:
        seen["registry"] = open_store().get(f"runs/{stack}.json")
        seen["copy"] = _out_manifest(tmp_path / "out")

    cli = _use(FakeTarget(on_up=check))
    assert cli.run(tmp_path / "out").exit_code == 0
    assert seen["registry"]["status"] == "creating"
    assert seen["registry"]["pid"] == os.getpid()
    assert seen["copy"]["stack"] == seen["registry"]["stack"]
    assert seen["registry"]["expires_at"] and seen["registry"]["heartbeat"]


def test_a_release_aws_would_not_take_as_a_tag_is_tagged_in_a_safe_form(
    fake: FakeTarget, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PERFENV_OWNER", "Jane <j@x>")
    cli = _use(fake)
    args = ["up", "--release", "fix#12!", "--out", str(tmp_path / "out"), "--format", "json"]
    result = cli.invoke(args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["release"] == "fix#12!"  # shown as given
    manifest = _out_manifest(tmp_path / "out")
    assert manifest["release"] == "fix#12!"
    assert manifest["tags"]["perfenv:release"] == "fix_12_"
    assert manifest["tags"]["perfenv:owner"] == "Jane _j@x_"
    assert fake._load()[manifest["stack"]]["tags"] == manifest["tags"]  # the stack's own
    assert fake.configs[manifest["stack"]].run.release == "fix#12!"  # the program's Tags
    listed = json.loads(cli.invoke(["stacks", "--format", "json"]).stdout)
    assert [row["release"] for row in listed] == ["fix#12!"]  # as given, from the registry


def test_run_passes_baseline_and_workers_to_the_suite(tmp_path: Path) -> None:
    cli = _use(FakeTarget())
    suite_runner = cli.runner
    result = cli.run(tmp_path / "out", "--baseline", "1.4.1", "--workers", "2")
    assert result.exit_code == 0, result.output
    call = suite_runner.calls[0]
    assert call["baseline"] == "1.4.1" and call["workers"] == 2 and call["release"] == "1.4.2"
    assert call["base_url"] == "http://127.0.0.1:1"
    assert call["extra"]["environment"]["stack"] == json.loads(result.stdout)["stack"]


def test_failed_budgets_exit_1_after_teardown(tmp_path: Path) -> None:
    target = FakeTarget()
    cli = _use(target, runner=FakeRunner(exit_code=1))
    result = cli.run(tmp_path / "out")
    assert result.exit_code == 1
    assert target.resources() == {} and _registry() == []


class _DrawingRunner(FakeRunner):
    """A suite runner whose reports are still being drawn when it returns."""

    def __init__(self, draw: Any) -> None:
        super().__init__()
        self.draw = draw

    def __call__(self, suite: Any, base_url: str, out_dir: Path, **kwargs: Any) -> Any:
        outcome = super().__call__(suite, base_url, out_dir, **kwargs)
        assert kwargs["background_reports"] is True
        outcome.reports = ThreadPoolExecutor(1).submit(self.draw)
        return outcome


def test_the_reports_drawn_beside_teardown_are_done_before_the_run_ends(tmp_path: Path) -> None:
    target, drawn = FakeTarget(), []

    def draw() -> None:
        time.sleep(0.3)
        drawn.append(len(target.calls))

    result = _use(target, runner=_DrawingRunner(draw)).run(tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert drawn and "reports" in json.loads(result.stdout)["timings"]
    assert target.resources() == {} and _registry() == []


def test_reports_that_fail_are_a_bug_after_teardown(tmp_path: Path) -> None:
    target = FakeTarget()

    def draw() -> None:
        raise RuntimeError("the figure broke")

    result = _use(target, runner=_DrawingRunner(draw)).run(tmp_path / "out")
    assert result.exit_code == 70
    assert "internal error" in result.stderr
    assert target.resources() == {} and _registry() == []


def test_failed_budgets_and_leftovers_exit_3_and_say_both(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    target = FakeTarget()
    cli = _use(target, runner=FakeRunner(exit_code=1))
    monkeypatch.setattr(FakeTarget, "destroy", _leaky_destroy)
    result = cli.run(tmp_path / "out")
    assert result.exit_code == 3
    assert "leftovers after destroy" in result.stderr
    assert "the run itself failed (exit 1)" in result.stderr
    stack = json.loads(result.stdout)["stack"]
    entry = open_store().get(f"runs/{stack}.json")
    assert entry is not None and entry["status"] == "leaked"  # stays listed for reap


def _leaky_destroy(self: FakeTarget, stack: str, progress: Any) -> None:
    data = self._load()
    data[stack]["resources"] = [r for r in data[stack]["resources"] if "Vpc" in r]
    self._save(data)


def test_keep_on_failure_keeps_the_stack_with_its_expiry(tmp_path: Path) -> None:
    target = FakeTarget()
    cli = _use(target, runner=FakeRunner(exit_code=1))
    result = cli.run(tmp_path / "out", "--keep-on-failure")
    assert result.exit_code == 1
    stack = json.loads(result.stdout)["stack"]
    assert stack in target.resources()
    entry = open_store().get(f"runs/{stack}.json")
    assert entry is not None and entry["status"] == "kept" and entry["expires_at"]
    assert "kept (--keep-on-failure)" in result.stderr
    down = cli.invoke(["down", "--stack", stack])
    assert down.exit_code == 0, down.output
    assert target.resources() == {} and _registry() == []


def test_ttl_shorter_than_the_plan_is_exit_2_before_anything(
    cli: Cli, fake: FakeTarget, tmp_path: Path
) -> None:
    result = cli.run(tmp_path / "out", "--ttl", "90s")
    assert result.exit_code == 2
    assert "--ttl: 1m30s is shorter than the suite's planned 1m" in result.stderr
    assert fake.calls == [] and _registry() == []
    assert not (tmp_path / "out" / "manifest.json").exists()


def test_parity_failure_is_exit_1_before_anything(tmp_path: Path) -> None:
    def differs(config: Any) -> None:
        raise CheckFailed("parity: perf differs from staging: aws:ec2/flowLog:FlowLog")

    target = FakeTarget()
    cli = _use(target, check_parity=differs)
    result = cli.run(tmp_path / "out")
    assert result.exit_code == 1 and "parity" in result.stderr
    assert target.calls == [] and _registry() == []


def test_cost_cap_is_exit_2_before_anything(tmp_path: Path) -> None:
    def too_dear(config: Any, suite: Any, stack: str, **_: Any) -> None:
        raise BadInput("estimated cost $40.00 exceeds max_cost_usd $25")

    target = FakeTarget()
    cli = _use(target, check_cost=too_dear)
    result = cli.run(tmp_path / "out")
    assert result.exit_code == 2 and "max_cost_usd" in result.stderr
    assert target.calls == [] and _registry() == []


def test_a_refused_target_creates_nothing_and_leaves_no_registry_entry(tmp_path: Path) -> None:
    target = FakeTarget(up_error=BadInput("AWS account 111 is not in PERFENV_AWS_ACCOUNTS"))
    cli = _use(target)
    result = cli.run(tmp_path / "out")
    assert result.exit_code == 2 and "PERFENV_AWS_ACCOUNTS" in result.stderr
    assert _registry() == [] and not any(c.startswith("destroy") for c in target.calls)


def test_a_failed_preflight_is_exit_2_before_any_manifest(tmp_path: Path) -> None:
    target = FakeTarget(refuse=BadInput("the Pulumi CLI is not installed"))
    cli = _use(target)
    result = cli.run(tmp_path / "out")
    assert result.exit_code == 2 and "Pulumi CLI is not installed" in result.stderr
    assert target.calls == [] and _registry() == [] and not (tmp_path / "out").exists()


def test_the_perf_template_must_not_be_prod(tmp_path: Path, repo: Path) -> None:
    text = (repo / "stacks" / "Pulumi.perf.yaml").read_text().replace("kind: perf", "kind: prod")
    text = text.replace("isolated: true", "isolated: true")
    path = tmp_path / "Pulumi.perf.yaml"
    path.write_text(text)
    with pytest.raises(BadInput, match="kind: prod: perfenv never touches production"):
        lifecycle.load_template(path)


# --- signals -------------------------------------------------------------------------------


def _interrupt(sig: int = signal.SIGINT, times: int = 1, then_sleep: float = 5.0) -> Any:
    def hook(_: str) -> None:
        for _ in range(times):
            os.kill(os.getpid(), sig)
            time.sleep(0.05)
        time.sleep(then_sleep)

    return hook


def test_sigint_during_up_tears_down_and_exits_130(tmp_path: Path) -> None:
    target = FakeTarget(on_up=_interrupt())
    cli = _use(target)
    suite_runner = cli.runner
    result = cli.run(tmp_path / "out")
    assert result.exit_code == 130
    assert "SIGINT during up: tearing down" in result.stderr
    assert suite_runner.calls == []
    assert target.resources() == {} and _registry() == []
    assert _out_manifest(tmp_path / "out")["status"] == "done"


def test_sigterm_during_the_suite_tears_down_and_exits_130(tmp_path: Path) -> None:
    target = FakeTarget()
    cli = _use(target, runner=FakeRunner(during=_interrupt(signal.SIGTERM)))
    result = cli.run(tmp_path / "out")
    assert result.exit_code == 130
    assert "SIGTERM during suite" in result.stderr
    assert target.resources() == {} and _registry() == []


def test_sigint_during_destroy_does_not_interrupt_it(tmp_path: Path) -> None:
    target = FakeTarget(on_destroy=_interrupt(then_sleep=0.2))
    cli = _use(target)
    result = cli.run(tmp_path / "out")
    assert result.exit_code == 130
    assert target.resources() == {} and _registry() == []
    assert any(c.startswith("remove") for c in target.calls)


def test_a_second_sigint_abandons_teardown_and_down_manifest_finishes_it(tmp_path: Path) -> None:
    target = FakeTarget(on_up=_interrupt(), on_destroy=_interrupt(then_sleep=0.5))
    cli = _use(target)
    result = cli.run(tmp_path / "out")
    assert result.exit_code == 130
    assert "teardown abandoned" in result.stderr
    stack = json.loads(result.stdout)["stack"]
    assert open_store().get(f"runs/{stack}.json")["status"] == "abandoned"  # type: ignore[index]
    assert stack in target.resources()

    target.on_up = target.on_destroy = None
    down = cli.invoke(["down", "--manifest", str(tmp_path / "out" / "manifest.json")])
    assert down.exit_code == 0, down.output
    assert target.resources() == {} and _registry() == []
    assert _out_manifest(tmp_path / "out")["status"] == "done"


@pytest.mark.parametrize("how", ["--stack", "--manifest"])
def test_a_down_whose_teardown_is_abandoned_does_not_say_destroyed(
    how: str, fake: FakeTarget, tmp_path: Path
) -> None:
    cli = _use(fake)
    out = str(tmp_path / "out")
    up = cli.invoke(["up", "--release", "2.0.0", "--out", out, "--format", "json"])
    stack = json.loads(up.stdout)["stack"]
    fake.on_destroy = _interrupt(times=2, then_sleep=0.5)
    which = stack if how == "--stack" else str(tmp_path / "out" / "manifest.json")
    down = cli.invoke(["down", how, which, "--format", "json"])
    assert down.exit_code == 130, down.output
    assert "teardown abandoned" in down.stderr
    assert json.loads(down.stdout)["destroyed"] is False
    assert open_store().get(f"runs/{stack}.json")["status"] == "abandoned"  # type: ignore[index]


# --- down --manifest, up, stacks, reap ------------------------------------------------------


def _crashed_run(cli: Cli, tmp_path: Path, *, ttl: str = "3h", pid: int = 0) -> str:
    """What a SIGKILLed run leaves: a stack up, a manifest saying `testing`, a dead pid."""
    result = cli.invoke(["up", "--release", "2.0.0", "--ttl", ttl, "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    stack: str = json.loads(cli.invoke(["stacks", "--format", "json"]).stdout)[0]["stack"]
    store = open_store()
    entry = Manifest.model_validate(store.get(f"runs/{stack}.json"))
    entry = entry.model_copy(update={"status": "testing", "pid": pid or _dead_pid()})
    store.put(f"runs/{stack}.json", entry.model_dump())
    (tmp_path / "out" / "manifest.json").write_text(entry.model_dump_json())
    return stack


def _dead_pid() -> int:
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_down_manifest_cleans_a_killed_run(cli: Cli, fake: FakeTarget, tmp_path: Path) -> None:
    stack = _crashed_run(cli, tmp_path)
    result = cli.invoke(["down", "--manifest", str(tmp_path / "out" / "manifest.json")])
    assert result.exit_code == 0, result.output
    assert fake.resources() == {} and _registry() == []
    again = cli.invoke(["down", "--manifest", str(tmp_path / "out" / "manifest.json")])
    assert again.exit_code == 0 and "already torn down" in again.stderr
    assert stack not in fake.resources()


def test_down_manifest_refuses_a_run_that_is_alive(
    cli: Cli, fake: FakeTarget, tmp_path: Path
) -> None:
    stack = _crashed_run(cli, tmp_path, pid=os.getpid())
    result = cli.invoke(["down", "--manifest", str(tmp_path / "out" / "manifest.json")])
    assert result.exit_code == 2 and "still going" in result.stderr
    assert stack in fake.resources()


def test_down_manifest_of_a_missing_file_is_exit_2(cli: Cli, tmp_path: Path) -> None:
    result = cli.invoke(["down", "--manifest", str(tmp_path / "nope.json")])
    assert result.exit_code == 2 and "no such manifest" in result.stderr


def test_expired_stack_is_listed_dry_run_then_reaped(
    cli: Cli, fake: FakeTarget, tmp_path: Path
) -> None:
    up = cli.invoke(["up", "--release", "3.0.0", "--ttl", "1s", "--format", "json"])
    assert up.exit_code == 0, up.output
    stack = json.loads(up.stdout)["stack"]
    time.sleep(1.1)
    listed = cli.invoke(["stacks", "--expired", "--format", "json"])
    assert [r["stack"] for r in json.loads(listed.stdout)] == [stack]
    assert json.loads(listed.stdout)[0]["expires_in"] == "expired"

    dry = cli.invoke(["reap", "--format", "json"])
    assert dry.exit_code == 0
    assert json.loads(dry.stdout) == [
        {
            "stack": stack,
            "release": "3.0.0",
            "expires_at": json.loads(up.stdout)["expires_at"],
            "action": "would destroy",
        }
    ]
    assert stack in fake.resources()

    wet = cli.invoke(["reap", "--yes", "--format", "json"])
    assert wet.exit_code == 0, wet.output
    assert json.loads(wet.stdout)[0]["action"] == "destroyed"
    assert fake.resources() == {} and _registry() == []


def test_reap_skips_a_run_with_a_fresh_heartbeat(
    cli: Cli, fake: FakeTarget, tmp_path: Path
) -> None:
    stack = _crashed_run(cli, tmp_path, ttl="1s", pid=os.getpid())
    time.sleep(1.1)
    result = cli.invoke(["reap", "--yes", "--format", "json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)[0]["action"] == "skipped: heartbeat fresh"
    assert stack in fake.resources()


def test_reap_takes_a_killed_run_after_its_expiry(
    cli: Cli, fake: FakeTarget, tmp_path: Path
) -> None:
    stack = _crashed_run(cli, tmp_path, ttl="1s")
    time.sleep(1.1)
    result = cli.invoke(["reap", "--yes", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[0]["action"] == "destroyed"
    assert stack not in fake.resources()


def test_reap_leaves_stacks_without_perfenv_tags_or_expiry(cli: Cli, fake: FakeTarget) -> None:
    foreign = cli.invoke(["up", "--stack", "dev"])
    assert foreign.exit_code == 0, foreign.output
    data = fake._load()
    data["someone-else"] = {
        "tags": {"perfenv:expires-at": "2000-01-01T00:00:00Z"},
        "created_at": "2000-01-01T00:00:00+00:00",
        "resources": ["aws:ec2/vpc:Vpc x"],
        "outputs": {},
    }
    fake._save(data)
    result = cli.invoke(["reap", "--yes", "--format", "json"])
    assert result.exit_code == 0 and json.loads(result.stdout) == []
    assert set(fake.resources()) == {"dev", "someone-else"}


def test_an_ephemeral_up_is_a_costed_run_until_it_is_down(cli: Cli) -> None:
    up = cli.invoke(
        ["up", "--release", "3.1.0", "--ttl", "2h", "--max-cost", "1000", "--format", "json"]
    )
    assert up.exit_code == 0, up.output
    stack = json.loads(up.stdout)["stack"]
    record = open_store().get(f"costs/{stack}.json")
    assert record is not None and record["release"] == "3.1.0"
    assert (record["cap"], record["team"]) == ("1000", "performance") and record["owner"]
    assert record["estimate"]["hours"] == "2" and record.get("ended_at") is None
    assert cli.invoke(["down", "--stack", stack]).exit_code == 0
    closed = open_store().get(f"costs/{stack}.json")
    assert closed is not None and closed["ended_at"]


def test_up_and_down_a_long_lived_stack(cli: Cli, fake: FakeTarget) -> None:
    up = cli.invoke(["up", "--stack", "dev", "--format", "json"])
    assert up.exit_code == 0, up.output
    tags = fake._load()["dev"]["tags"]
    assert tags["perfenv:environment"] == "dev" and "perfenv:expires-at" not in tags
    assert _registry() == []
    refused = cli.invoke(["down", "--stack", "dev"])
    assert refused.exit_code == 2 and "perfenv down --stack dev --yes" in refused.stderr
    assert fake.calls == ["up dev"]  # nothing destroyed
    down = cli.invoke(["down", "--stack", "dev", "--yes"])
    assert down.exit_code == 0, down.output
    assert fake.resources() == {}


def test_up_needs_exactly_one_of_release_or_stack(cli: Cli, fake: FakeTarget) -> None:
    neither = cli.invoke(["up"])
    both = cli.invoke(["up", "--release", "1", "--stack", "dev"])
    assert neither.exit_code == 2 and both.exit_code == 2
    assert "exactly one of --release or --stack" in both.stderr
    assert fake.calls == []


def test_up_of_an_unknown_stack_file_is_exit_2(cli: Cli) -> None:
    result = cli.invoke(["up", "--stack", "nope"])
    assert result.exit_code == 2 and "Pulumi.nope.yaml" in result.stderr


def test_down_with_leftovers_is_exit_3_and_keeps_the_entry(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    up = cli.invoke(["up", "--release", "4.0.0", "--format", "json"])
    stack = json.loads(up.stdout)["stack"]
    monkeypatch.setattr(FakeTarget, "destroy", _leaky_destroy)
    result = cli.invoke(["down", "--stack", stack])
    assert result.exit_code == 3 and "1 leftovers" in result.stderr
    assert open_store().get(f"runs/{stack}.json")["status"] == "leaked"  # type: ignore[index]


def test_stack_names_are_unique_and_slugged() -> None:
    names = {lifecycle.new_stack_name("v1.4.2-RC.1") for _ in range(20)}
    assert len(names) == 20
    assert all(re.fullmatch(r"perf-v1-4-2-rc-1-[a-z0-9]{6}", n) for n in names)
    with pytest.raises(BadInput):
        lifecycle.release_slug("...")


def test_a_bug_in_the_suite_still_tears_down_then_exits_70(tmp_path: Path) -> None:
    def broken(base_url: str) -> None:
        raise ZeroDivisionError("a bug")

    target = FakeTarget()
    cli = _use(target, runner=FakeRunner(during=broken))
    result = cli.run(tmp_path / "out")
    assert result.exit_code == 70
    assert "ZeroDivisionError" in result.stderr and "internal error" in result.stderr
    assert target.resources() == {} and _registry() == []


def test_a_cloud_error_in_destroy_is_exit_3_and_keeps_the_entry(tmp_path: Path) -> None:
    def throttled(stack: str) -> None:
        raise ConnectionError("endpoint unreachable")

    target = FakeTarget(on_destroy=throttled)
    cli = _use(target)
    result = cli.run(tmp_path / "out")
    assert result.exit_code == 3
    assert "teardown failed: ConnectionError: endpoint unreachable" in result.stderr
    stack = json.loads(result.stdout)["stack"]
    assert open_store().get(f"runs/{stack}.json")["status"] == "leaked"  # type: ignore[index]


def test_a_named_baseline_must_exist_before_anything(tmp_path: Path) -> None:
    target = FakeTarget()
    cli = _use(target, check_baseline=lifecycle.check_baseline)
    result = cli.run(tmp_path / "out", "--baseline", "0.9.9")
    assert result.exit_code == 2 and "0.9.9" in result.stderr
    assert target.calls == [] and _registry() == []
    lifecycle.check_baseline("auto", FakeSuite(), open_store(), "local")  # nothing to check


def test_a_parity_pass_is_remembered_for_the_same_inputs(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    import perfenv.cli.program.parity

    calls: list[Any] = []

    def check(candidate: Any, reference: str) -> None:
        calls.append(candidate)
        if len(calls) == 1:
            raise CheckFailed("parity: differs")

    monkeypatch.setattr(perfenv.cli.program.parity, "check_parity", check)
    template = lifecycle.load_template()
    with pytest.raises(CheckFailed):
        lifecycle.check_parity_cached(template)  # a failure is not remembered
    lifecycle.check_parity_cached(template)
    lifecycle.check_parity_cached(template)
    assert calls == [template.path, template.path]
