"""The wheel works outside the checkout: built from the source tree, installed without the network
into a venv elsewhere, it makes a project with `perfenv init` and runs it there, writing nothing
outside that temp dir (docs/adr/0013).

The venv has no packages of its own but sees the dev venv's dependencies through a `.pth` line:
a path on `sys.path`, whose own `.pth` files (the editable finder that maps `perfenv` to this
checkout) Python does not read. The test asserts that `perfenv` imports from the wheel.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO

# One worker builds and installs the wheel once for both tests (make test: --dist loadgroup).
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("wheel")]
# Written into the checkout by the checks that run beside this test in `make test` (mypy and its
# narrowed stubs, ruff, lint-imports, pytest itself, Python compiling the modules other tests
# import): not by the wheel's perfenv.
CONCURRENT_WRITERS = (
    ".mypy_cache/",
    ".typecheck/pulumi_",
    ".ruff_cache/",
    ".import_linter_cache/",
    ".pytest_cache/",
)


def _checkout_state() -> set[str]:
    out = subprocess.run(
        ["git", "status", "--porcelain", "--ignored", "--untracked-files=all"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {
        line
        for line in out.splitlines()
        if "__pycache__/" not in line and not any(w in line for w in CONCURRENT_WRITERS)
    }


def _source_tree(dest: Path) -> Path:
    """The checkout's files as they are (tracked and new, not ignored), symlinks kept."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for rel in filter(None, listed.split("\0")):
        source, target = REPO / rel, dest / rel
        if not source.exists() and not source.is_symlink():
            continue  # deleted in the work tree
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target, follow_symlinks=False)
    return dest


def _venv_with_dev_dependencies(path: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    site = Path(sysconfig.get_path("purelib", vars={"base": str(path), "platbase": str(path)}))
    dev_site = sysconfig.get_path("purelib")
    (site / "zz_dev_dependencies.pth").write_text(f"{dev_site}\n")
    return path / "bin"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, str]]]:
    """(the venv's bin, an environment confined to a temp dir) with the wheel installed."""
    before = _checkout_state()
    root = tmp_path_factory.mktemp("wheel")
    source = _source_tree(root / "src")
    dist = root / "dist"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-index",
            "--no-build-isolation",
            "-q",
            "-w",
            str(dist),
            str(source),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = dist.glob("perfenv-*.whl")
    bin_dir = _venv_with_dev_dependencies(root / "venv")
    for name in ("home", "tmp", "mpl", "pycache", "work"):
        (root / name).mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PERFENV_", "PYTHON"))}
    env |= {
        "HOME": str(root / "home"),
        "TMPDIR": str(root / "tmp"),
        "MPLCONFIGDIR": str(root / "mpl"),
        "PYTHONPYCACHEPREFIX": str(root / "pycache"),  # no bytecode into the dev venv
        "PATH": f"{bin_dir}{os.pathsep}{env['PATH']}",
        "AWS_ACCESS_KEY_ID": "testing",  # as everywhere in the tests: no real cloud
        "AWS_SECRET_ACCESS_KEY": "testing",
        "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",
    }
    subprocess.run(
        [
            str(bin_dir / "python"),
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-index",
            "-q",
            str(wheel),
        ],
        check=True,
        capture_output=True,
        env=env,
    )
    yield bin_dir, env
    assert _checkout_state() == before, "the wheel's perfenv wrote into the checkout"


def _perfenv(
    env: dict[str, str], cwd: Path, *args: str, timeout: float = 240
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["perfenv", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def test_the_installed_perfenv_is_the_wheel_not_the_checkout(
    installed: tuple[Path, dict[str, str]],
) -> None:
    bin_dir, env = installed
    where = subprocess.run(
        [
            str(bin_dir / "python"),
            "-c",
            "import json, perfenv.cli, perfenv.infra, perfenv.examples.service as s;"
            "print(json.dumps([perfenv.cli.__file__, perfenv.infra.__file__, s.__file__]))",
        ],
        env=env,
        cwd=env["HOME"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    venv = bin_dir.parent
    for module_file in json.loads(where):
        assert Path(module_file).is_relative_to(venv), module_file
    assert shutil.which("perfenv", path=env["PATH"]) == str(bin_dir / "perfenv")
    package = venv / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    shipped = package / "site-packages" / "perfenv"
    for data in (
        "cli/cost/prices.json",
        "cli/verdict/results.schema.json",
        "cli/project/template/__main__.py",
        "cli/project/template/stacks/Pulumi.perf.yaml",
        "cli/project/template/suites/smoke.yaml",
    ):
        assert (shipped / data).is_file() and not (shipped / data).is_symlink(), data


def test_init_validate_preview_and_a_local_run_from_the_wheel(
    installed: tuple[Path, dict[str, str]],
) -> None:
    _, env = installed
    work = Path(env["HOME"]).parent / "work"
    demo = work / "demo"
    try:
        steps = [
            (work, ["init", "demo"]),
            (demo, ["validate"]),
            (demo, ["preview", "--stack", "perf"]),
            (demo, ["run", "--release", "1.0.0", "--suite", "suites/smoke.yaml"]),
        ]
        for cwd, args in steps:
            result = _perfenv(env, cwd, *args)
            assert result.returncode == 0, f"perfenv {' '.join(args)}:\n{result.stderr[-3000:]}"
        assert (demo / ".perfenv" / "state").is_dir()
        (report,) = (demo / "perfenv-results").iterdir()  # perfenv-results/<stack>/
        assert json.loads((report / "results.json").read_text())["verdict"] == "pass"
        assert (report / "report.html").is_file()
    finally:
        _stop_emulator(env, demo)


def _stop_emulator(env: dict[str, str], project: Path) -> None:
    pidfile = project / ".perfenv" / "local" / "emulator.json"
    if not pidfile.is_file():
        return
    _perfenv(env, project, "local", "stop", "--force", timeout=60)
    pid = json.loads(pidfile.read_text())["pid"] if pidfile.is_file() else None
    if pid is not None:  # the stop did not finish: by pid, never by name
        try:
            os.kill(pid, 9)
        except ProcessLookupError:
            pass
