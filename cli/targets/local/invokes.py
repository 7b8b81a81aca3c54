"""The provider functions (invokes) the program calls, answered from the emulator.

A function without an entry here answers `{}` (the mocks say so on stderr).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from perfenv.cli.targets.local.realize import Clients


def _availability_zones(clients: Clients, region: str, args: dict[str, Any]) -> dict[str, Any]:
    zones = clients("ec2", region).describe_availability_zones()["AvailabilityZones"]
    return {
        "id": region,
        "names": [z["ZoneName"] for z in zones],
        "zoneIds": [z["ZoneId"] for z in zones],
        "groupNames": sorted({z.get("GroupName", region) for z in zones}),
        "region": region,
    }


def _region(clients: Clients, region: str, args: dict[str, Any]) -> dict[str, Any]:
    name = args.get("name") or args.get("region") or region
    return {
        "id": name,
        "name": name,
        "region": name,
        "endpoint": f"ec2.{name}.amazonaws.com",
        "description": name,
    }


def _caller_identity(clients: Clients, region: str, args: dict[str, Any]) -> dict[str, Any]:
    identity = clients("sts", region).get_caller_identity()
    return {
        "id": identity["Account"],
        "accountId": identity["Account"],
        "arn": identity["Arn"],
        "userId": identity["UserId"],
    }


def _partition(clients: Clients, region: str, args: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "aws",
        "partition": "aws",
        "dnsSuffix": "amazonaws.com",
        "reverseDnsPrefix": "com.amazonaws",
    }


def _policy_document(clients: Clients, region: str, args: dict[str, Any]) -> dict[str, Any]:
    """The JSON that `aws.iam.get_policy_document` renders from its statements."""

    def one_or_many(values: list[Any]) -> Any:
        return values[0] if len(values) == 1 else values

    statements = []
    for stmt in args.get("statements") or []:
        out: dict[str, Any] = {}
        if stmt.get("sid"):
            out["Sid"] = stmt["sid"]
        out["Effect"] = stmt.get("effect") or "Allow"
        for key, field in (
            ("actions", "Action"),
            ("notActions", "NotAction"),
            ("resources", "Resource"),
            ("notResources", "NotResource"),
        ):
            if stmt.get(key):
                out[field] = one_or_many(list(stmt[key]))
        for key, field in (("principals", "Principal"), ("notPrincipals", "NotPrincipal")):
            if stmt.get(key):
                out[field] = {p["type"]: one_or_many(list(p["identifiers"])) for p in stmt[key]}
        conditions: dict[str, dict[str, Any]] = {}
        for cond in stmt.get("conditions") or []:
            conditions.setdefault(cond["test"], {})[cond["variable"]] = one_or_many(
                list(cond["values"])
            )
        if conditions:
            out["Condition"] = conditions
        statements.append(out)
    document = {"Version": args.get("version") or "2012-10-17", "Statement": statements}
    text = json.dumps(document, indent=2)
    return {"id": str(abs(hash(text))), "json": text, "minifiedJson": json.dumps(document)}


def _ssm_parameter(clients: Clients, region: str, args: dict[str, Any]) -> dict[str, Any]:
    """A parameter's value from the emulator (moto holds AWS's public AMI parameters)."""
    name = str(args["name"])
    parameter = clients("ssm", region).get_parameter(
        Name=name, WithDecryption=bool(args.get("withDecryption", True))
    )["Parameter"]
    return {
        "id": name,
        "name": name,
        "arn": parameter.get("ARN", ""),
        "type": parameter.get("Type", "String"),
        "value": parameter["Value"],
        "insecureValue": parameter["Value"],
        "version": parameter.get("Version", 1),
        "withDecryption": bool(args.get("withDecryption", True)),
    }


INVOKES: dict[str, Callable[[Clients, str, dict[str, Any]], dict[str, Any]]] = {
    "aws:index/getAvailabilityZones:getAvailabilityZones": _availability_zones,
    "aws:index/getRegion:getRegion": _region,
    "aws:index/getCallerIdentity:getCallerIdentity": _caller_identity,
    "aws:index/getPartition:getPartition": _partition,
    "aws:iam/getPolicyDocument:getPolicyDocument": _policy_document,
    "aws:ssm/getParameter:getParameter": _ssm_parameter,
}
