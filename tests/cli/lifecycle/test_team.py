"""A run's `perfenv:team`: `PERFENV_TEAM`, else the perf template's `perfenv:team`; a long-lived
stack's is its own file's."""

from __future__ import annotations

import pytest

from perfenv.cli.errors import BadInput
from perfenv.cli.lifecycle.checks import load_template
from perfenv.cli.lifecycle.naming import run_tags, with_run


def test_a_run_carries_perfenv_team_else_the_templates(monkeypatch: pytest.MonkeyPatch) -> None:
    template = load_template()
    monkeypatch.delenv("PERFENV_TEAM", raising=False)
    assert run_tags(template, "perf-1-abcdef", "1", "2030-01-01T00:00:00Z")["perfenv:team"] == (
        "performance"
    )
    monkeypatch.setenv("PERFENV_TEAM", "payments")
    tags = run_tags(template, "perf-1-abcdef", "1", "2030-01-01T00:00:00Z")
    assert tags["perfenv:team"] == "payments"
    assert with_run(template, "perf-1-abcdef", "1", None).run.team == "payments"
    # a long-lived stack (no expiry) is charged to its own file's team
    assert run_tags(template, "perf", "", None)["perfenv:team"] == "performance"


def test_a_bad_perfenv_team_is_bad_input(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERFENV_TEAM", "Team Rocket")
    with pytest.raises(BadInput, match="PERFENV_TEAM: 'Team Rocket' is not a team name"):
        run_tags(load_template(), "perf-1-abcdef", "1", "2030-01-01T00:00:00Z")
