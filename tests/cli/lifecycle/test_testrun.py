from __future__ import annotations

import dataclasses
import functools
import json
import os
import re
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import perfenv.cli.engine
from perfenv.cli.compare import previous_release
from perfenv.cli.engine import hosts
from perfenv.cli.errors import BadInput
from perfenv.cli.lifecycle.deps import Deps
from perfenv.cli.lifecycle.testrun import check_url, run_suite
from perfenv.cli.main import app
from perfenv.cli.state.results import put_results
from perfenv.cli.state.store import Store, open_store
from perfenv.cli.verdict.abort import BudgetBreached
from perfenv.cli.verdict.measurement import LoadPlan, ScenarioMeasurement, Window
from perfenv.cli.verdict.results import schema_errors
from perfenv.cli.verdict.suite import load_suite, parse_suite, planned_duration_s
from tests.cli.synthetic import Latency, lognormal, measurement
from tests.fakes.target import FakeTarget

FILES = ("results.json", "junit.xml", "summary.md", "report.html")


def fake_engine(
    monkeypatch: pytest.MonkeyPatch,
    latency: Latency | None = None,
    *,
    valid: bool = True,
    calls: list[LoadPlan] | None = None,
    error_rate: Callable[[int], float] | float = 0.0,
) -> None:
    def run_plan(
        plan: LoadPlan, progress: Callable[[Window], None] | None = None, hosts: Any = None
    ) -> ScenarioMeasurement:
        if calls is not None:
            calls.append(plan)
        seed = len(calls) if calls is not None else 1
        m = measurement(
            plan.scenario,
            plan.rates,
            latency=latency,
            warmup_s=plan.warmup_s,
            valid=valid,
            seed=seed,
            error_rate=error_rate,
        )
        for i, window in enumerate(m.windows):
            try:
                if progress:
                    progress(window)
            except BudgetBreached as stop:  # as the engine does: what was measured so far
                partial = dataclasses.replace(m, windows=m.windows[: i + 1], endpoints={})
                stop.measurement = dataclasses.replace(partial, aborted=stop.breach.text)
                raise
        return m

    monkeypatch.setattr(perfenv.cli.engine, "run_plan", run_plan, raising=False)


def _test(tmp_path: Path, suite: Path, *extra: str) -> Any:
    args = ["test", "--url", "http://127.0.0.1:9", "--suite", str(suite), "--out", str(tmp_path)]
    return CliRunner().invoke(app, [*args, *extra])


def _suite_file(tmp_path: Path, budgets: str = "['p95 < 100ms', 'error_rate < 1%']") -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(
        "name: s\nrequests: [{path: /items}]\n"
        "scenarios: [{name: load, kind: load, rate: 20, duration: 6s, warmup: 1s}]\n"
        f"budgets: {budgets}\n"
    )
    return path


