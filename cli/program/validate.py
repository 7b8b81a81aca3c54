"""`perfenv validate`: every stack file (or the named ones), the cross-stack rules, the suites.

Each check returns `file: field: message` lines; `validate` runs them all and raises one
BadInput (exit 2) holding every line, so a user sees all problems at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from perfenv.cli.errors import BadInput
from perfenv.cli.project import root
from perfenv.infra.config import (
    ConfigError,
    StackFile,
    check_disjoint,
    default_stacks_dir,
    load_stack_file,
)

SUITES = "suites"  # the project's suites, beside its Pulumi.yaml


@dataclass(frozen=True, kw_only=True)
class Validation:
    stacks: list[StackFile] = field(default_factory=list)
    suites: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # advisory policy violations

    def rows(self) -> list[dict[str, str]]:
        return [
            {
                "file": _shown(s.path),
                "stack": s.stack,
                "kind": "environment" if s.environment else "cost",
            }
            for s in self.stacks
        ] + [{"file": _shown(p), "stack": "", "kind": "suite"} for p in self.suites]


@dataclass(kw_only=True)
class _Context:
    stacks_dir: Path
    names: Sequence[str]  # empty: every stack file
    suites_dir: Path
    policies: bool = False
    result: Validation = field(default_factory=Validation)


Check = Callable[[_Context], list[str]]


def stack_path(stacks_dir: Path, name: str) -> Path:
    """`dev` -> `<stacks_dir>/Pulumi.dev.yaml`; a path to a file stays itself."""
    candidate = Path(name)
    if candidate.suffix in (".yaml", ".yml") or candidate.parent != Path("."):
        return candidate
    return stacks_dir / f"Pulumi.{name}.yaml"


def check_stacks(ctx: _Context) -> list[str]:
    """Each stack file on its own, then the CIDRs of all environment stacks pairwise disjoint."""
    everything = sorted(ctx.stacks_dir.glob("Pulumi.*.yaml"))
    named = [stack_path(ctx.stacks_dir, n) for n in ctx.names] if ctx.names else everything
    lines: list[str] = []
    loaded: dict[Path, StackFile] = {}
    for path in dict.fromkeys([*named, *everything]):
        try:
            loaded[path.resolve()] = load_stack_file(path)
        except ConfigError as exc:
            if path in named:
                lines += exc.lines
    wanted = {p.resolve() for p in named}
    files = list(loaded.items())
    for i, (path_a, a) in enumerate(files):
        for path_b, b in files[i + 1 :]:
            # a named stack's overlap with any other stack is its problem too
            if not ctx.names or path_a in wanted or path_b in wanted:
                lines += check_disjoint([a, b])
    ctx.result.stacks.extend(loaded[p] for p in sorted(wanted) if p in loaded)
    return lines


def _shown(path: Path) -> str:  # as perfenv.infra.config shows file names
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def check_suites(ctx: _Context) -> list[str]:
    """Every suite under suites/ (only when no --stack narrows the run)."""
    if ctx.names or not ctx.suites_dir.is_dir():
        return []
    from perfenv.cli.verdict.suite import load_suite

    lines: list[str] = []
    for path in sorted([*ctx.suites_dir.glob("*.yaml"), *ctx.suites_dir.glob("*.yml")]):
        try:
            load_suite(path)
        except BadInput as exc:
            lines += str(exc).splitlines()
        else:
            ctx.result.suites.append(path)
    return lines


def check_policies(ctx: _Context) -> list[str]:
    """With `--policies`: the policy rules over each stack's evaluated program, and every
    environment's budget in the cost stack (evaluating takes seconds: opt-in)."""
    if not ctx.policies or not ctx.result.stacks:
        return []
    from perfenv.cli.program import policies
    from perfenv.cli.program.evaluate import evaluate

    lines: list[str] = []
    for stack in ctx.result.stacks:
        where = _shown(stack.path)
        evaluation = evaluate(stack, stack.stack, stacks_dir=ctx.stacks_dir)
        for violation in policies.violations(evaluation):
            shown = f"{where}: {violation.line()}"
            (lines if violation.mandatory else ctx.result.warnings).append(shown)
    every = [load_stack_file(p) for p in sorted(ctx.stacks_dir.glob("Pulumi.*.yaml"))]
    environments = [f for f in every if f.environment is not None]
    costs = [f for f in every if f.cost is not None]
    if not costs:
        return lines + [
            f"{_shown(f.path)}: policy {policies.CROSS_STACK_RULE}: no cost stack file in "
            f"{_shown(ctx.stacks_dir)} holds its budget"
            for f in environments
        ]
    cost = evaluate(costs[0], costs[0].stack, stacks_dir=ctx.stacks_dir)
    return lines + [
        f"{_shown(costs[0].path)}: {v.line()}" for v in policies.budget_coverage(cost, environments)
    ]


# Extend here: each check takes the context and returns `file: field: message` lines.
CHECKS: list[Check] = [check_stacks, check_suites, check_policies]


def validate(
    names: Sequence[str] = (),
    *,
    stacks_dir: Path | None = None,
    suites_dir: Path | None = None,
    policies: bool = False,
) -> Validation:
    """Run every check; BadInput (exit 2) with one line per problem."""
    ctx = _Context(
        stacks_dir=stacks_dir or default_stacks_dir(),
        names=list(names),
        suites_dir=suites_dir or root() / SUITES,
        policies=policies,
    )
    lines: list[str] = []
    for check in CHECKS:
        lines += check(ctx)
    if lines:
        raise BadInput("\n".join(lines))
    if not ctx.result.stacks:
        raise BadInput(f"{_shown(ctx.stacks_dir)}: (dir): no stack files (Pulumi.<stack>.yaml)")
    return ctx.result
