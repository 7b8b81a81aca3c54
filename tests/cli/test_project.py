"""The project is where you stand: the nearest Pulumi.yaml upward, or `--project DIR`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from perfenv.cli.main import app
from tests.conftest import REPO

runner = CliRunner()
CLI_TOP_LEVEL_MAX = 8


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory outside the checkout, with no project chosen by the environment."""
    monkeypatch.delenv("PERFENV_PROJECT")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _project_with_copied_stacks(root: Path) -> Path:
    root.mkdir()
    (root / "Pulumi.yaml").write_text("name: theirs\nruntime: python\nstackConfigDir: stacks\n")
    shutil.copytree(REPO / "stacks", root / "stacks")
    return root


def test_validate_reports_the_copy_it_stands_in_not_the_checkout(elsewhere: Path) -> None:
    project = _project_with_copied_stacks(elsewhere / "theirs")
    perf = project / "stacks" / "Pulumi.perf.yaml"
    perf.write_text(perf.read_text().replace("kind: perf", "kind: sandbox"))
    os.chdir(project / "stacks")

    result = runner.invoke(app, ["validate"])

    assert result.exit_code == 2, result.output
    (line,) = result.stderr.strip().splitlines()
    file, field, _ = line.removeprefix("perfenv: ").split(": ", 2)
    assert (Path.cwd() / file).resolve() == perf  # the copy's file, named from where we stand
    assert field == "kind"


def test_validate_checks_the_suites_of_the_project_it_stands_in(elsewhere: Path) -> None:
    project = _project_with_copied_stacks(elsewhere / "theirs")
    (project / "suites").mkdir()
    (project / "suites" / "broken.yaml").write_text("name: broken\nscenarios: []\n")
    os.chdir(project)

    result = runner.invoke(app, ["validate"])

    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"perfenv: {project / 'suites' / 'broken.yaml'}: scenarios: ")


def test_project_option_points_at_another_project(elsewhere: Path) -> None:
    project = _project_with_copied_stacks(elsewhere / "theirs")
    (project / "stacks" / "Pulumi.dev.yaml").write_text("config: [broken\n")

    result = runner.invoke(app, ["--project", str(project), "validate", "--stack", "dev"])

    assert result.exit_code == 2, result.output
    assert result.stderr == "perfenv: theirs/stacks/Pulumi.dev.yaml: line 2: malformed YAML\n"


def test_no_pulumi_yaml_above_is_one_line_and_exit_2(elsewhere: Path) -> None:
    result = runner.invoke(app, ["validate"])

    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("perfenv: no Pulumi project")
    assert "perfenv init" in lines[0]


def test_a_project_with_its_own_infra_and_cli_directories_still_previews(elsewhere: Path) -> None:
    """perfenv installs as `perfenv.infra` / `perfenv.cli`: a team's own `infra/` (here on
    `sys.path`, as `python -m` puts the working directory first) is never imported in its place."""
    assert runner.invoke(app, ["init", "theirs"]).exit_code == 0
    project = elsewhere / "theirs"
    for package in ("infra", "cli"):
        (project / package).mkdir()
        (project / package / "__init__.py").write_text(
            f"raise ImportError('the team\\'s own {package}/ was imported')\n"
        )

    result = subprocess.run(
        [sys.executable, "-m", "perfenv.cli.main", "preview", "--stack", "perf"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=180,
    )

    assert result.returncode == 0, result.stderr[-2000:]
    assert "resources in stack perf" in result.stderr
    assert "aws:ec2/vpc:Vpc" in result.stdout


def test_the_top_of_cli_holds_at_most_eight_modules() -> None:
    modules = sorted(p.name for p in (REPO / "cli").glob("*.py"))
    assert len(modules) <= CLI_TOP_LEVEL_MAX, modules