def test_smoke_suite_writes_all_four_files_and_valid_results(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_engine(monkeypatch, lognormal(20))
    result = _test(tmp_path / "out", repo / "suites" / "smoke.yaml")
    assert result.exit_code == 0, result.output
    for name in FILES:
        assert (tmp_path / "out" / name).stat().st_size > 0
    doc = json.loads((tmp_path / "out" / "results.json").read_text())
    assert schema_errors(doc) == []
    assert doc["verdict"] == "pass"
    assert "load" in result.stdout


def test_breached_budget_exits_1_and_junit_names_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_engine(monkeypatch, lognormal(300))
    result = _test(tmp_path / "out", _suite_file(tmp_path))
    assert result.exit_code == 1, result.output
    root = ET.parse(tmp_path / "out" / "junit.xml").getroot()
    failing = [c.get("name") for c in root.iter("testcase") if c.find("failure") is not None]
    assert "budget p95 < 100ms" in failing
    assert "budget error_rate < 1%" not in failing
    failure = next(c for c in root.iter("testcase") if c.get("name") == "budget p95 < 100ms")
    assert "p95 < 100ms breached: measured" in (failure.find("failure").get("message") or "")  # type: ignore[union-attr]


def test_invalid_generator_exits_4(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_engine(monkeypatch, valid=False)
    result = _test(tmp_path / "out", _suite_file(tmp_path))
    assert result.exit_code == 4
    root = ET.parse(tmp_path / "out" / "junit.xml").getroot()
    assert root.get("errors") != "0"


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8080", "http://127.5.5.5", "http://localhost:1", "http://[::1]:80"]
)
def test_loopback_urls_are_allowed(url: str) -> None:
    pins = check_url(url)
    assert len(pins) == 1 and all(hosts.address_allowed(a) for a in next(iter(pins.values())))


@pytest.fixture
def public_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """example.com resolves to a documentation address, without asking any resolver."""
    real = hosts.resolve
    monkeypatch.setattr(
        hosts,
        "resolve",
        lambda host, port=None: ("203.0.113.10",) if host == "example.com" else real(host, port),
    )


@pytest.mark.usefixtures("public_dns")
@pytest.mark.parametrize("url", ["http://10.0.0.1", "https://example.com", "ftp://127.0.0.1"])
def test_other_urls_are_refused(url: str) -> None:
    with pytest.raises(BadInput, match="--url"):
        check_url(url)


def test_allowed_hosts_let_a_named_host_or_its_network_through(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(hosts, "resolve", lambda host, port=None: ("10.1.2.3",))
    assert check_url("https://perf.example.com/x", ("perf.example.com",)) == {
        "perf.example.com": ("10.1.2.3",)
    }
    assert check_url("https://perf.example.com/x", ("10.0.0.0/8",))
    with pytest.raises(BadInput, match=r"perf.example.com resolves to 10.1.2.3: not loopback"):
        check_url("https://perf.example.com/x", ("10.2.0.0/16", "other.example.com"))


def test_a_localhost_name_is_resolved_like_any_other(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hosts, "resolve", lambda host, port=None: ("127.0.0.1", "203.0.113.9"))
    with pytest.raises(BadInput, match=r"evil.localhost resolves to 203.0.113.9"):
        check_url("http://evil.localhost:8080")


@pytest.mark.usefixtures("public_dns")
def test_cli_refuses_a_non_loopback_url_with_exit_2(tmp_path: Path) -> None:
    args = ["test", "--url", "https://example.com", "--suite", str(_suite_file(tmp_path))]
    result = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "not loopback and not in the suite's allowed_hosts" in result.stderr
    assert not (tmp_path / "out").exists()


def test_url_and_stack_are_exclusive(tmp_path: Path) -> None:
    result = _test(tmp_path, _suite_file(tmp_path), "--stack", "dev")
    assert result.exit_code == 2
    assert "exactly one of --url or --stack" in result.stderr


def test_stack_resolves_its_service_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plans: list[LoadPlan] = []
    fake_engine(monkeypatch, calls=plans)
    target = FakeTarget()
    target._save({"dev": {"outputs": {"service_url": "http://127.0.0.1:8"}}})
    use = Deps(target=lambda name=None, **_: target)
    args = ["test", "--stack", "dev", "--suite", str(_suite_file(tmp_path))]
    result = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "out")], obj=use)
    assert result.exit_code == 0, result.output
    assert plans[0].base_url == "http://127.0.0.1:8"


def test_release_is_stored_and_the_next_release_compares_with_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    suite = load_suite(_suite_file(tmp_path, "[]"))
    fake_engine(monkeypatch, lognormal(20))
    first = run_suite(suite, "http://127.0.0.1:9", tmp_path / "a", release="1.0.0")
    assert first.stored_as == f"results/s/url/1.0.0/{first.run_id}.json"
    assert open_store().get(first.stored_as or "")["verdict"] == "pass"  # type: ignore[index]
    assert first.comparison is None

    fake_engine(monkeypatch, lognormal(26))  # 30% slower
    second = run_suite(suite, "http://127.0.0.1:9", tmp_path / "b", release="1.1.0")
    assert second.comparison is not None
    assert second.comparison["baseline"] == "release 1.0.0"
    assert second.comparison["regressed"] is True
    assert second.exit_code == 1
    assert second.verdict == "pass"
    assert "Comparison with baseline release 1.0.0" in (tmp_path / "b" / "summary.md").read_text()
    doc = json.loads((tmp_path / "b" / "results.json").read_text())
    assert doc["comparison"]["regressed"] is True
    assert schema_errors(doc) == []


