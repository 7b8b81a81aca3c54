"""App delivery: the user data per artifact kind (kept and tested, never executed here) and the
instance role's least privilege."""

from __future__ import annotations

import subprocess

import pytest

from perfenv.infra.config import ArtifactConfig
from perfenv.infra.delivery import render_user_data
from perfenv.infra.instance_role import InstanceRoleArgs, instance_policy

WHEEL = "s3://artifacts-bucket/app/app-1.2.0-py3-none-any.whl"
TARBALL = "s3://artifacts-bucket/app/app-1.2.0.tar.gz"
ECR = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/app:1.2.0"


def _render(uri: str, start: bool = True) -> str:
    artifact = ArtifactConfig(uri=uri, start_command="app --port {port}")
    return render_user_data(
        artifact, uri, region="eu-west-1", port=9000, health_path="/ready", start=start
    )


@pytest.mark.parametrize("uri", [WHEEL, TARBALL, ECR])
def test_user_data_is_valid_bash_that_installs_starts_and_waits(uri: str) -> None:
    script = _render(uri)
    subprocess.run(["bash", "-n"], input=script, text=True, check=True)
    assert script.startswith("#!/bin/bash\n") and "set -euo pipefail" in script
    assert "systemctl enable --now perfenv-app" in script
    assert "curl -fsS -o /dev/null http://127.0.0.1:9000/ready" in script
    assert "pypi" not in script.lower()  # isolated instances reach no index: offline only
    if uri != ECR:
        assert "pip install --no-index" in script


def test_each_kind_installs_from_s3_or_its_registry_only() -> None:
    wheel = _render(WHEEL)
    assert (
        "aws s3 cp --recursive --exclude '*' --include '*.whl' s3://artifacts-bucket/app/" in wheel
    )
    assert "ExecStart=app --port 9000" in wheel
    tarball = _render(TARBALL)
    assert 'aws s3 cp "$ARTIFACT" /opt/perfenv/artifact.tar.gz' in tarball
    container = _render(ECR)
    assert "aws ecr get-login-password --region eu-west-1" in container
    assert f"docker run --rm --name perfenv-app -p 9000:9000 {ECR} app --port 9000" in container
    installed_only = _render(TARBALL, start=False)
    assert "systemctl" not in installed_only and "install the artifact." in installed_only


def test_an_isolated_network_pulls_only_from_ecr() -> None:
    from tests.infra.conftest import stack_file

    perf = stack_file("perf").environment
    assert perf is not None
    data = perf.model_dump()
    data["app"]["artifact"] = {"uri": "ghcr.io/team/app:1", "start_command": "app"}
    with pytest.raises(ValueError, match="pulls container images only from ECR"):
        type(perf).model_validate(data)
    data["app"]["artifact"]["uri"] = ECR
    assert type(perf).model_validate(data).interface_endpoints[-2:] == ("ecr.api", "ecr.dkr")


def test_the_role_reads_exactly_its_artifact_and_writes_only_its_exchange() -> None:
    args = InstanceRoleArgs(
        region="eu-west-1",
        artifact_kind="tarball",
        artifact_uri=TARBALL,
        exchange=["s3://state-bucket/perfenv/generator/perf-1/"],
    )
    statements = {s["Sid"]: s for s in instance_policy(args, TARBALL)["Statement"]}
    assert statements["Artifact"] == {
        "Sid": "Artifact",
        "Effect": "Allow",
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::artifacts-bucket/app/app-1.2.0.tar.gz",
    }
    assert (
        statements["Exchange0"]["Resource"]
        == "arn:aws:s3:::state-bucket/perfenv/generator/perf-1/*"
    )
    assert "ssmmessages:OpenDataChannel" in statements["SsmAgent"]["Action"]
    writes = [s for s in statements.values() if "s3:PutObject" in s["Action"]]
    assert [s["Sid"] for s in writes] == ["Exchange0"]
    assert not any(
        a.startswith(("iam:", "ec2:"))
        for s in statements.values()
        for a in s["Action"]
        if isinstance(s["Action"], list)
    )
