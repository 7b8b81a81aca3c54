"""Choosing a target."""

from __future__ import annotations

import pytest

import perfenv.cli.targets as targets
from perfenv.cli.errors import BadInput
from perfenv.cli.targets.aws import AwsTarget


def test_the_target_comes_from_the_option_then_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert targets.target_name(None) == "local"
    monkeypatch.setenv("PERFENV_TARGET", "aws")
    assert targets.target_name(None) == "aws"
    assert targets.target_name("local") == "local"
    aws = targets.get_target(None, backend="s3://bucket/pulumi")
    assert isinstance(aws, AwsTarget) and aws.backend == "s3://bucket/pulumi"
    with pytest.raises(BadInput, match="--target: expected one of local, aws"):
        targets.get_target("gcp")