def _without_volatile(text: str, run_id: str) -> str:
    """A file's text less what differs between two runs of one measurement: ids and times (the
    SVG ids of report.html are hashed with the run id)."""
    text = text.replace(run_id, "RUN-ID")
    text = re.sub(r"\b([mp])[0-9a-f]{10}\b", r"\1-SVG-ID", text)
    return re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(\+00:00|Z)?", "TIME", text)


def test_files_written_beside_the_teardown_are_the_files_written_before_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `perfenv run` writes them in a thread while it tears down (background_reports);
    # `perfenv test` (and every run before issue 15) writes them before returning.
    suite = load_suite(_suite_file(tmp_path, "['p95 < 100ms']"))
    files: dict[bool, dict[str, str]] = {}
    for background in (False, True):
        monkeypatch.setenv("PERFENV_STATE_URL", f"file://{tmp_path}/state-{background}")
        fake_engine(monkeypatch, lognormal(20))  # the same measurement each time
        out = tmp_path / f"out-{background}"
        outcome = run_suite(
            suite, "http://127.0.0.1:9", out, release="1.0.0", background_reports=background
        )
        assert (outcome.reports is not None) == background
        if outcome.reports is not None:
            assert len(outcome.reports.result(timeout=120)) == 4
        names = ("results.json", "junit.xml", "summary.md", "report.html")
        files[background] = {
            n: _without_volatile((out / n).read_text(), outcome.run_id) for n in names
        }
    assert "history" in json.loads(files[True]["results.json"])
    for name, text in files[False].items():
        assert files[True][name] == text, name


def test_a_missing_baseline_fails_before_any_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plans: list[LoadPlan] = []
    fake_engine(monkeypatch, calls=plans)
    suite = load_suite(_suite_file(tmp_path))
    with pytest.raises(
        BadInput, match="no results of suite 's' on target url stored for release '0.9'"
    ):
        run_suite(suite, "http://127.0.0.1:9", tmp_path / "out", baseline="0.9")
    assert plans == []


def test_repeat_runs_each_steady_scenario_n_times_interleaved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plans: list[LoadPlan] = []
    fake_engine(monkeypatch, calls=plans)
    suite = parse_suite(
        {
            "name": "r",
            "requests": [{"path": "/"}],
            "repeat": 2,
            "scenarios": [
                {"name": "a", "kind": "load", "rate": 5, "duration": "3s"},
                {"name": "b", "kind": "soak", "rate": 5, "duration": "4s"},
                {"name": "c", "kind": "load", "rate": 5, "duration": "2s"},
            ],
        }
    )
    assert planned_duration_s(suite) == 2 * 3 + 4 + 2 * 2
    outcome = run_suite(suite, "http://127.0.0.1:9", tmp_path, repeat=3)
    assert [p.scenario for p in plans] == ["a", "c"] * 3 + ["b"]
    assert [len(s["runs"]) for s in outcome.results["scenarios"]] == [3, 1, 3]
    plans.clear()
    run_suite(suite, "http://127.0.0.1:9", tmp_path / "default")  # the suite's repeat: 2
    assert [p.scenario for p in plans] == ["a", "c", "a", "c", "b"]


def test_bad_release_name_is_bad_input(tmp_path: Path) -> None:
    suite = load_suite(_suite_file(tmp_path))
    with pytest.raises(BadInput, match="--release"):
        run_suite(suite, "http://127.0.0.1:9", tmp_path, release="bad\nname")


