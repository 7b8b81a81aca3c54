"""The account allowlist on every AWS path, and credentials that are missing or refused: one
line and exit 2, never a traceback (moto for sts; nothing reaches AWS or an instance
metadata service)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from typer.testing import CliRunner

from perfenv.cli.errors import BadInput
from perfenv.cli.main import app
from perfenv.cli.targets.aws import AwsTarget
from tests.fakes.automation import FakeAutomation, FakeClients

runner = CliRunner()
MOTO_ACCOUNT = "123456789012"  # what moto's sts answers
STACK = "perf-1-4-2-abc123"


@pytest.fixture
def moto() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance metadata lookups
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # and never a real endpoint
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # no credentials cached by earlier tests
    monkeypatch.setenv("PERFENV_AWS_ACCOUNTS", MOTO_ACCOUNT)


def test_the_cost_report_on_aws_needs_an_allowed_account(
    moto: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PERFENV_AWS_ACCOUNTS", "111111111111")
    result = runner.invoke(app, ["cost", "report", "--target", "aws"])
    assert result.exit_code == 2, result.output
    assert f"AWS account {MOTO_ACCOUNT} is not in PERFENV_AWS_ACCOUNTS" in result.stderr
    refresh = runner.invoke(app, ["cost", "prices", "--refresh", "--target", "aws"])
    assert refresh.exit_code == 2, refresh.output
    assert f"AWS account {MOTO_ACCOUNT} is not in PERFENV_AWS_ACCOUNTS" in refresh.stderr
    monkeypatch.delenv("PERFENV_AWS_ACCOUNTS")
    unset = runner.invoke(app, ["cost", "report", "--target", "aws"])
    assert unset.exit_code == 2 and "PERFENV_AWS_ACCOUNTS: not set" in unset.stderr


def test_missing_credentials_are_one_line_and_exit_2(no_credentials: None) -> None:
    result = runner.invoke(app, ["cost", "report", "--target", "aws"])
    assert result.exit_code == 2, result.output
    assert "no usable AWS credentials (NoCredentialsError)" in result.stderr
    assert "Traceback" not in result.output
    automation = FakeAutomation()  # the aws target with boto3's own clients
    with pytest.raises(BadInput, match=r"no usable AWS credentials \(NoCredentialsError\)"):
        AwsTarget(automation=automation).destroy(STACK, lambda line: None)
    assert automation.log == []


def test_missing_credentials_for_an_s3_state_store_are_one_line(
    no_credentials: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PERFENV_STATE_URL", "s3://perf-state/ci")
    monkeypatch.setenv("PERFENV_S3_ENDPOINT_URL", "http://127.0.0.1:9")  # never reached
    result = runner.invoke(app, ["stacks"])
    assert result.exit_code == 2, result.output
    assert "s3://perf-state/ci: no usable AWS credentials" in result.stderr


@pytest.mark.parametrize(
    "call", ["destroy", "outputs", "leftovers", "remove", "sweep", "probe", "telemetry"]
)
def test_every_aws_path_checks_the_account_first(
    moto: None, monkeypatch: pytest.MonkeyPatch, call: str
) -> None:
    monkeypatch.setenv("PERFENV_AWS_ACCOUNTS", "111111111111")
    automation = FakeAutomation()
    target = AwsTarget(automation=automation, client=FakeClients(account="999999999999"))
    args: list[Any] = [STACK] + ([lambda line: None] if call in ("destroy", "sweep") else [])
    with pytest.raises(Exception, match="AWS account 999999999999 is not in"):
        getattr(target, call)(*args)
    assert automation.log == []
