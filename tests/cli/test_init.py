"""`perfenv init [DIR]`: a project that works at once, made of this repo's own files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from perfenv.cli.main import app
from tests.conftest import REPO

runner = CliRunner()
# project path -> the repo's file it is a copy of
FROM_REPO = {
    "__main__.py": "__main__.py",
    "stacks/Pulumi.dev.yaml": "stacks/Pulumi.dev.yaml",
    "stacks/Pulumi.staging.yaml": "stacks/Pulumi.staging.yaml",
    "stacks/Pulumi.perf.yaml": "stacks/Pulumi.perf.yaml",
    "stacks/Pulumi.cost.yaml": "stacks/Pulumi.cost.yaml",
    "suites/smoke.yaml": "suites/smoke.yaml",
    "suites/release.yaml": "suites/release.yaml",
    "suites/catalog.py": "suites/catalog.py",
    ".github/workflows/perf-release.yml": "docs/ci/perf-release.yml",
}


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def test_init_writes_the_repos_own_project_files(tmp_path: Path) -> None:
    result = runner.invoke(app, ["init", str(tmp_path / "demo"), "--format", "json"])

    assert result.exit_code == 0, result.output
    demo = tmp_path / "demo"
    assert _files(demo) == {*FROM_REPO, "Pulumi.yaml", ".gitignore"}
    for written, source in FROM_REPO.items():
        assert (demo / written).read_bytes() == (REPO / source).read_bytes(), written
    assert (demo / "Pulumi.yaml").read_text() == (
        "name: demo\nruntime: python\nstackConfigDir: stacks\n"
        "description: Matched dev, staging and ephemeral perf environments (perfenv)\n"
    )
    assert ".perfenv/" in (demo / ".gitignore").read_text().splitlines()


def test_the_project_init_writes_is_found_and_validates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PERFENV_PROJECT")
    monkeypatch.chdir(tmp_path)
    assert runner.invoke(app, ["init", "demo"]).exit_code == 0
    monkeypatch.chdir(tmp_path / "demo" / "suites")  # found upward, as Pulumi finds it

    result = runner.invoke(app, ["validate", "--format", "json"])

    assert result.exit_code == 0, result.output
    rows = {
        (row["kind"], (Path.cwd() / row["file"]).resolve()) for row in json.loads(result.stdout)
    }
    demo = tmp_path / "demo"
    assert {
        ("environment", demo / "stacks" / "Pulumi.perf.yaml"),
        ("suite", demo / "suites" / "smoke.yaml"),
        ("suite", demo / "suites" / "release.yaml"),
    } <= rows


@pytest.mark.parametrize("existing", ["Pulumi.yaml", "Pulumi.yml"])
def test_init_refuses_a_pulumi_project_and_writes_nothing(tmp_path: Path, existing: str) -> None:
    (tmp_path / existing).write_text("name: theirs\nruntime: python\n")

    result = runner.invoke(app, ["init", str(tmp_path)])

    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"perfenv: {tmp_path / existing}: already a Pulumi project (perfenv init makes a new one)"
    ]
    assert _files(tmp_path) == {existing}


def test_init_never_overwrites_a_file_and_writes_nothing_then(tmp_path: Path) -> None:
    (tmp_path / "suites").mkdir()
    (tmp_path / "suites" / "smoke.yaml").write_text("theirs")

    result = runner.invoke(app, ["init", str(tmp_path)])

    assert result.exit_code == 2
    assert "suites/smoke.yaml: exists; perfenv init never overwrites a file" in result.stderr
    assert _files(tmp_path) == {"suites/smoke.yaml"}
    assert (tmp_path / "suites" / "smoke.yaml").read_text() == "theirs"


def test_an_existing_gitignore_gets_only_the_patterns_it_lacks(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("node_modules/\n.perfenv/\n")

    assert runner.invoke(app, ["init", str(tmp_path)]).exit_code == 0

    lines = (tmp_path / ".gitignore").read_text().splitlines()
    assert lines[:3] == ["node_modules/", ".perfenv/", "# perfenv"]
    assert lines.count(".perfenv/") == 1
    assert "/perfenv-results/" in lines