def _stored(store: Store, release: str, run_id: str, suite: str = "s", kind: str = "url") -> None:
    doc = {"suite": {"name": suite}, "target": {"kind": kind}, "release": release}
    put_results(store, {**doc, "run_id": run_id, "scenarios": []})


def test_previous_release_orders_by_semver_then_time() -> None:
    store = open_store()
    for release, run_id in [
        ("1.10.0", "20260101T000000Z-a"),
        ("1.9.0", "20260301T000000Z-b"),
        ("2.0.0-rc1", "20260401T000000Z-c"),
        ("nightly", "20260501T000000Z-d"),
    ]:
        _stored(store, release, run_id)
    _stored(store, "1.10.5", "20260601T000000Z-e", suite="other")
    _stored(store, "1.10.6", "20260601T000000Z-f", kind="local")
    previous = functools.partial(previous_release, store, suite="s", target="url")
    assert previous("1.10.1") == "1.10.0"
    assert previous("1.10.0") == "1.9.0"
    assert previous("2.0.0") == "2.0.0-rc1"
    assert previous("1.0.0") == "nightly"  # nothing earlier by version: latest
    assert previous("feature-x") == "nightly"
    assert previous(None) == "nightly"
    assert previous_release(store, "3.0.0", "s", "local") == "1.10.6"
    assert previous_release(store, "3.0.0", "missing", "url") is None


def test_a_baseline_is_only_ever_a_result_of_the_same_suite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_engine(monkeypatch, lognormal(20))
    smoke = load_suite(_suite_file(tmp_path, "[]"))
    run_suite(smoke, "http://127.0.0.1:9", tmp_path / "a", release="1.0.0")
    other = smoke.model_copy(update={"name": "s2"})
    said: list[str] = []
    outcome = run_suite(
        other, "http://127.0.0.1:9", tmp_path / "b", release="1.1.0", progress=said.append
    )
    assert outcome.comparison is None
    assert "no baseline for suite s2 on url: nothing to compare with" in said
    with pytest.raises(BadInput, match="results of suite 's' on url, not of 's2' on url"):
        run_suite(other, "http://127.0.0.1:9", tmp_path / "c", baseline=str(tmp_path / "a"))


def test_a_url_run_without_a_release_compares_only_with_a_named_baseline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_engine(monkeypatch, lognormal(20))
    suite = load_suite(_suite_file(tmp_path, "[]"))
    run_suite(suite, "http://127.0.0.1:9", tmp_path / "a", release="1.0.0")
    fake_engine(monkeypatch, lognormal(40))
    assert run_suite(suite, "http://127.0.0.1:9", tmp_path / "b").comparison is None
    named = run_suite(suite, "http://127.0.0.1:9", tmp_path / "c", baseline="1.0.0")
    assert named.comparison is not None and named.comparison["regressed"] is True
    assert named.exit_code == 1


