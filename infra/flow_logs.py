"""FlowLogs: a VPC's flow logs, delivered to a CloudWatch log group with a retention."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws.cloudwatch
import pulumi_aws.ec2
import pulumi_aws.iam

DELIVERY_SERVICE = "vpc-flow-logs.amazonaws.com"


@dataclass(frozen=True, kw_only=True)
class FlowLogsArgs:
    vpc_id: pulumi.Input[str]
    retention_days: int


class FlowLogs(pulumi.ComponentResource):
    log_group_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: FlowLogsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("perfenv:infra:FlowLogs", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        log_group = pulumi_aws.cloudwatch.LogGroup(
            f"{name}-group", retention_in_days=args.retention_days, opts=child
        )
        role = pulumi_aws.iam.Role(
            f"{name}-role",
            assume_role_policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": DELIVERY_SERVICE},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
            opts=child,
        )
        pulumi_aws.iam.RolePolicy(
            f"{name}-policy",
            role=role.id,
            policy=log_group.arn.apply(_delivery_policy),
            opts=child,
        )
        pulumi_aws.ec2.FlowLog(
            f"{name}-log",
            vpc_id=args.vpc_id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=log_group.arn,
            iam_role_arn=role.arn,
            opts=child,
        )
        self.log_group_name = log_group.name
        self.register_outputs({"log_group_name": self.log_group_name})


def _delivery_policy(log_group_arn: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": [
                        "logs:CreateLogStream",
                        "logs:PutLogEvents",
                        "logs:DescribeLogGroups",
                        "logs:DescribeLogStreams",
                    ],
                    "Resource": [log_group_arn, f"{log_group_arn}:*"],
                }
            ],
        }
    )
