"""Pulumi mocks that realize each resource in the emulator, so ids and ARNs are the emulator's.

Used only by the worker process (it imports pulumi). Providers are recorded, not realized; the
aws provider's region and `defaultTags` apply to the resources that use it. Types without a
handler, and operations the emulator does not implement, are recorded as simulated.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable, Mapping
from typing import Any

import pulumi

from perfenv.cli.targets.local.invokes import INVOKES
from perfenv.cli.targets.local.realize import Clients, Ctx, RealizeError, error_code, handler_for
from perfenv.cli.targets.local.realize.base import ACCOUNT, random_hex
from perfenv.cli.targets.local.state import ResourceRecord

Record = Callable[[ResourceRecord], None]


class ResourceFailed(Exception):
    """Creating one resource failed; the message names it."""


def _provider_id(reference: str | None) -> str:
    return reference.rsplit("::", 1)[-1] if reference else ""


def _json(value: Any) -> Any:
    """Provider config arrives JSON-encoded for structured values."""
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


class EmulatorMocks(pulumi.runtime.Mocks):
    def __init__(
        self,
        endpoint: str,
        region: str,
        tags: Mapping[str, str],
        record: Record,
    ) -> None:
        self.stop = threading.Event()  # set: create nothing more (interrupted)
        self.clients = Clients(endpoint)
        self.region = region
        self.tags = dict(tags)
        self.record = record
        self._providers: dict[str, dict[str, Any]] = {}  # provider id -> region, default tags
        self._lock = threading.Lock()
        self._idle = threading.Condition()
        self._in_flight = 0

    # --- resources ----------------------------------------------------------------------------

    def new_resource(
        self, args: pulumi.runtime.MockResourceArgs
    ) -> tuple[str | None, dict[Any, Any]]:
        with self._idle:
            if self.stop.is_set():
                raise ResourceFailed(f"interrupted before creating {args.typ} {args.name}")
            self._in_flight += 1
        try:
            return self._new_resource(args)
        finally:
            with self._idle:
                self._in_flight -= 1
                self._idle.notify_all()

    def stop_creating(self, timeout_s: float) -> bool:
        """Create nothing more; wait for creates in flight (they get recorded). False on timeout."""
        with self._idle:
            self.stop.set()
            return self._idle.wait_for(lambda: self._in_flight == 0, timeout=timeout_s)

    def _new_resource(
        self, args: pulumi.runtime.MockResourceArgs
    ) -> tuple[str | None, dict[Any, Any]]:
        inputs = dict(args.inputs)
        if args.typ.startswith("pulumi:providers:"):
            return self._provider(args, inputs)
        if not args.custom:  # a component: nothing to realize
            return None, {}
        region, default_tags = self._scope(args.provider, inputs)
        handler = handler_for(args.typ)
        own = inputs.get("tags")  # a map, except on autoscaling groups (a list of tag blocks)
        tags = {**default_tags, **self.tags, **(own if isinstance(own, Mapping) else {})}
        if handler is None:
            return self._simulate(args, inputs, region, tags)
        ctx = Ctx(
            type=args.typ,
            name=args.name,
            region=region,
            tags=tags if handler.taggable else {},
            client_factory=self.clients,
        )
        try:
            id_, state = handler.create(ctx, inputs)
        except Exception as exc:
            if _not_implemented(exc):
                return self._simulate(args, inputs, region, tags)
            raise ResourceFailed(f"creating {args.typ} {args.name}: {_describe(exc)}") from None
        self.record(
            ResourceRecord(type=args.typ, name=args.name, id=id_, region=region, state=state)
        )
        return id_, state

    def _provider(
        self, args: pulumi.runtime.MockResourceArgs, inputs: dict[str, Any]
    ) -> tuple[str, dict[Any, Any]]:
        id_ = f"{args.name}-{random_hex(8)}"
        default_tags = _json(inputs.get("defaultTags")) or {}
        with self._lock:
            self._providers[id_] = {
                "region": inputs.get("region") or self.region,
                "tags": dict(default_tags.get("tags") or {})
                if isinstance(default_tags, dict)
                else {},
            }
        self.record(ResourceRecord(type=args.typ, name=args.name, id=id_, provider=True))
        return id_, inputs

    def _scope(self, provider: str | None, inputs: Mapping[str, Any]) -> tuple[str, dict[str, str]]:
        """(region, default tags) of the provider a resource or call uses."""
        with self._lock:
            config = self._providers.get(_provider_id(provider), {})
        region = inputs.get("region") or config.get("region") or self.region
        return str(region), dict(config.get("tags") or {})

    def _simulate(
        self,
        args: pulumi.runtime.MockResourceArgs,
        inputs: dict[str, Any],
        region: str,
        tags: dict[str, str],
    ) -> tuple[str, dict[Any, Any]]:
        state = dict(inputs)
        if args.typ.startswith("kubernetes:"):
            metadata = dict(inputs.get("metadata") or {})
            metadata.setdefault("name", f"{args.name}-{random_hex(8)}")
            state["metadata"] = metadata
            namespace = metadata.get("namespace")
            id_ = f"{namespace}/{metadata['name']}" if namespace else str(metadata["name"])
        else:
            id_ = f"{args.name}-{random_hex(12)}"
            service = args.typ.split(":")[1].split("/")[0]
            state.update(arn=f"arn:aws:{service}::{ACCOUNT}:{args.name}/{id_}", tagsAll=tags)
        state["id"] = id_
        self.record(
            ResourceRecord(
                type=args.typ, name=args.name, id=id_, region=region, simulated=True, state=state
            )
        )
        return id_, state

    # --- invokes ------------------------------------------------------------------------------

    def call(
        self, args: pulumi.runtime.MockCallArgs
    ) -> tuple[dict[Any, Any], list[tuple[str, str]] | None]:
        region, _ = self._scope(args.provider, args.args)
        handler = INVOKES.get(args.token)
        if handler is None:
            print(
                f"perfenv local: invoke {args.token} is not emulated; returning {{}}",
                file=sys.stderr,
            )
            return {}, None
        return handler(self.clients, region, dict(args.args)), None


def _not_implemented(exc: Exception) -> bool:
    if isinstance(exc, NotImplementedError):
        return True
    response = getattr(exc, "response", None)
    status = (
        response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if isinstance(response, dict)
        else None
    )
    return (
        status == 500 or "NotImplemented" in error_code(exc) or "not been implemented" in str(exc)
    )


def _describe(exc: Exception) -> str:
    if isinstance(exc, RealizeError):
        return str(exc)
    code = error_code(exc)
    return f"{code}: {exc}" if code else f"{type(exc).__name__}: {exc}"
