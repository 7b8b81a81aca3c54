"""`perfenv parity`: does a perf stack match its reference (staging) in everything but scale?

Two stacks match when they build the same components and resource types and the same rules
(security group rules, NACL entries, routes, listeners, instance and volume settings, the alarm
set, Kubernetes policies), and their configs differ only in fields the config model marks as
scale. Both programs are evaluated under mocks, so parity judges what would be built, not
only what the config says.

One structural difference is allowed and named: isolation (`network.isolated`, docs/adr/0028).
When the two stacks differ in it, the candidate is evaluated a second time with the reference's
isolation; what differs only in the first comparison is isolation's doing and reported as
allowed, anything left is a difference.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from perfenv.cli.errors import BadInput, CheckFailed
from perfenv.infra.config import (
    EnvironmentConfig,
    StackFile,
    default_stacks_dir,
    load_stack_file,
    scale_fields,
)

# Fields that name an environment rather than shape it: they differ by design.
IDENTITY_FIELDS = frozenset({"name", "kind", "network.cidr", "kubernetes.namespace"})
ISOLATION = "isolation"  # the allowed structural difference
ISOLATION_FIELDS = frozenset({"network.isolated"})


@dataclass(frozen=True, kw_only=True)
class Difference:
    aspect: str  # config | component | resource type | rule
    item: str
    reference: str
    candidate: str


@dataclass(frozen=True, kw_only=True)
class ParityReport:
    reference: str
    candidate: str
    differences: list[Difference]
    allowed: list[Difference] = field(default_factory=list)  # isolation's, named

    @property
    def ok(self) -> bool:
        return not self.differences

    def rows(self) -> list[dict[str, str]]:
        """Every difference, then the allowed ones (aspect `isolation (allowed): ...`)."""
        return [
            {
                "aspect": d.aspect,
                "item": d.item,
                self.reference: d.reference,
                self.candidate: d.candidate,
            }
            for d in self.differences + self.allowed
        ]

    def summary(self) -> str:
        if not self.ok:
            return f"parity: {self.candidate} differs from {self.reference}"
        if not self.allowed:
            return f"parity: {self.candidate} matches {self.reference} (only scale fields differ)"
        return (
            f"parity: {self.candidate} matches {self.reference} but for {ISOLATION}, the allowed "
            f"structural difference ({len(self.allowed)} items; only scale fields differ besides)"
        )

    def columns(self) -> list[str]:
        return ["aspect", "item", self.reference, self.candidate]

    def lines(self) -> list[str]:
        return [
            f"parity: {d.aspect}: {d.item}: {self.reference} {d.reference}, "
            f"{self.candidate} {d.candidate}"
            for d in self.differences
        ]


# --- entry points ----------------------------------------------------------------------------


def resolve_stack(ref: str | Path, stacks_dir: Path | None = None) -> StackFile:
    """A stack name (`staging`) under the stacks dir, or a path to a stack file."""
    path = Path(ref)
    if path.suffix not in (".yaml", ".yml") and path.parent == Path("."):
        path = (stacks_dir or default_stacks_dir()) / f"Pulumi.{ref}.yaml"
    stack = load_stack_file(path)
    if stack.environment is None:
        raise BadInput(f"{path}: config: parity compares environment stacks, not the cost stack")
    return stack


def parity(
    reference: str | Path = "staging",
    candidate: str | Path = "perf",
    *,
    stacks_dir: Path | None = None,
) -> ParityReport:
    """Compare candidate against reference; the report lists every difference."""
    return compare(resolve_stack(reference, stacks_dir), resolve_stack(candidate, stacks_dir))


def check_parity(
    candidate: str | Path = "perf",
    reference: str | Path = "staging",
    *,
    stacks_dir: Path | None = None,
) -> ParityReport:
    """Like `parity`, but CheckFailed (exit 1) naming each difference when there are any."""
    report = parity(reference, candidate, stacks_dir=stacks_dir)
    if not report.ok:
        raise CheckFailed("\n".join(report.lines()))
    return report


def compare(reference: StackFile, candidate: StackFile) -> ParityReport:
    ref_env, cand_env = reference.environment, candidate.environment
    assert ref_env is not None and cand_env is not None
    ref_print = _fingerprint(reference)
    differences = _differences(ref_env, ref_print, candidate)
    allowed: list[Difference] = []
    if ref_env.network.isolated != cand_env.network.isolated:
        alike = _with_isolation(candidate, ref_env.network.isolated)
        remaining = _differences(ref_env, ref_print, alike)
        allowed = [
            Difference(
                aspect=f"{ISOLATION} (allowed): {d.aspect}",
                item=d.item,
                reference=d.reference,
                candidate=d.candidate,
            )
            for d in differences
            if d not in remaining
        ]
        differences = remaining
    return ParityReport(
        reference=reference.stack,
        candidate=candidate.stack,
        differences=differences,
        allowed=allowed,
    )


def _fingerprint(stack: StackFile) -> Any:
    from perfenv.cli.program.evaluate import evaluate
    from perfenv.cli.program.fingerprint import fingerprint

    assert stack.environment is not None
    return fingerprint(evaluate(stack, stack.stack).resources, stack.environment)


def _differences(
    ref_env: EnvironmentConfig, ref_print: Any, candidate: StackFile
) -> list[Difference]:
    cand_env = candidate.environment
    assert cand_env is not None
    cand_print = _fingerprint(candidate)
    differences = config_differences(ref_env, cand_env)
    for aspect, ref_items, cand_items in (
        ("component", ref_print.components, cand_print.components),
        ("resource type", ref_print.types, cand_print.types),
        ("rule", ref_print.rules, cand_print.rules),
    ):
        differences += _set_differences(aspect, ref_items, cand_items)
    return differences


def _with_isolation(stack: StackFile, isolated: bool) -> StackFile:
    """The stack as it would be with the other isolation (a hypothetical: not validated, since
    a perf environment may not be anything but isolated)."""
    env = stack.environment
    assert env is not None
    network = env.network.model_copy(update={"isolated": isolated, "nat": None})
    return stack.model_copy(update={"environment": env.model_copy(update={"network": network})})


def _set_differences(aspect: str, ref: set[str], cand: set[str]) -> list[Difference]:
    return [
        Difference(aspect=aspect, item=item, reference="has it", candidate="lacks it")
        for item in sorted(ref - cand)
    ] + [
        Difference(aspect=aspect, item=item, reference="lacks it", candidate="has it")
        for item in sorted(cand - ref)
    ]


# --- config ----------------------------------------------------------------------------------


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        flat: dict[str, Any] = {}
        for key, item in value.items():
            flat.update(_flatten(item, f"{prefix}{key}."))
        return flat
    return {prefix.rstrip("."): value}


def _ignored(path: str, ignore: Iterable[str]) -> bool:
    return any(path == p or path.startswith(f"{p}.") for p in ignore)


def config_differences(ref: EnvironmentConfig, cand: EnvironmentConfig) -> list[Difference]:
    """Fields that differ, other than scale and identity fields."""
    ignore = scale_fields(EnvironmentConfig) | IDENTITY_FIELDS
    ref_flat = _flatten(ref.model_dump(mode="json"))
    cand_flat = _flatten(cand.model_dump(mode="json"))
    return [
        Difference(
            aspect="config",
            item=path,
            reference=json.dumps(ref_flat.get(path)),
            candidate=json.dumps(cand_flat.get(path)),
        )
        for path in sorted(set(ref_flat) | set(cand_flat))
        if not _ignored(path, ignore) and ref_flat.get(path) != cand_flat.get(path)
    ]
