"""The house rules are checked by tools (docs/adr/0011): the layer contract and ruff's ban fail a
planted violation in a copy of the tree, and pass the copy without it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

BIN = Path(sys.executable).parent
IMPORT_FORMS = (
    "import perfenv.cli.errors",
    "from perfenv import cli",
    "from perfenv.cli import project",
    "from perfenv.cli.errors import BadInput",
)


def _tree(tmp_path: Path) -> Path:
    """A copy of the packages as they install (`perfenv/cli`, ...) and the lint configuration."""
    root = tmp_path / "tree"
    for directory in ("cli", "infra", "examples"):
        shutil.copytree(
            REPO / directory,
            root / "perfenv" / directory,
            ignore=shutil.ignore_patterns("__pycache__"),
        )
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    return root


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "lint-imports"), "--no-cache"],
        cwd=root,
        env=os.environ | {"PYTHONPATH": str(root)},  # the copy, not the editable install
        capture_output=True,
        text=True,
        timeout=120,
    )


def _plant(path: Path, line: str) -> None:
    path.write_text(path.read_text() + f"\n{line}  # noqa\n")


def test_the_layer_contract_reads_the_copy_and_holds_there(tmp_path: Path) -> None:
    result = _lint_imports(_tree(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "reported"),
    [
        (  # a low layer importing a high one
            "cli/state/store.py",
            "from perfenv.cli.commands import app",
            "perfenv.cli.state.store -> perfenv.cli.commands",
        ),
        (  # independent siblings importing each other
            "cli/engine/kinds.py",
            "from perfenv.cli.targets import base",
            "perfenv.cli.engine.kinds -> perfenv.cli.targets.base",
        ),
        (  # the library importing the tool, inside a function
            "infra/tags.py",
            "def _x() -> None:\n    from perfenv.cli import errors",
            "perfenv.infra.tags -> perfenv.cli.errors",
        ),
        (  # a new module at the top of cli/ that is not in the picture
            "cli/helpers.py",
            "HELP = 1",
            "perfenv.cli.helpers",
        ),
    ],
)
def test_the_layer_contract_fails_an_import_against_the_picture(
    tmp_path: Path, module: str, line: str, reported: str
) -> None:
    root = _tree(tmp_path)
    target = root / "perfenv" / module
    if not target.exists():
        target.write_text('"""planted"""\n')
    _plant(target, line)

    result = _lint_imports(root)

    assert result.returncode == 1, result.stdout + result.stderr
    assert reported in result.stdout
    assert "BROKEN" in result.stdout


def _ruff_tid251(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(BIN / "ruff"),
            "check",
            "--no-cache",
            "--select",
            "TID251",
            "--output-format",
            "concise",
            ".",
        ],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_ruff_fails_a_file_in_infra_that_imports_the_cli(tmp_path: Path) -> None:
    root = tmp_path / "project"
    (root / "infra").mkdir(parents=True)
    (root / "cli").mkdir()
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    shutil.copy(REPO / "infra" / "ruff.toml", root / "infra" / "ruff.toml")
    body = "\n".join(IMPORT_FORMS) + "\n"
    (root / "cli" / "fine.py").write_text(body)  # the tool may import itself
    (root / "infra" / "planted.py").write_text(body)

    result = _ruff_tid251(root)

    assert result.returncode == 1, result.stdout + result.stderr
    banned = [line for line in result.stdout.splitlines() if "`perfenv.cli` is banned" in line]
    assert len(banned) == len(IMPORT_FORMS), result.stdout
    assert all(line.startswith("infra/planted.py:") for line in banned), result.stdout


def test_ruff_still_bans_typer_in_infra(tmp_path: Path) -> None:
    """The nested configuration replaces the banned list: typer and rich stay on it."""
    root = tmp_path / "project"
    (root / "infra").mkdir(parents=True)
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    shutil.copy(REPO / "infra" / "ruff.toml", root / "infra" / "ruff.toml")
    (root / "infra" / "planted.py").write_text("import rich\nimport typer\n")

    result = _ruff_tid251(root)

    assert result.returncode == 1, result.stdout + result.stderr
    assert "`typer` is banned" in result.stdout
    assert "`rich` is banned" in result.stdout
