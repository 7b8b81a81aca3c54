"""perfenv's runtime artifact: the tarball the default `app.artifact` names (ADR 0027, 0040).

`build` writes `perfenv-runtime-<version>.tar.gz` holding one directory, `wheels/`: perfenv's
wheel, built from the source checkout the installed perfenv is an editable install of (or
`source`), and the wheels of its dependencies at the versions of the checkout's
`constraints.txt`, for the instances' CPython 3.11 on x86_64 Linux (Amazon Linux 2023, glibc
2.34). The user data (`perfenv.infra.delivery`) unpacks it and installs `wheels/*.whl` with
`pip --no-index`: an isolated instance reaches no package index.

`publish` uploads it to a stack's `app.artifact` URI, resolved with the caller's account (after
the allowlist) and the stack's region.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from perfenv.cli.errors import BadInput, InfraError
from perfenv.cli.state.s3store import aws_credentials
from perfenv.cli.targets.aws.clients import ClientFactory
from perfenv.cli.targets.aws.guards import check_account
from perfenv.infra.config import StackFile
from perfenv.infra.config.app import REFERENCE_ARTIFACT, TARBALL_WHEELS, perfenv_version

PYTHON_VERSION = "3.11"  # delivery installs python3.11 from the Amazon Linux repositories
# AL2023's glibc is 2.34: every manylinux tag up to it (pip expands only the legacy names).
PLATFORMS = ("manylinux2014_x86_64", *(f"manylinux_2_{m}_x86_64" for m in range(17, 35)))
NOT_SOURCE = (".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".*cache", ".perfenv")
RUNTIME = re.compile(r"^perfenv-runtime-(?P<version>.+)\.tar\.gz$")
Runner = Callable[[list[str]], subprocess.CompletedProcess[str]]


def file_name(version: str | None = None) -> str:
    """`perfenv-runtime-<version>.tar.gz`: the name the default artifact URI ends with."""
    return REFERENCE_ARTIFACT.rsplit("/", 1)[1].replace("{version}", version or perfenv_version())


def installed_source() -> Path:
    """The checkout the installed perfenv is an editable install of (PEP 610 direct_url.json)."""
    for dist in metadata.distributions(name="perfenv"):  # an egg-info on sys.path may come first
        info = json.loads(dist.read_text("direct_url.json") or "{}")
        if info.get("dir_info", {}).get("editable") and info.get("url", "").startswith("file://"):
            return Path(unquote(urlparse(info["url"]).path))
    raise BadInput(
        "--source: this perfenv is not an editable install of a checkout; "
        "pass the perfenv source directory"
    )


def _pip(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pip", *args, "-q", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        check=False,
    )


def _run_pip(run: Runner, args: list[str], what: str) -> None:
    done = run(args)
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        last = lines[-1].strip() if lines else f"exit {done.returncode}"
        raise BadInput(f"pip could not {what}: {last}")


def build(out: Path, *, source: Path | None = None, deps: bool = True, run: Runner = _pip) -> Path:
    """Write the runtime tarball into `out`; return its path. `deps=False` (tests, offline
    checks): perfenv's wheel alone, no index asked."""
    if out.exists() and not out.is_dir():
        raise BadInput(f"--out: {out} is a file, not a directory")
    source = source or installed_source()
    if not (source / "pyproject.toml").is_file():
        raise BadInput(f"--source: {source} holds no pyproject.toml (not perfenv's source)")
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="perfenv-artifact-") as tmp:
        wheels = Path(tmp) / TARBALL_WHEELS
        _run_pip(
            run,
            [
                "wheel",
                "--no-deps",
                "--no-index",
                "--no-build-isolation",
                "-w",
                str(wheels),
                str(_copy_source(source, Path(tmp) / "src")),
            ],
            f"build perfenv's wheel from {source}",
        )
        built = sorted(wheels.glob("perfenv-*.whl"))
        if len(built) != 1:
            raise BadInput(f"--source: {source} did not build one perfenv wheel")
        version = built[0].name.split("-")[1]
        if deps:
            _run_pip(run, _download_args(built[0], wheels, source), "download the dependencies")
        target = out / file_name(version)
        _write_tarball(wheels, target)
    return target