def test_results_of_the_previous_layout_are_a_baseline_of_unknown_shape(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_engine(monkeypatch, lognormal(20))
    suite = load_suite(_suite_file(tmp_path, "[]"))
    old = run_suite(suite, "http://127.0.0.1:9", tmp_path / "a", baseline="none").results
    del old["target"]["kind"], old["target"]["shape"]  # as the first version wrote them
    store = open_store()
    store.put(f"results/1.0.0/{old['run_id']}.json", {**old, "release": "1.0.0"})
    said: list[str] = []
    outcome = run_suite(
        suite, "http://127.0.0.1:9", tmp_path / "b", release="1.1.0", progress=said.append
    )
    assert outcome.comparison is not None and outcome.comparison["baseline"] == "release 1.0.0"
    note = outcome.comparison["environment"]["note"]
    assert (
        note == "the baseline's environment shape is unknown (stored before shapes were recorded)"
    )
    assert f"comparing with release 1.0.0 ({note})" in said
    assert note in (tmp_path / "b" / "summary.md").read_text()


def test_another_environment_shape_is_compared_and_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from perfenv.cli.program.shape import environment_shape
    from perfenv.cli.project import perf_template
    from perfenv.infra.config import load_stack_file

    env = load_stack_file(perf_template()).environment
    assert env is not None
    bigger = env.model_copy(update={"fleet": env.fleet.model_copy(update={"desired": 3, "max": 3})})
    fake_engine(monkeypatch, lognormal(20))
    suite = load_suite(_suite_file(tmp_path, "[]"))
    local = {"target_kind": "local"}
    run_suite(
        suite, "http://a", tmp_path / "a", release="1.0", shape=environment_shape(env), **local
    )
    outcome = run_suite(
        suite, "http://b", tmp_path / "b", release="1.1", shape=environment_shape(bigger), **local
    )
    assert outcome.comparison is not None
    expected = (
        f"baseline ran on {env.fleet.instance_type} x{env.fleet.desired}, "
        f"this run on {env.fleet.instance_type} x3"
    )
    assert outcome.comparison["environment"]["note"].startswith(expected)
    assert "fleet.desired" in outcome.comparison["environment"]["note"]


@pytest.fixture
def reference_service(tmp_path: Path) -> Iterator[str]:
    """examples/service on a free loopback port, in its own session; stopped by pid."""
    ready = tmp_path / "service-ready"
    log = (tmp_path / "service.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "perfenv.examples.service",
            "--port",
            "0",
            "--ready-file",
            str(ready),
        ],
        cwd=Path(__file__).resolve().parents[3],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not (ready.exists() and "http://" in ready.read_text()):
            assert proc.poll() is None and time.monotonic() < deadline, "service did not start"
            time.sleep(0.1)
        yield ready.read_text().split()[-1]
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


@pytest.mark.slow
def test_smoke_suite_against_the_reference_service(
    repo: Path, tmp_path: Path, reference_service: str
) -> None:
    out = tmp_path / "out"
    args = ["test", "--url", reference_service, "--suite", str(repo / "suites" / "smoke.yaml")]
    result = CliRunner().invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    for name in FILES:
        assert (out / name).stat().st_size > 0
    doc = json.loads((out / "results.json").read_text())
    assert schema_errors(doc) == []
    load = doc["scenarios"][0]
    assert load["runs"][0]["generator"]["valid"] is True
    assert load["stats"]["sent"] >= 0.95 * load["stats"]["planned"]


def _suite_with(budgets: list[Any], duration: str = "60s", **extra: Any) -> Any:
    return parse_suite(
        {
            "name": "w",
            "requests": [{"path": "/items"}],
            "scenarios": [
                {"name": "load", "kind": "load", "rate": 10, "duration": duration},
                {"name": "after", "kind": "load", "rate": 10, "duration": "5s"},
            ],
            "budgets": budgets,
            **extra,
        }
    )


def test_a_windowed_budget_fails_on_a_bad_last_window(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_engine(monkeypatch, error_rate=lambda t: 1.0 if t >= 190 else 0.0)
    suite = _suite_with(["error_rate < 6%", "error_rate < 1% over 10s"], duration="200s")
    outcome = run_suite(suite, "http://127.0.0.1:9", tmp_path)
    assert outcome.exit_code == 1
    load = outcome.results["scenarios"][0]
    whole, windowed = load["budgets"]
    assert whole["verdict"] == "pass" and whole["value"] == pytest.approx(0.05)
    assert windowed["verdict"] == "fail" and windowed["value"] == 1.0
    assert windowed["window_s"] == 10 and windowed["worst_window_end_s"] == 199
    assert "worst 10s window, ending at 200s" in load["reason"]


def test_a_breached_abort_budget_stops_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plans: list[LoadPlan] = []
    fake_engine(monkeypatch, calls=plans, error_rate=lambda t: 1.0 if t >= 30 else 0.0)
    abort = {"budget": "error_rate < 1% over 10s", "abort": True, "abort_after": "5s"}
    said: list[str] = []
    outcome = run_suite(_suite_with([abort]), "http://127.0.0.1:9", tmp_path, progress=said.append)
    assert outcome.exit_code == 1 and outcome.verdict == "aborted"
    doc = outcome.results
    assert schema_errors(doc) == []
    assert doc["aborted"]["at_s"] == 31 and doc["aborted"]["scenario"] == "load"
    load, after = doc["scenarios"]
    assert len(load["runs"][0]["windows"]) == 31  # stopped at the breach
    assert load["verdict"] == "fail" and load["reason"].startswith("aborted by budget")
    assert (after["verdict"], after["runs"]) == ("skipped", [])
    assert [p.scenario for p in plans] == ["load"]
    assert any(line.startswith("aborted by budget: error_rate < 1% over 10s") for line in said)
    for name in ("summary.md", "report.html", "junit.xml"):
        assert "aborted by budget" in (tmp_path / name).read_text(), name
    assert "<skipped" in (tmp_path / "junit.xml").read_text()


def test_an_abort_budget_waits_for_its_grace_and_the_judge_still_fails_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_engine(monkeypatch, error_rate=lambda t: 1.0 if t < 4 else 0.0)
    abort = {"budget": "error_rate < 30% over 10s", "abort": True, "abort_after": "12s"}
    suite = _suite_with([abort], duration="20s")
    suite = suite.model_copy(update={"scenarios": suite.scenarios[:1]})
    outcome = run_suite(suite, "http://127.0.0.1:9", tmp_path)
    # Breached only in windows ending before 12 s: no abort, but the judge sees the worst window.
    assert outcome.verdict == "fail" and "aborted" not in outcome.results
    assert outcome.results["scenarios"][0]["budgets"][0]["value"] == pytest.approx(0.4)


def test_a_locustfile_suite_says_once_what_the_open_model_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from perfenv.cli.lifecycle.testrun import OPEN_MODEL_NOTE

    fake_engine(monkeypatch)
    locustfile = tmp_path / "lf.py"
    locustfile.write_text("from locust import HttpUser\n")
    suite = parse_suite(
        {
            "name": "lf",
            "locustfile": str(locustfile),
            "scenarios": [{"name": "a", "kind": "load", "rate": 5, "duration": "2s"}],
        }
    )
    said: list[str] = []
    run_suite(suite, "http://127.0.0.1:9", tmp_path / "o", repeat=2, progress=said.append)
    assert said.count(OPEN_MODEL_NOTE) == 1


def test_an_out_dir_that_cannot_be_a_directory_is_exit_2_before_any_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(perfenv.cli.engine, "run_plan", _no_load, raising=False)
    (tmp_path / "taken").write_text("a file")
    args = ["test", "--url", "http://127.0.0.1:9", "--suite", str(_suite_file(tmp_path))]
    result = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "taken")])
    assert result.exit_code == 2, result.output
    assert f"--out {tmp_path / 'taken'}: cannot be a directory" in result.stderr
    assert "Traceback" not in result.output


def _no_load(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("no load may be sent")


@pytest.mark.parametrize(
    ("url", "base"),
    [
        ("http://127.0.0.1:9/", "http://127.0.0.1:9"),  # the engine appends /items: not //items
        ("http://127.0.0.1:9/api/", "http://127.0.0.1:9/api"),
        ("http://127.0.0.1:9/api", "http://127.0.0.1:9/api"),
    ],
)
def test_a_trailing_slash_on_the_url_is_not_doubled_before_the_paths(
    url: str, base: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plans: list[LoadPlan] = []
    fake_engine(monkeypatch, calls=plans)
    args = ["test", "--url", url, "--suite", str(_suite_file(tmp_path)), "--out", str(tmp_path)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert [plan.base_url for plan in plans] == [base]


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/?token=abc", "http://127.0.0.1:9/#x"])
def test_a_url_with_a_query_or_fragment_is_exit_2_before_any_load(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(perfenv.cli.engine, "run_plan", _no_load, raising=False)
    args = ["test", "--url", url, "--suite", str(_suite_file(tmp_path)), "--out", str(tmp_path)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "--url: a base URL takes no query or fragment" in result.stderr
    assert "token=abc" not in result.output  # the refusal does not echo a secret
