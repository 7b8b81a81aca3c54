"""`perfenv artifact build | publish`: perfenv's runtime tarball has the layout and the name the
rendered user data installs, its wheel installs offline, and publishing goes to the stack's
artifact URI in an allowed account (moto; nothing reaches AWS or a package index)."""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from typer.testing import CliRunner

from perfenv.cli.errors import BadInput
from perfenv.cli.main import app
from perfenv.cli.program.preview import load_stack
from perfenv.cli.targets.aws import artifact
from perfenv.infra.config.app import perfenv_version
from perfenv.infra.delivery import render_user_data
from tests.conftest import REPO

runner = CliRunner()
ACCOUNT = "123456789012"  # moto's sts
REGION = "eu-west-1"  # stacks/Pulumi.perf.yaml
BUCKET = f"perfenv-artifacts-{ACCOUNT}-{REGION}"


@pytest.fixture(scope="module")
def tarball(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("artifact") / "dist"
    result = runner.invoke(app, ["artifact", "build", "--no-deps", "--out", str(out)])
    assert result.exit_code == 0, result.output
    path = Path(result.stdout.strip())
    assert path.parent == out
    return path


def test_the_tarball_is_named_and_laid_out_as_the_user_data_installs_it(tarball: Path) -> None:
    version = perfenv_version()
    assert tarball.name == f"perfenv-runtime-{version}.tar.gz" == artifact.file_name()
    with tarfile.open(tarball) as tar:
        names = tar.getnames()
        assert all(m.uid == 0 and m.mtime == 0 for m in tar.getmembers())
    assert names == ["wheels", f"wheels/perfenv-{version}-py3-none-any.whl"]
    stack = load_stack("perf")
    assert stack.environment is not None
    config = stack.environment.app.artifact
    uri = config.resolved(ACCOUNT, REGION)
    assert uri == f"s3://{BUCKET}/perfenv/{tarball.name}"
    script = render_user_data(
        config, uri, region=REGION, port=8080, health_path="/health", start=True
    )
    assert f"ARTIFACT={uri}\n" in script
    wheels = "/opt/perfenv/artifact/wheels"  # where the tarball unpacks: its wheels/
    assert f"pip install --no-index --find-links {wheels}/ \\\n    {wheels}/*.whl\n" in script


def test_its_wheel_installs_offline_into_a_venv(tarball: Path, tmp_path: Path) -> None:
    with tarfile.open(tarball) as tar:
        tar.extractall(tmp_path / "artifact", filter="data")
    wheels = tmp_path / "artifact" / "wheels"
    venv = tmp_path / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", "--system-site-packages", str(venv)],
        check=True,
    )
    python = venv / "bin" / "python"
    install = [sys.executable, "-m", "pip", "--python", str(python), "install", "-q"]
    install += ["--no-index", "--no-deps", "--find-links", str(wheels)]
    subprocess.run([*install, *map(str, wheels.glob("*.whl"))], check=True, capture_output=True)
    where = subprocess.run(
        [
            str(python),
            "-c",
            "import json, importlib.metadata as m; d = m.distribution('perfenv'); print(json.dumps("
            "[d.version, str(d.locate_file('perfenv/examples/service/__init__.py'))]))",
        ],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    ).stdout
    version, service = json.loads(where)
    assert version == perfenv_version()
    assert Path(service).is_file() and Path(service).is_relative_to(venv)


def test_with_dependencies_pip_downloads_for_the_instances_python(tmp_path: Path) -> None:
    calls: list[list[str]] = []

    def pip(args: list[str]) -> subprocess.CompletedProcess[str]:
        calls.append(args)
        dest = Path(args[args.index("-w" if args[0] == "wheel" else "-d") + 1])
        dest.mkdir(parents=True, exist_ok=True)
        name = "perfenv-9.9.9-py3-none-any.whl" if args[0] == "wheel" else "dep-1-py3-none-any.whl"
        (dest / name).write_bytes(b"wheel")
        return subprocess.CompletedProcess(args, 0, "", "")

    path = artifact.build(tmp_path / "out", source=REPO, run=pip)
    assert path.name == "perfenv-runtime-9.9.9.tar.gz"
    with tarfile.open(path) as tar:
        assert tar.getnames() == [
            "wheels",
            "wheels/dep-1-py3-none-any.whl",
            "wheels/perfenv-9.9.9-py3-none-any.whl",
        ]
    download = calls[1]
    assert download[:2] == ["download", "--only-binary=:all:"]
    assert download[download.index("--python-version") + 1] == "3.11"
    assert "manylinux_2_34_x86_64" in download and "manylinux2014_x86_64" in download
    assert download[download.index("-c") + 1] == str(REPO / "constraints.txt")
    assert download[-1].endswith("perfenv-9.9.9-py3-none-any.whl")
    again = artifact.build(tmp_path / "again", source=REPO, run=pip)
    assert again.read_bytes() == path.read_bytes()  # the same wheels, the same bytes


def test_bad_build_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("")
    result = runner.invoke(app, ["artifact", "build", "--no-deps", "--out", str(a_file)])
    assert result.exit_code == 2, result.output
    assert result.stderr == f"perfenv: --out: {a_file} is a file, not a directory\n"

    def failing(args: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(args, 1, "", "Looking\nERROR: no such index\n")

    with pytest.raises(BadInput, match="pip could not build perfenv's wheel .*: ERROR: no such"):
        artifact.build(tmp_path / "out", source=REPO, run=failing)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    monkeypatch.setenv("PERFENV_AWS_ACCOUNTS", ACCOUNT)
    with mock_aws():
        yield boto3.client("s3", region_name=REGION)


def test_publish_uploads_to_the_stacks_artifact_uri(s3: object, tarball: Path) -> None:
    s3.create_bucket(  # type: ignore[attr-defined]
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    result = runner.invoke(app, ["artifact", "publish", "--stack", "perf", "--file", str(tarball)])
    assert result.exit_code == 0, result.output
    key = f"perfenv/{tarball.name}"
    assert result.stdout == f"s3://{BUCKET}/{key}\n"
    body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()  # type: ignore[attr-defined]
    assert body == tarball.read_bytes()


def test_publish_without_the_bucket_says_how_to_create_it(s3: object, tarball: Path) -> None:
    result = runner.invoke(app, ["artifact", "publish", "--stack", "perf", "--file", str(tarball)])
    assert result.exit_code == 2, result.output
    assert result.stderr == (
        f"perfenv: s3://{BUCKET}: no such bucket; create it first: "
        f"aws s3 mb s3://{BUCKET} --region {REGION}\n"
    )


def test_publish_refuses_an_account_not_allowed_and_bad_files(
    s3: object, tarball: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s3.create_bucket(  # type: ignore[attr-defined]
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    publish = ["artifact", "publish", "--stack", "perf", "--file"]
    other = tmp_path / "perfenv-runtime-0.0.1.tar.gz"
    other.write_bytes(tarball.read_bytes())
    for file, line in [
        (tmp_path / "none.tar.gz", "not found; build it first: perfenv artifact build"),
        (other, f"is perfenv 0.0.1, this perfenv is {perfenv_version()}"),
    ]:
        result = runner.invoke(app, [*publish, str(file)])
        assert result.exit_code == 2 and line in result.stderr, result.output
    monkeypatch.setenv("PERFENV_AWS_ACCOUNTS", "111111111111")
    refused = runner.invoke(app, [*publish, str(tarball)])
    assert refused.exit_code == 2, refused.output
    assert f"AWS account {ACCOUNT} is not in PERFENV_AWS_ACCOUNTS" in refused.stderr
    assert s3.list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0  # type: ignore[attr-defined]
