"""Suite files (`suites/*.yaml`): the model, its one-line errors, and loading.

A suite is a request mix (or a locustfile, or a command) and its scenarios, whose shapes live
in `scenarios`. A scenario's `budgets` add to the suite's; one on the same metric and direction
replaces the suite's (a spike may allow a looser p95 than the steady load).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, PrivateAttr, ValidationError, field_validator, model_validator

from perfenv.cli.errors import BadInput
from perfenv.cli.verdict.budgets import Budget
from perfenv.cli.verdict.measurement import LoadPlan, RequestSpec
from perfenv.cli.verdict.scenarios import (
    KINDS,
    STEADY_KINDS,
    BudgetExpr,
    FrozenModel,
    Scenario,
    ScenarioBase,
)
from perfenv.infra.config import non_string_key
from perfenv.infra.files import read_text


class Request(FrozenModel):
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"] = "GET"
    path: str
    weight: int = Field(default=1, ge=1)
    name: str | None = None
    body: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)

    @field_validator("method", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("path")
    @classmethod
    def _absolute(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError(f"must start with / (got {value!r})")
        return value

    def spec(self) -> RequestSpec:
        return RequestSpec(
            method=self.method,
            path=self.path,
            weight=self.weight,
            name=self.name,
            body=self.body,
            headers=dict(self.headers),
        )


class Suite(FrozenModel):
    name: str = Field(min_length=1)
    engine: Literal["locust", "command"] = "locust"
    locustfile: Path | None = None
    command: str | tuple[str, ...] | None = None  # engine: command
    allowed_hosts: tuple[str, ...] = ()
    max_cost_usd: float | None = Field(default=None, gt=0)
    requests: tuple[Request, ...] = ()
    scenarios: tuple[Scenario, ...]
    budgets: tuple[BudgetExpr, ...] = ()
    repeat: int = Field(default=1, ge=1)  # runs of each steady scenario (`--repeat` overrides)

    _source: Path | None = PrivateAttr(default=None)

    @field_validator("scenarios")
    @classmethod
    def _unique_names(cls, value: tuple[ScenarioBase, ...]) -> tuple[ScenarioBase, ...]:
        if not value:
            raise ValueError("must not be empty: a suite needs at least one scenario")
        seen: set[str] = set()
        for scenario in value:
            if scenario.name in seen:
                raise ValueError(f"scenario name {scenario.name!r} is used twice")
            seen.add(scenario.name)
        return value

    @model_validator(mode="after")
    def _engine_needs(self) -> Suite:
        if self.engine == "command" and not self.command:
            raise ValueError("command: required when engine is command")
        if self.engine == "locust" and not self.requests and self.locustfile is None:
            raise ValueError("requests: required when engine is locust and there is no locustfile")
        return self

    @property
    def source(self) -> Path | None:
        """The file this suite was loaded from, if any."""
        return self._source

    def budgets_for(self, scenario: ScenarioBase) -> tuple[Budget, ...]:
        """The suite's budgets, with the scenario's added (same metric and direction: replaced)."""
        own = {(b.metric, b.op[0]) for b in scenario.budgets}
        kept = tuple(b for b in self.budgets if (b.metric, b.op[0]) not in own)
        return kept + tuple(scenario.budgets)

    def plan(
        self,
        scenario: ScenarioBase,
        base_url: str,
        *,
        workers: int = 0,
        pins: dict[str, tuple[str, ...]] | None = None,
    ) -> LoadPlan:
        return LoadPlan(
            scenario=scenario.name,
            base_url=base_url,
            rates=scenario.rates(),
            warmup_s=scenario.warmup_s,
            requests=tuple(r.spec() for r in self.requests),
            locustfile=self.locustfile,
            workers=workers,
            pins=dict(pins or {}),
            allowed_hosts=self.allowed_hosts,
        )


_TYPE_MESSAGES = {
    "extra_forbidden": "unknown key",
    "missing": "required",
    "union_tag_invalid": f"kind must be one of {', '.join(KINDS)}",
    "union_tag_not_found": f"kind is required: one of {', '.join(KINDS)}",
    "too_short": "must not be empty",
}


def _message(error: Any) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind in _TYPE_MESSAGES:
        return _TYPE_MESSAGES[kind]
    for key, word in (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<=")):
        if kind.startswith(("greater_than", "less_than")) and key in ctx:
            bound = ctx[key]
            return (
                f"must be {word} {bound:g}"
                if isinstance(bound, float)
                else f"must be {word} {bound}"
            )
    message: str = error["msg"]
    message = message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    return message[:1].lower() + message[1:]


def _location(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for i, item in enumerate(loc):
        if isinstance(item, int):
            parts[-1] = f"{parts[-1]}[{item}]" if parts else f"[{item}]"
        elif i == 2 and loc[0] == "scenarios" and item in KINDS:
            continue  # the discriminator's tag, not a field
        else:
            parts.append(str(item))
    return ".".join(parts)


def error_lines(source: str, exc: ValidationError) -> list[str]:
    """One `file: field: message` line per problem."""
    lines = []
    for error in exc.errors():
        where = _location(tuple(error["loc"]))
        lines.append(
            f"{source}: {where}: {_message(error)}" if where else f"{source}: {_message(error)}"
        )
    return lines


def _resolve(path: Path, suite_file: Path) -> Path | None:
    if path.is_absolute():
        return path if path.is_file() else None
    for base in (Path.cwd(), suite_file.parent, suite_file.parent.parent):
        if (base / path).is_file():
            return (base / path).resolve()
    return None


def parse_suite(data: Any, source: str = "suite") -> Suite:
    """Validate a parsed suite document; BadInput with one line per problem."""
    if not isinstance(data, dict):
        raise BadInput(f"{source}: expected a mapping of suite fields")
    try:
        return Suite.model_validate(data)
    except ValidationError as exc:
        raise BadInput("\n".join(error_lines(source, exc))) from None


def load_suite(path: Path) -> Suite:
    """The suite in `path`; BadInput (exit 2) naming file and field for anything wrong."""
    try:
        text = read_text(path)
    except UnicodeDecodeError:
        raise BadInput(f"{path}: cannot read suite: not UTF-8 text") from None
    except OSError as exc:
        raise BadInput(f"{path}: cannot read suite: {exc.strerror or exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        raise BadInput(f"{path}: not valid YAML{where}") from None
    except RecursionError:
        raise BadInput(f"{path}: not valid YAML (nested too deeply)") from None
    bad_key = non_string_key(data)
    if bad_key is not None:
        raise BadInput(f"{path}: {bad_key}: keys must be strings")
    suite = parse_suite(data, str(path))
    if suite.locustfile is not None:
        found = _resolve(suite.locustfile, path)
        if found is None:
            raise BadInput(f"{path}: locustfile: no such file: {suite.locustfile}")
        suite = suite.model_copy(update={"locustfile": found})
    suite._source = path
    return suite


def planned_duration_s(suite: Suite, *, repeat: int | None = None) -> float:
    """Seconds of planned load in the whole suite: steady scenarios `repeat` times (default the
    suite's), the others once."""
    times = max(1, suite.repeat if repeat is None else repeat)
    return float(
        sum(
            s.duration_s * (times if getattr(s, "kind", "load") in STEADY_KINDS else 1)
            for s in suite.scenarios
        )
    )
