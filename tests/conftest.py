"""Unit tests can never reach a real cloud: fake credentials, local backends, a tmp state dir."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
import typer.main
import typer.testing

REPO = Path(__file__).resolve().parent.parent
STACKS_DIR = REPO / "stacks"

# typer's CliRunner builds the click command from the app on every invoke (0.1 s of signature
# reading each); the app does not change within a test run, so it is built once per app.
typer.testing._get_command = functools.cache(typer.main.get_command)  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def no_real_cloud(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "PERFENV_TARGET"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    monkeypatch.setenv("PULUMI_BACKEND_URL", f"file://{tmp_path / 'pulumi'}")
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "test-only")
    monkeypatch.setenv("PERFENV_STATE_URL", f"file://{tmp_path / 'state'}")
    monkeypatch.setenv("PERFENV_HOME", str(tmp_path / "perfenv-home"))
    monkeypatch.setenv("PERFENV_PROJECT", str(REPO))  # this repo's root is a perfenv project


@pytest.fixture
def repo() -> Path:
    return REPO
