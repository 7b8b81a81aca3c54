"""Every odd input is a clear error: exit 2, one line, no traceback, nothing created.

Where a stack, suite, manifest or results file is expected: non-string YAML keys, a
directory, a file that is not UTF-8, or one that does not parse; results that are not
perfenv's given to `compare`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from perfenv.cli.main import app

runner = CliRunner()
Writer = Callable[[Path], None]


def _text(text: str) -> Writer:
    return lambda path: path.write_text(text)


def _bytes(data: bytes) -> Writer:
    return lambda path: path.write_bytes(data)


def _directory(path: Path) -> None:
    path.mkdir()


ODD: dict[str, Writer] = {
    "an integer key": _text("config:\n  1: x\n"),
    "a boolean key deep inside": _text("config:\n  perfenv:environment:\n    true: 1\n"),
    "a null key": _text("name: s\n~: x\n"),
    "not UTF-8": _bytes(b"\xff\xfe\x00config"),
    "a directory": _directory,
    "not YAML": _text("config: [1, 2\n"),
    "nested too deeply": _text("[" * 10000 + "]" * 10000),
    "an endless device": lambda path: path.symlink_to("/dev/zero"),  # read to a bound only
}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, repo: Path) -> Path:
    root = tmp_path / "project"
    (root / "stacks").mkdir(parents=True)
    (root / "suites").mkdir()
    (root / "Pulumi.yaml").write_text("name: p\nruntime: python\nstackConfigDir: stacks\n")
    (root / "stacks" / "Pulumi.dev.yaml").write_text(
        (repo / "stacks" / "Pulumi.dev.yaml").read_text()
    )
    monkeypatch.setenv("PERFENV_PROJECT", str(root))
    return root


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if ".perfenv" not in p.parts)


def _one_clear_line(result: object) -> str:
    code, stderr = result.exit_code, result.stderr  # type: ignore[attr-defined]
    assert code == 2, result.output  # type: ignore[attr-defined]
    assert "Traceback" not in stderr and "internal error" not in stderr
    return str(stderr)


@pytest.mark.parametrize("odd", sorted(ODD))
def test_an_odd_stack_file(odd: str, project: Path) -> None:
    ODD[odd](project / "stacks" / "Pulumi.odd.yaml")
    before = _files(project)
    stderr = _one_clear_line(runner.invoke(app, ["validate", "--stack", "odd"]))
    assert "Pulumi.odd.yaml" in stderr
    stderr = _one_clear_line(runner.invoke(app, ["up", "--stack", "odd"]))
    assert "Pulumi.odd.yaml" in stderr
    assert _files(project) == before


@pytest.mark.parametrize("odd", sorted(ODD))
def test_an_odd_suite_file(odd: str, project: Path, tmp_path: Path) -> None:
    suite = project / "suites" / "odd.yaml"
    ODD[odd](suite)
    before = _files(project)
    assert "odd.yaml" in _one_clear_line(runner.invoke(app, ["validate"]))
    out = tmp_path / "out"
    args = ["test", "--url", "http://127.0.0.1:9", "--suite", str(suite), "--out", str(out)]
    assert "odd.yaml" in _one_clear_line(runner.invoke(app, args))
    assert _files(project) == before and not out.exists()


@pytest.mark.parametrize("odd", sorted(ODD))
def test_an_odd_manifest(odd: str, tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.json"
    ODD[odd](manifest)
    assert "manifest.json" in _one_clear_line(
        runner.invoke(app, ["down", "--manifest", str(manifest)])
    )


@pytest.mark.parametrize(
    "results",
    [
        _text("{"),
        _text("[]"),
        _text('{"schema_version": "1.0"}'),
        _text(json.dumps({"suite": {"name": 3}, "scenarios": "many"})),
        _bytes(b"\xff"),
        _directory,
        lambda path: path.symlink_to("/dev/zero"),
    ],
)
def test_malformed_results_given_to_compare(results: Writer, tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    results(path)
    stderr = _one_clear_line(runner.invoke(app, ["compare", str(path), str(path)]))
    assert "results.json" in stderr


@pytest.mark.parametrize(
    ("setting", "said"),
    [
        ("PERFENV_HOME", "PERFENV_HOME={}: not a directory"),
        ("PERFENV_HEALTH_TIMEOUT_S", "PERFENV_HEALTH_TIMEOUT_S: expected a number of seconds"),
        ("PERFENV_HEARTBEAT_S", "PERFENV_HEARTBEAT_S: expected a number of seconds"),
    ],
)
def test_a_runtime_setting_that_is_not_one_is_exit_2_in_one_line(
    setting: str, said: str, tmp_path: Path
) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    env = {**os.environ, setting: str(a_file) if setting == "PERFENV_HOME" else "abc"}
    for args in (["stacks"], ["up", "--release", "1.0.0"]):
        done = subprocess.run(
            [sys.executable, "-m", "perfenv.cli.main", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        lines = done.stderr.strip().splitlines()
        assert done.returncode == 2, done.stderr[-2000:]
        assert len(lines) == 1 and lines[0].startswith(f"perfenv: {said.format(a_file)}"), lines
    assert a_file.read_text() == "x"
