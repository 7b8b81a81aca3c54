"""The CLI starts light: `perfenv --help` and every command's help load nothing heavy.

Each case runs in a fresh interpreter (what a user's shell starts); the timings themselves are
in benchmarks/bench_loop.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import typer

from perfenv.cli.main import app

HEAVY = {
    "boto3",
    "botocore",
    "gevent",
    "hdrh",
    "locust",
    "matplotlib",
    "moto",
    "numpy",
    "pulumi",
    "pulumi_aws",
    "pulumi_kubernetes",
    "pydantic",
    "rich",
    "yaml",
}
# Prints the help of each command path given as JSON, then the top-level packages loaded.
_HELP = """
import json, sys
from perfenv.cli.main import app
for path in json.loads(sys.argv[1]):
    try:
        app([*path, "--help"], prog_name="perfenv")
    except SystemExit:
        pass
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules})), file=sys.stderr)
"""


def _loaded_after_help(paths: list[list[str]]) -> set[str]:
    """In the project, found from the working directory (PERFENV_PROJECT would be parsed)."""
    env = {k: v for k, v in os.environ.items() if k != "PERFENV_PROJECT"}
    done = subprocess.run(
        [sys.executable, "-c", _HELP, json.dumps(paths)],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert "Usage: perfenv" in done.stdout
    return set(json.loads(done.stderr.strip().splitlines()[-1]))


def _command_paths(group: typer.core.TyperGroup, prefix: list[str]) -> list[list[str]]:
    paths = []
    for name, command in group.commands.items():
        paths.append([*prefix, name])
        if isinstance(command, typer.core.TyperGroup):
            paths += _command_paths(command, [*prefix, name])
    return paths


def test_perfenv_help_loads_nothing_heavy() -> None:
    assert _loaded_after_help([[]]) & HEAVY == set()


def test_every_commands_help_loads_nothing_heavy() -> None:
    group = typer.main.get_command(app)
    assert isinstance(group, typer.core.TyperGroup)
    paths = _command_paths(group, [])
    assert ["run"] in paths and ["cost", "report"] in paths and ["local", "stop"] in paths
    # Not even the pydantic typer 0.29 uses to coerce the options it parses (commands._Root).
    assert _loaded_after_help(paths) & HEAVY == set()
