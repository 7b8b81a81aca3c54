"""IAM roles, inline and managed policies, attachments and instance profiles (global)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from perfenv.cli.targets.local.realize.base import (
    Ctx,
    Inputs,
    Outputs,
    compact,
    ignore_gone,
    json_text,
    physical_name,
    random_hex,
    register,
    tag_list,
    to_int,
    with_outputs,
)


def create_role(ctx: Ctx, inputs: Inputs) -> tuple[str, Outputs]:
    name = physical_name(ctx, inputs, limit=64)
    iam = ctx.client("iam")
    role = iam.create_role(
        **compact(
            RoleName=name,
            AssumeRolePolicyDocument=json_text(inputs["assumeRolePolicy"]),
            Path=inputs.get("path"),
            Description=inputs.get("description"),
            MaxSessionDuration=to_int(inputs.get("maxSessionDuration")),
            Tags=tag_list(ctx.tags),
        )
    )["Role"]
    for arn in inputs.get("managedPolicyArns") or []:
        iam.attach_role_policy(RoleName=name, PolicyArn=arn)
    return name, with_outputs(
        inputs, ctx, id=name, name=name, arn=role["Arn"], uniqueId=role.get("RoleId")
    )


def delete_role(ctx: Ctx, id_: str, state: Mapping[str, Any]) -> None:
    from botocore.exceptions import ClientError

    iam = ctx.client("iam")
    try:  # AWS refuses to delete a role that still has policies or profiles
        for policy in iam.list_role_policies(RoleName=id_)["PolicyNames"]:
            iam.delete_role_policy(RoleName=id_, PolicyName=policy)
        for attached in iam.list_attached_role_policies(RoleName=id_)["AttachedPolicies"]:
            iam.detach_role_policy(RoleName=id_, PolicyArn=attached["PolicyArn"])
        for profile in iam.list_instance_profiles_for_role(RoleName=id_)["InstanceProfiles"]:
            iam.remove_role_from_instance_profile(
                InstanceProfileName=profile["InstanceProfileName"], RoleName=id_
            )
    except ClientError as exc:
        if "NoSuchEntity" in str(exc):
            return
        raise
    ignore_gone(lambda: iam.delete_role(RoleName=id_))


def create_role_policy(ctx: Ctx, inputs: Inputs) -> tuple[str, Outputs]:
    name = physical_name(ctx, inputs, limit=128)
    role = inputs["role"]
    ctx.client("iam").put_role_policy(
        RoleName=role, PolicyName=name, PolicyDocument=json_text(inputs["policy"])
    )
    id_ = f"{role}:{name}"
    return id_, with_outputs(inputs, ctx, id=id_, name=name)


def delete_role_policy(ctx: Ctx, id_: str, state: Mapping[str, Any]) -> None:
    role, name = id_.split(":", 1)
    ignore_gone(lambda: ctx.client("iam").delete_role_policy(RoleName=role, PolicyName=name))


def create_policy(ctx: Ctx, inputs: Inputs) -> tuple[str, Outputs]:
    name = physical_name(ctx, inputs, limit=128)
    policy = ctx.client("iam").create_policy(
        **compact(
            PolicyName=name,
            PolicyDocument=json_text(inputs["policy"]),
            Path=inputs.get("path"),
            Description=inputs.get("description"),
            Tags=tag_list(ctx.tags),
        )
    )["Policy"]
    arn = policy["Arn"]
    return arn, with_outputs(inputs, ctx, id=arn, arn=arn, name=name, policyId=policy["PolicyId"])


def delete_policy(ctx: Ctx, id_: str, state: Mapping[str, Any]) -> None:
    ignore_gone(lambda: ctx.client("iam").delete_policy(PolicyArn=id_))


def create_attachment(ctx: Ctx, inputs: Inputs) -> tuple[str, Outputs]:
    ctx.client("iam").attach_role_policy(RoleName=inputs["role"], PolicyArn=inputs["policyArn"])
    id_ = f"{inputs['role']}-{random_hex(20)}"
    return id_, with_outputs(inputs, ctx, id=id_)


def delete_attachment(ctx: Ctx, id_: str, state: Mapping[str, Any]) -> None:
    ignore_gone(
        lambda: ctx.client("iam").detach_role_policy(
            RoleName=state["role"], PolicyArn=state["policyArn"]
        )
    )


def create_instance_profile(ctx: Ctx, inputs: Inputs) -> tuple[str, Outputs]:
    name = physical_name(ctx, inputs, limit=128)
    iam = ctx.client("iam")
    profile = iam.create_instance_profile(
        **compact(InstanceProfileName=name, Path=inputs.get("path"), Tags=tag_list(ctx.tags))
    )["InstanceProfile"]
    if inputs.get("role"):
        iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=inputs["role"])
    return name, with_outputs(
        inputs,
        ctx,
        id=name,
        name=name,
        arn=profile["Arn"],
        uniqueId=profile.get("InstanceProfileId"),
    )


def delete_instance_profile(ctx: Ctx, id_: str, state: Mapping[str, Any]) -> None:
    iam = ctx.client("iam")
    if state.get("role"):
        ignore_gone(
            lambda: iam.remove_role_from_instance_profile(
                InstanceProfileName=id_, RoleName=state["role"]
            )
        )
    ignore_gone(lambda: iam.delete_instance_profile(InstanceProfileName=id_))


register(create_role, delete_role, "aws:iam/role:Role")
register(create_role_policy, delete_role_policy, "aws:iam/rolePolicy:RolePolicy", taggable=False)
register(create_policy, delete_policy, "aws:iam/policy:Policy")
register(
    create_attachment,
    delete_attachment,
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    taggable=False,
)
register(
    create_instance_profile, delete_instance_profile, "aws:iam/instanceProfile:InstanceProfile"
)