def _copy_source(source: Path, dest: Path) -> Path:
    """The checkout's files (tracked and new, not ignored) as tests/test_wheel.py builds them: a
    build in place would write `build/` into it, and stale files there end up in the wheel."""
    listed = (
        subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            cwd=source,
            capture_output=True,
            check=False,
        )
        if shutil.which("git")
        else None
    )
    if listed is None or listed.returncode != 0:  # not a git checkout
        shutil.copytree(source, dest, symlinks=True, ignore=shutil.ignore_patterns(*NOT_SOURCE))
        return dest
    for rel in filter(None, listed.stdout.decode().split("\0")):
        origin, target = source / rel, dest / rel
        if origin.exists() or origin.is_symlink():  # else deleted in the work tree
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(origin, target, follow_symlinks=False)
    return dest


def _download_args(wheel: Path, dest: Path, source: Path) -> list[str]:
    args = ["download", "--only-binary=:all:", "--implementation", "cp"]
    args += ["--python-version", PYTHON_VERSION, "-d", str(dest)]
    for platform in PLATFORMS:
        args += ["--platform", platform]
    constraints = source / "constraints.txt"
    if constraints.is_file():
        args += ["-c", str(constraints)]
    return [*args, str(wheel)]


def _write_tarball(wheels: Path, target: Path) -> None:
    """`wheels/<name>.whl` entries, sorted, owned by root, dated 0: the same wheels give the
    same bytes. Written beside the target and renamed: never a half tarball."""

    def normal(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        info.mtime = 0
        info.mode = 0o755 if info.isdir() else 0o644
        return info

    partial = target.with_name(f".{target.name}.partial")
    try:
        with open(partial, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as zipped:
            with tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as tar:
                tar.add(wheels, arcname=TARBALL_WHEELS, recursive=False, filter=normal)
                for wheel in sorted(wheels.glob("*.whl")):
                    tar.add(wheel, arcname=f"{TARBALL_WHEELS}/{wheel.name}", filter=normal)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)  # interrupted: no half tarball left behind


def publish(stack: StackFile, file: Path, client: ClientFactory) -> str:
    """Upload `file` to the stack's artifact URI (after the account allowlist); return the URI."""
    env = stack.environment
    if env is None:
        raise BadInput(f"{stack.path.name}: not an environment stack (no perfenv:environment)")
    artifact = env.app.artifact
    if artifact.kind != "tarball":
        raise BadInput(
            f"{stack.path.name}: app.artifact.uri: {artifact.uri} is a {artifact.kind}, "
            "not a tarball; perfenv publishes only its runtime tarball"
        )
    if not file.is_file():
        raise BadInput(f"--file: {file} not found; build it first: perfenv artifact build")
    named = RUNTIME.match(file.name)
    if named and named["version"] != perfenv_version():
        raise BadInput(
            f"--file: {file.name} is perfenv {named['version']}, this perfenv is "
            f"{perfenv_version()} (the URI names the installed version)"
        )
    account = check_account(client, env.region)
    uri = artifact.resolved(account, env.region)
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    s3 = client("s3", env.region)
    _require_bucket(s3, bucket, env.region)
    with aws_credentials("AWS"):
        try:
            s3.upload_file(str(file), bucket, key)
        except Exception as exc:  # boto3's S3UploadFailedError and transfer errors
            raise InfraError(f"{uri}: upload failed ({type(exc).__name__}: {exc})") from exc
    return uri


def _require_bucket(s3: Any, bucket: str, region: str) -> None:
    from botocore.exceptions import BotoCoreError, ClientError

    with aws_credentials("AWS"):
        try:
            s3.head_bucket(Bucket=bucket)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code"))
            if code in ("404", "NoSuchBucket"):
                raise BadInput(
                    f"s3://{bucket}: no such bucket; create it first: "
                    f"aws s3 mb s3://{bucket} --region {region}"
                ) from None
            if code in ("403", "AccessDenied"):
                raise BadInput(
                    f"s3://{bucket}: access denied (another account's bucket?)"
                ) from None
            raise InfraError(f"s3://{bucket}: {code}: {exc}") from None
        except BotoCoreError as exc:
            raise InfraError(f"s3://{bucket}: {type(exc).__name__}: {exc}") from None
