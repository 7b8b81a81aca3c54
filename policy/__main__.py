"""perfenv's policy pack: `pulumi up --policy-pack policy` (or the installed `perfenv/policy`).

Each rule of `rules.py` becomes a stack validation policy with the rule's enforcement. Pulumi
runs this file in the pack's own virtualenv (`requirements.txt`: pulumi-policy, whose protobuf
pin is older than perfenv's), where perfenv is not installed: `rules` is the module beside it.
Constructing the `PolicyPack` serves it (a gRPC server that blocks): perfenv and the tests call
the rule functions, never this file.
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import (  # type: ignore[import-not-found]
    EnforcementLevel,
    PolicyPack,
    ReportViolation,
    StackValidationArgs,
    StackValidationPolicy,
)

try:
    from perfenv.policy import rules  # perfenv installed beside the pack
except ImportError:  # the pack's own virtualenv: the module next to this file
    import rules  # type: ignore[import-not-found, no-redef]


def _resource(resource: Any) -> rules.Resource:
    provider = getattr(resource, "provider", None)
    return rules.Resource(
        type=resource.resource_type,
        name=resource.name,
        urn=resource.urn,
        props=dict(resource.props or {}),
        provider_props=dict(getattr(provider, "props", None) or {}),
    )


def _validate(rule: rules.Rule) -> Any:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        resources = [_resource(r) for r in args.resources]
        for resource, message in rule.check(resources):
            report_violation(message, None if resource is None else resource.urn)

    return validate


def policies() -> list[Any]:
    return [
        StackValidationPolicy(
            name=rule.name,
            description=rule.description,
            enforcement_level=(
                EnforcementLevel.MANDATORY if rule.mandatory else EnforcementLevel.ADVISORY
            ),
            validate=_validate(rule),
        )
        for rule in rules.RULES
    ]


PolicyPack(name="perfenv", enforcement_level=EnforcementLevel.MANDATORY, policies=policies())
