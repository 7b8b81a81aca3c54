"""InstanceRole: the least-privilege role and instance profile of a group's instances.

Granted: what the SSM agent itself calls for Run Command and Session Manager (the managed
AmazonSSMManagedInstanceCore less inventory, patching and parameter reads), CloudWatch metrics
and logs under `/perfenv/`, read of the artifact (its wheelhouse prefix for a wheel, ECR pulls
for an ECR image), and read/write of the `exchange` prefixes (the load generator's plan and
results in the state store). Nothing else: no wildcard on S3, no IAM, no EC2 writes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws.iam

from perfenv.infra.config import ArtifactKind
from perfenv.infra.config.app import ECR_IMAGE

SSM_AGENT_ACTIONS = (
    "ssm:UpdateInstanceInformation",
    "ssm:ListAssociations",
    "ssm:ListInstanceAssociations",
    "ssm:DescribeAssociation",
    "ssm:UpdateAssociationStatus",
    "ssm:UpdateInstanceAssociationStatus",
    "ssm:GetDocument",
    "ssm:DescribeDocument",
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
    "ec2messages:AcknowledgeMessage",
    "ec2messages:DeleteMessage",
    "ec2messages:FailMessage",
    "ec2messages:GetEndpoint",
    "ec2messages:GetMessages",
    "ec2messages:SendReply",
)
LOG_GROUPS = "/perfenv/"


@dataclass(frozen=True, kw_only=True)
class InstanceRoleArgs:
    region: str
    artifact_kind: ArtifactKind
    artifact_uri: pulumi.Input[str]  # resolved: s3://bucket/key or an image reference
    exchange: list[str] = field(default_factory=list)  # s3://bucket/prefix/ read and written


class InstanceRole(pulumi.ComponentResource):
    role_name: pulumi.Output[str]
    profile_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: InstanceRoleArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("perfenv:infra:InstanceRole", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        role = pulumi_aws.iam.Role(
            f"{name}-role",
            assume_role_policy=json.dumps(_assume("ec2.amazonaws.com")),
            opts=child,
        )
        pulumi_aws.iam.RolePolicy(
            f"{name}-policy",
            role=role.name,
            policy=pulumi.Output.from_input(args.artifact_uri).apply(
                lambda uri: json.dumps(instance_policy(args, uri))
            ),
            opts=child,
        )
        profile = pulumi_aws.iam.InstanceProfile(f"{name}-profile", role=role.name, opts=child)
        self.role_name = role.name
        self.profile_arn = profile.arn
        self.register_outputs({"role_name": self.role_name, "profile_arn": self.profile_arn})


def _assume(service: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
        ],
    }


def _s3(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def instance_policy(args: InstanceRoleArgs, artifact_uri: str) -> dict[str, Any]:
    """The role's inline policy for the resolved artifact URI."""
    statements: list[dict[str, Any]] = [
        {
            "Sid": "SsmAgent",
            "Effect": "Allow",
            "Action": list(SSM_AGENT_ACTIONS),
            "Resource": "*",  # these calls take no resource (the agent acts as its instance)
        },
        {
            "Sid": "Metrics",
            "Effect": "Allow",
            "Action": "cloudwatch:PutMetricData",
            "Resource": "*",  # PutMetricData has no resource-level permissions
        },
        {
            "Sid": "Logs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": f"arn:aws:logs:{args.region}:*:log-group:{LOG_GROUPS}*",
        },
        *_artifact_statements(args.artifact_kind, artifact_uri),
    ]
    for index, prefix in enumerate(args.exchange):
        bucket, key = _s3(prefix)
        statements += [
            {
                "Sid": f"Exchange{index}",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject"],
                "Resource": f"arn:aws:s3:::{bucket}/{key}*",
            },
            _list(f"ExchangeList{index}", bucket, key),
        ]
    return {"Version": "2012-10-17", "Statement": statements}


def _artifact_statements(kind: ArtifactKind, uri: str) -> list[dict[str, Any]]:
    if kind == "container":
        ecr = ECR_IMAGE.match(uri)
        if ecr is None:  # a public registry needs no permission
            return []
        account, region = ecr.groups()
        repository = uri.split("/", 1)[1].split(":")[0].split("@")[0]
        return [
            {
                "Sid": "EcrToken",
                "Effect": "Allow",
                "Action": "ecr:GetAuthorizationToken",
                "Resource": "*",
            },
            {
                "Sid": "EcrPull",
                "Effect": "Allow",
                "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                "Resource": f"arn:aws:ecr:{region}:{account}:repository/{repository}",
            },
        ]
    bucket, key = _s3(uri)
    if kind == "tarball":
        return [_read("Artifact", f"arn:aws:s3:::{bucket}/{key}")]
    prefix = key.rsplit("/", 1)[0] + "/" if "/" in key else ""
    return [
        _read("Artifact", f"arn:aws:s3:::{bucket}/{prefix}*"),
        _list("ArtifactList", bucket, prefix),
    ]


def _read(sid: str, resource: str) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": "s3:GetObject", "Resource": resource}


def _list(sid: str, bucket: str, prefix: str) -> dict[str, Any]:
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Action": "s3:ListBucket",
        "Resource": f"arn:aws:s3:::{bucket}",
        "Condition": {"StringLike": {"s3:prefix": [f"{prefix}*"]}},
    }
