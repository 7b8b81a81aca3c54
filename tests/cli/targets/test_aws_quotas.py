"""Quotas beyond vCPUs in the aws target's preflight: counted in use (moto), against quotas
(faked where moto has no answer: it knows only the VPC codes), exit 2 before anything."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from perfenv.cli.errors import BadInput
from perfenv.cli.lifecycle import load_template, with_run
from perfenv.cli.targets.aws import AwsTarget
from perfenv.cli.targets.aws.quotas import check_quotas
from perfenv.infra.config import StackFile
from tests.fakes import kube
from tests.fakes.automation import FakeAutomation, FakeClients

REGION = "eu-west-1"
STACK = "perf-1-4-2-abc123"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.setenv("PERFENV_AWS_ACCOUNTS", "123456789012")
    kube.allow(monkeypatch, tmp_path)  # the perf template's cluster, allowed; a fake kubectl
    with mock_aws():
        yield


def _moto(service: str, region: str) -> Any:
    return boto3.client(service, region_name=region)  # type: ignore[call-overload]


def _dev() -> StackFile:
    from perfenv.cli.project import stack_file
    from perfenv.infra.config import load_stack_file

    return load_stack_file(stack_file("dev"))  # NAT single: needs an EIP


def test_quotas_that_would_be_exceeded_are_exit_2_before_creation(aws: None) -> None:
    ec2 = _moto("ec2", REGION)
    ec2.allocate_address(Domain="vpc")
    ec2.allocate_address(Domain="vpc")  # two EIPs in use; the default VPC is one VPC in use
    clients = FakeClients(
        fallback=_moto, quotas={"L-F678F1CE": 1, "L-0263D0A3": 2, "L-53DA6B97": 50}
    )
    with pytest.raises(BadInput) as raised:
        check_quotas(clients, _dev(), REGION, lambda line: None)
    lines = str(raised.value).splitlines()
    assert len(lines) == 2
    assert (
        "VPCs per region: 1 in use + 1 needed exceeds the account's quota L-F678F1CE of 1"
        in lines[0]
    )
    assert "EC2-VPC Elastic IPs: 2 in use + 1 needed exceeds" in lines[1]

    automation = FakeAutomation()
    target = AwsTarget(automation=automation, client=clients, sleep=lambda s: None, attempts=1)
    with pytest.raises(BadInput, match="VPCs per region"):
        target.preflight(_dev(), lambda line: None)
    assert automation.log == []  # nothing was created, not even a workspace


def test_an_isolated_stack_needs_no_eip_or_nat_and_unknown_quotas_are_reported(aws: None) -> None:
    said: list[str] = []
    perf = with_run(load_template(), STACK, "1.4.2", "2030-01-01T00:00:00Z")
    # moto answers the VPC code itself; the others are unknown to it: reported, not enforced
    check_quotas(FakeClients(fallback=_moto, quotas={"L-F678F1CE": 5}), perf, REGION, said.append)
    assert [line.split(" quota ")[0] for line in said] == ["Application Load Balancers per region"]


def test_moto_answers_the_vpc_quota_code(aws: None) -> None:
    said: list[str] = []
    answer = _moto("service-quotas", REGION).get_service_quota(
        ServiceCode="vpc", QuotaCode="L-F678F1CE"
    )
    assert answer["Quota"]["Value"] == 5
    check_quotas(_moto, _dev(), REGION, said.append)  # moto knows the vpc codes (VPCs, NAT)
    assert [line.split(" quota ")[0] for line in said] == [
        "EC2-VPC Elastic IPs",
        "Application Load Balancers per region",
    ]
