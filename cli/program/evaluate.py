"""Evaluate the infra program under Pulumi's mock monitor and record what it registered.

`evaluate(stack, stack_name, mocks)` runs `infra.program.build` with `pulumi.runtime.set_mocks`
and returns every resource in registration order (a valid creation order: a resource is
registered only once its parent and the resources its inputs depend on are), with its parent,
provider, inputs as the mock received them, the state the mock returned and its dependencies.
The Pulumi SDK keeps the program's runtime in module-level context variables, so one
evaluation runs at a time per process; evaluating several stacks one after the other in one
process works (each call installs a fresh root stack, config and monitor).

The default mocks (`PreviewMocks`) return generated ids, the inputs as state plus plausible
computed outputs (arn, dnsName, ...), and answer `getAvailabilityZones`. Callers with their own
mocks (the local target realizes resources in an emulator) pass them in: those are the mocks
called for every `new_resource` and `call`.

Traps for mock authors: a provider resource's inputs arrive JSON-encoded (`pulumi:providers:aws`
has `defaultTags` as the string `{"tags": {...}}`); numbers arrive as floats; Kubernetes objects
are autonamed, so a mock must return `metadata.name` (the program reads it back).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi.runtime
from pulumi.runtime import settings
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs, Mocks
from pulumi.runtime.settings import _get_rpc_manager
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from perfenv.infra.config import COST_KEY, ENVIRONMENT_KEY, RUN_KEY, TEAM_KEY, StackFile


@dataclass(frozen=True, kw_only=True)
class EvaluatedResource:
    urn: str
    type: str
    name: str
    parent: str | None
    custom: bool
    id: str | None
    provider: str | None  # provider reference "<provider urn>::<provider id>"
    inputs: dict[str, Any]  # as the mock received them (camelCase)
    state: dict[str, Any]  # what the mock returned
    dependencies: list[str]  # URNs this resource depends on (explicit + from its inputs)


@dataclass(frozen=True, kw_only=True)
class Evaluation:
    resources: list[EvaluatedResource]  # in registration order
    outputs: dict[str, Any]  # the stack's exports, resolved

    def of_type(self, type_: str) -> list[EvaluatedResource]:
        return [r for r in self.resources if r.type == type_]

    def by_urn(self) -> dict[str, EvaluatedResource]:
        return {r.urn: r for r in self.resources}


def stack_config(stack: StackFile) -> dict[str, str]:
    """The stack's `perfenv:*` config (JSON strings, as Pulumi holds config) plus `aws:region`."""
    config: dict[str, str] = {}
    if stack.environment is not None:
        config[ENVIRONMENT_KEY] = stack.environment.model_dump_json()
        config["aws:region"] = stack.environment.region
    if stack.cost is not None:
        config[COST_KEY] = stack.cost.model_dump_json()
        config["aws:region"] = stack.cost.region
    config[RUN_KEY] = stack.run.model_dump_json()
    if stack.team is not None:
        config[TEAM_KEY] = stack.team
    return config


def stack_region(stack: StackFile) -> str:
    if stack.environment is not None:
        return stack.environment.region
    assert stack.cost is not None
    return stack.cost.region


def evaluate(
    stack: StackFile,
    stack_name: str,
    mocks: pulumi.runtime.Mocks | None = None,
    *,
    stacks_dir: Path | None = None,
) -> Evaluation:
    """Run `infra.program.build(stack, stack_name)` under mocks; what it registered and exports.

    `stacks_dir` is where the cost stack finds the environment stack files (default: as
    `perfenv.infra.config.load_all`).
    """
    from perfenv.infra import program

    return run_under_mocks(
        lambda: program.build(stack, stack_name, stacks_dir=stacks_dir),
        stack_name=stack_name,
        config=stack_config(stack),
        mocks=mocks if mocks is not None else PreviewMocks(region=stack_region(stack)),
    )


def run_under_mocks(
    func: Callable[[], object],
    *,
    stack_name: str,
    mocks: pulumi.runtime.Mocks,
    config: dict[str, str] | None = None,
) -> Evaluation:
    """Run `func` (which creates resources) as a Pulumi program under `mocks`.

    `evaluate` is this with the infra program; tests use it to build one component.
    """
    recorder = _Recorder(mocks)
    monitor = _RecordingMonitor(recorder)
    settings.ROOT.set(None)  # a fresh root stack per evaluation
    # A failed earlier evaluation must not fail this one: drop its RPCs and pending outputs.
    _get_rpc_manager().clear()
    with settings.SETTINGS.lock:
        settings.SETTINGS.outputs.clear()
    pulumi.runtime.set_all_config(config or {})
    pulumi.runtime.set_mocks(
        recorder, project="perfenv", stack=stack_name, preview=False, monitor=monitor
    )
    exported: dict[str, Any] = {}

    async def run() -> None:
        func()
        root = settings.get_root_resource()
        outputs = dict(getattr(root, "outputs", {}))
        resolved = await pulumi.Output.from_input(outputs).future()
        exported.update(resolved or {})

    try:
        _sync_await(run_pulumi_func(run))
    finally:
        settings.ROOT.set(None)
    return Evaluation(resources=list(recorder.records), outputs=exported)


# --- recording -----------------------------------------------------------------------------


