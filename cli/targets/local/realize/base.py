"""What every per-type handler shares: the context, the registry, names, tags and numbers.

A handler is one create/delete pair for one Pulumi type token. `create` receives the
resource's inputs as the Pulumi engine sends them (camelCase keys, numbers as floats) and
returns the emulator's id plus the outputs to hand back to the program; `delete` receives the
id and the state that `create` returned and treats "not found" as already gone.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

ACCOUNT = "123456789012"  # the emulator's (moto's default) account
Inputs = Mapping[str, Any]
Outputs = dict[str, Any]
ClientFactory = Callable[[str, str], Any]  # (service, region) -> boto3 client


class RealizeError(Exception):
    """Creating a resource failed the way it would on AWS (bad name, bad reference...)."""


@dataclass(frozen=True, kw_only=True)
class Ctx:
    """One resource being realized (or deleted)."""

    type: str
    name: str  # logical name
    region: str
    tags: dict[str, str] = field(default_factory=dict)  # default tags + perfenv tags + own
    client_factory: ClientFactory

    def client(self, service: str, region: str | None = None) -> Any:
        return self.client_factory(service, region or self.region)


Create = Callable[[Ctx, Inputs], tuple[str, Outputs]]
Delete = Callable[[Ctx, str, Mapping[str, Any]], None]


@dataclass(frozen=True)
class Handler:
    create: Create
    delete: Delete
    taggable: bool = True


REGISTRY: dict[str, Handler] = {}


def register(create: Create, delete: Delete, *types: str, taggable: bool = True) -> None:
    for type_ in types:
        REGISTRY[type_] = Handler(create, delete, taggable)


# --- names ------------------------------------------------------------------------------------

_rand_lock = threading.Lock()


def random_hex(length: int) -> str:
    with _rand_lock:
        return os.urandom((length + 1) // 2).hex()[:length]


def physical_name(
    ctx: Ctx,
    inputs: Inputs,
    limit: int,
    key: str = "name",
    prefix_key: str | None = "namePrefix",
    separator: str = "-",
) -> str:
    """Pulumi autonaming: `<logical>-<7 hex>`, the logical part truncated to fit `limit`.

    An explicit name longer than the limit fails, as AWS would refuse it.
    """
    explicit = inputs.get(key)
    if explicit:
        name = str(explicit)
        if len(name) > limit:
            raise RealizeError(
                f"{key} {name!r} is {len(name)} characters; AWS allows at most {limit}"
            )
        return name
    if prefix_key and inputs.get(prefix_key):
        prefix = str(inputs[prefix_key])
        if len(prefix) >= limit:
            raise RealizeError(f"{prefix_key} {prefix!r} leaves no room within {limit} characters")
        return prefix + random_hex(min(26, limit - len(prefix)))
    suffix = separator + random_hex(7)
    return ctx.name[: limit - len(suffix)] + suffix


# --- values -----------------------------------------------------------------------------------


def to_int(value: Any, default: int | None = None) -> int | None:
    if value is None or value == "":
        return default
    return int(float(value))


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return list(value)
    return [value]


def compact(**kwargs: Any) -> dict[str, Any]:
    """Keyword arguments for boto3 without the ones that are unset."""
    return {k: v for k, v in kwargs.items() if v is not None and v != [] and v != {}}


def tag_list(
    tags: Mapping[str, str], key: str = "Key", value: str = "Value"
) -> list[dict[str, str]]:
    return [{key: k, value: str(v)} for k, v in sorted(tags.items())]


def ec2_tag_spec(resource_type: str, tags: Mapping[str, str]) -> list[dict[str, Any]]:
    if not tags:
        return []
    return [{"ResourceType": resource_type, "Tags": tag_list(tags)}]


def with_outputs(inputs: Inputs, ctx: Ctx, **outputs: Any) -> Outputs:
    """The state handed back to the program: its inputs, the computed outputs, tagsAll."""
    state = dict(inputs)
    if ctx.tags:
        state["tagsAll"] = dict(ctx.tags)
    state.update({k: v for k, v in outputs.items() if v is not None})
    return state


def error_code(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


_GONE_MARKERS = ("NotFound", "NoSuch", "NotExist", "DoesNotExist")


def gone(exc: BaseException, *codes: str) -> bool:
    """Whether a delete failed only because the resource is already gone."""
    code = error_code(exc)
    return code in codes or any(marker in code for marker in _GONE_MARKERS)


def ignore_gone(call: Callable[[], Any], *codes: str) -> None:
    from botocore.exceptions import ClientError

    try:
        call()
    except ClientError as exc:
        if not gone(exc, *codes):
            raise


def json_text(value: Any) -> str:
    """A policy or dashboard body: the program may give a JSON string or a structure."""
    return value if isinstance(value, str) else json.dumps(value)
