"""App delivery: the machine image an instance boots and the user data that installs and starts
the artifact on it. The app's fleet and the load generator share this path.

The user data is a shell script (cloud-init runs it once, as root, at first boot). It installs
from S3 and the Amazon Linux repositories only (both reachable through an isolated VPC's S3
gateway endpoint), never from the internet:

- a wheel: downloaded with the wheels beside it (its prefix is its wheelhouse) and installed
  offline into `/opt/perfenv/venv`;
- a tarball: unpacked into `/opt/perfenv/artifact`; the wheels under its `wheels/` are installed
  offline into the venv (perfenv's runtime artifact is such a tarball);
- a container image: run by Docker, logged in to ECR first when the image is there.

With `start` the artifact's start command becomes a systemd service (restarted if it dies) and
the script waits for the health endpoint, as the load balancer will check it.
"""

from __future__ import annotations

import base64
import shlex

import pulumi
import pulumi_aws
import pulumi_aws.ssm

from perfenv.infra.config import AppConfig, ArtifactConfig
from perfenv.infra.config.app import ECR_IMAGE, TARBALL_WHEELS

ROOT = "/opt/perfenv"
SERVICE = "perfenv-app"
HEALTH_WAIT_S = 300


def machine_image(app: AppConfig, opts: pulumi.InvokeOutputOptions) -> pulumi.Output[str]:
    """The AMI id: the configured one, or the SSM parameter's value read at deploy time."""
    parameter = app.image_parameter
    if parameter is None:
        return pulumi.Output.from_input(app.machine_image)
    return pulumi_aws.ssm.get_parameter_output(name=parameter, opts=opts).value


def artifact_uri(
    artifact: ArtifactConfig, region: str, opts: pulumi.InvokeOutputOptions
) -> pulumi.Output[str]:
    """The artifact's URI with `{account}`, `{region}` and `{version}` filled in."""
    if "{account}" not in artifact.uri:
        return pulumi.Output.from_input(artifact.resolved("", region))
    identity = pulumi_aws.get_caller_identity_output(opts=opts)
    return identity.account_id.apply(lambda account: artifact.resolved(account, region))


def encode_user_data(script: str) -> str:
    return base64.b64encode(script.encode()).decode()


def render_user_data(
    artifact: ArtifactConfig, uri: str, *, region: str, port: int, health_path: str, start: bool
) -> str:
    """The boot script for `artifact` fetched from `uri` (see the module's docstring)."""
    what = "install and start the artifact" if start else "install the artifact"
    lines = [
        "#!/bin/bash",
        f"# perfenv app delivery (perfenv.infra.delivery): {what}.",
        "set -euo pipefail",
        f"export AWS_DEFAULT_REGION={region}",
        f"ARTIFACT={shlex.quote(uri)}",
        f"PORT={port}",
        f"install -d -m 0755 {ROOT} {ROOT}/artifact",
        *_INSTALL[artifact.kind](uri),
    ]
    if start:
        lines += _service(artifact, uri, port) + _health_wait(port, health_path)
    return "\n".join(lines) + "\n"


def _python() -> list[str]:
    return [
        "dnf install -y python3.11 python3.11-pip",
        f"python3.11 -m venv {ROOT}/venv",
    ]


def _install_wheel(uri: str) -> list[str]:
    prefix = uri.rsplit("/", 1)[0] + "/"
    return [
        *_python(),
        f"aws s3 cp --recursive --exclude '*' --include '*.whl' {shlex.quote(prefix)} "
        f"{ROOT}/artifact/",
        f"{ROOT}/venv/bin/pip install --no-index --find-links {ROOT}/artifact/ "
        f'"{ROOT}/artifact/${{ARTIFACT##*/}}"',
    ]


def _install_tarball(uri: str) -> list[str]:
    wheels = f"{ROOT}/artifact/{TARBALL_WHEELS}"
    return [
        *_python(),
        f'aws s3 cp "$ARTIFACT" {ROOT}/artifact.tar.gz',
        f"tar -xzf {ROOT}/artifact.tar.gz -C {ROOT}/artifact",
        f"if [ -d {wheels} ]; then",
        f"  {ROOT}/venv/bin/pip install --no-index --find-links {wheels}/ \\",
        f"    {wheels}/*.whl",
        "fi",
    ]


def _install_container(uri: str) -> list[str]:
    lines = ["dnf install -y docker", "systemctl enable --now docker"]
    ecr = ECR_IMAGE.match(uri)
    if ecr is not None:
        registry = uri.split("/", 1)[0]
        lines.append(
            f"aws ecr get-login-password --region {ecr.group(2)} "
            f"| docker login --username AWS --password-stdin {registry}"
        )
    return [*lines, 'docker pull "$ARTIFACT"']


_INSTALL = {"wheel": _install_wheel, "tarball": _install_tarball, "container": _install_container}


def _service(artifact: ArtifactConfig, uri: str, port: int) -> list[str]:
    command = artifact.start_command.replace("{port}", str(port))
    if artifact.kind == "container":
        command = (
            f"/usr/bin/docker run --rm --name {SERVICE} -p {port}:{port} {shlex.quote(uri)} "
            + command
        ).strip()
    return [
        f"cat > /etc/systemd/system/{SERVICE}.service <<'UNIT'",
        "[Unit]",
        "Description=perfenv app (the artifact's start command)",
        "After=network-online.target",
        "",
        "[Service]",
        f"WorkingDirectory={ROOT}/artifact",
        f"Environment=PORT={port}",
        f"ExecStart={command}",
        "Restart=always",
        "RestartSec=2",
        "",
        "[Install]",
        "WantedBy=multi-user.target",
        "UNIT",
        "systemctl daemon-reload",
        f"systemctl enable --now {SERVICE}",
    ]


def _health_wait(port: int, health_path: str) -> list[str]:
    url = f"http://127.0.0.1:{port}{health_path}"
    return [
        f"for _ in $(seq 1 {HEALTH_WAIT_S // 2}); do",
        f"  if curl -fsS -o /dev/null {shlex.quote(url)}; then exit 0; fi",
        "  sleep 2",
        "done",
        f'echo "{SERVICE}: {url} did not answer within {HEALTH_WAIT_S} s" >&2',
        "exit 1",
    ]