class _Recorder(Mocks):
    """Wraps the caller's mocks (still the ones called) and records each registration."""

    def __init__(self, inner: Mocks) -> None:
        self.inner = inner
        self.records: list[EvaluatedResource] = []
        self.lock = threading.Lock()
        self.local = threading.local()

    def call(self, args: MockCallArgs) -> Any:
        result = self.inner.call(args)
        if isinstance(result, tuple) and result[1] is None:  # the monitor iterates failures
            return result[0]
        return result

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[Any, Any]]:
        self.local.inputs = args.inputs
        return self.inner.new_resource(args)

    def register_transform(self, transform: Any) -> None:
        self.inner.register_transform(transform)

    def register_invoke_transform(self, transform: Any) -> None:
        self.inner.register_invoke_transform(transform)

    def record(self, request: Any, response: Any, state: dict[str, Any]) -> None:
        deps: dict[str, None] = dict.fromkeys(request.dependencies)
        for prop in request.propertyDependencies.values():
            deps.update(dict.fromkeys(prop.urns))
        deps.pop("", None)
        resource = EvaluatedResource(
            urn=response.urn,
            type=request.type,
            name=request.name,
            parent=request.parent or None,
            custom=bool(request.custom),
            id=response.id or None,
            provider=request.provider or None,
            inputs=dict(getattr(self.local, "inputs", {}) or {}),
            state=dict(state or {}),
            dependencies=list(deps),
        )
        with self.lock:
            self.records.append(resource)


class _RecordingMonitor(MockMonitor):
    """The SDK's mock monitor, plus what MockResourceArgs leaves out (parent, dependencies)."""

    def __init__(self, recorder: _Recorder) -> None:
        super().__init__(recorder)
        self.recorder = recorder

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - the gRPC method's name
        self.recorder.local.inputs = {}
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type != "pulumi:pulumi:Stack":
            self.recorder.record(request, response, self.resources[response.urn].state)
        return response


# --- default mocks -------------------------------------------------------------------------


def _fake_id(type_: str, name: str) -> str:
    digest = hashlib.sha1(f"{type_}/{name}".encode()).hexdigest()[:17]
    short = type_.rsplit(":", 1)[-1].lower()
    prefixes = {
        "vpc": "vpc",
        "subnet": "subnet",
        "securitygroup": "sg",
        "internetgateway": "igw",
        "natgateway": "nat",
        "eip": "eipalloc",
        "routetable": "rtb",
        "networkacl": "acl",
        "launchtemplate": "lt",
        "flowlog": "fl",
        "vpcendpoint": "vpce",
    }
    return f"{prefixes[short]}-{digest}" if short in prefixes else f"{name}-{digest[:8]}"


class PreviewMocks(Mocks):
    """Generated ids; inputs as state plus the computed outputs the program reads."""

    ACCOUNT = "123456789012"

    def __init__(self, region: str = "eu-west-1") -> None:
        self.region = region

    def call(self, args: MockCallArgs) -> tuple[dict[Any, Any], list[tuple[str, str]] | None]:
        if args.token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            names = [f"{self.region}{z}" for z in "abcdef"]
            ids = [f"{self.region[:2]}w1-az{i}" for i in range(1, 7)]
            return {"names": names, "zoneIds": ids, "id": self.region}, None
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": self.ACCOUNT, "arn": "", "userId": "", "id": self.ACCOUNT}, None
        if args.token == "aws:ssm/getParameter:getParameter":
            name = str(args.args.get("name"))
            ami = "ami-" + hashlib.sha1(name.encode()).hexdigest()[:17]
            return {"id": name, "name": name, "value": ami, "type": "String"}, None
        if args.token == "aws:index/getRegion:getRegion":
            return {"name": self.region, "region": self.region, "id": self.region}, None
        return {}, None

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[Any, Any]]:
        id_ = args.resource_id or _fake_id(args.typ, args.name)
        state = dict(args.inputs)
        service = args.typ.split(":")[1].split("/")[0] if ":" in args.typ else "x"
        if args.typ.startswith("aws:"):
            state.setdefault("arn", f"arn:aws:{service}:{self.region}:{self.ACCOUNT}:{id_}")
            state.setdefault("name", state.get("name") or id_)
        if args.typ == "aws:lb/loadBalancer:LoadBalancer":
            state["dnsName"] = f"{id_}.{self.region}.elb.amazonaws.com"
            state["arnSuffix"] = f"app/{args.name}/{id_[-8:]}"
            state["zoneId"] = "Z32O12XQLNTSW2"
        if args.typ == "aws:lb/targetGroup:TargetGroup":
            state["arnSuffix"] = f"targetgroup/{args.name}/{id_[-8:]}"
        if args.typ == "aws:ec2/vpcEndpoint:VpcEndpoint":
            state["prefixListId"] = f"pl-{id_[-8:]}"
        if args.typ == "aws:ec2/launchTemplate:LaunchTemplate":
            state["latestVersion"] = 1
        if args.typ.startswith("kubernetes:"):
            meta = dict(state.get("metadata") or {})
            meta.setdefault("name", f"{args.name}-{id_[-8:]}")
            state["metadata"] = meta
        return id_, state


def to_jsonable(value: Any) -> Any:
    """Inputs and state as plain JSON values (resource references become their URNs)."""
    return json.loads(json.dumps(value, default=str))
