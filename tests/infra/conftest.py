"""Helpers for component tests: build under Pulumi mocks, query what was registered."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from perfenv.cli.program.evaluate import (
    EvaluatedResource,
    Evaluation,
    PreviewMocks,
    evaluate,
    run_under_mocks,
)
from perfenv.infra.config import StackFile, load_all, load_stack_file

REPO = Path(__file__).resolve().parents[2]
STACKS = REPO / "stacks"


def build(func: Callable[[], object], region: str = "eu-west-1") -> Evaluation:
    """Run `func` (which constructs components) as a program under the preview mocks."""
    return run_under_mocks(func, stack_name="test", mocks=PreviewMocks(region=region))


def stack_file(name: str) -> StackFile:
    return load_stack_file(STACKS / f"Pulumi.{name}.yaml")


def only(evaluation: Evaluation, type_: str) -> EvaluatedResource:
    found = evaluation.of_type(type_)
    assert len(found) == 1, f"expected one {type_}, found {len(found)}"
    return found[0]


def provider_tags(evaluation: Evaluation, resource: EvaluatedResource) -> dict[str, str]:
    """The default tags of the provider a resource is created through."""
    assert resource.provider is not None, f"{resource.name} has no explicit provider"
    provider_urn = resource.provider.rsplit("::", 1)[0]
    provider = evaluation.by_urn()[provider_urn]
    raw: Any = provider.inputs.get("defaultTags") or "{}"
    tags = json.loads(raw) if isinstance(raw, str) else raw
    return dict(tags.get("tags") or {})


@pytest.fixture(scope="session")
def shipped() -> dict[str, Evaluation]:
    """Every shipped stack file, evaluated once per session."""
    return {f.stack: evaluate(f, f.stack) for f in load_all(STACKS)}


@pytest.fixture(scope="session")
def shipped_files() -> dict[str, StackFile]:
    return {f.stack: f for f in load_all(STACKS)}
