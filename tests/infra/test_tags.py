from __future__ import annotations

import unicodedata
from pathlib import Path

from perfenv.infra.config import RunConfig, StackFile
from perfenv.infra.tags import Tags, label_value, tag_value, team_of


def test_aws_tags_carry_project_environment_stack_release_owner() -> None:
    tags = Tags(environment="perf", stack="perf-1-4-2-abc123", run=RunConfig(release="1.4.2"))
    assert tags.aws == {
        "perfenv:project": "perfenv",
        "perfenv:environment": "perf",
        "perfenv:stack": "perf-1-4-2-abc123",
        "perfenv:release": "1.4.2",
        "perfenv:owner": "perfenv",
        "perfenv:team": "unassigned",
    }


def test_expiry_is_a_tag_and_an_annotation_only_when_set() -> None:
    run = RunConfig(release="1.4.2", owner="ci", expires_at="2026-11-27T18:00:00Z")
    tags = Tags(environment="perf", stack="perf-x", run=run)
    assert tags.aws["perfenv:expires-at"] == "2026-11-27T18:00:00Z"
    assert "perfenv.io/expires-at" not in tags.labels
    assert tags.annotations == {"perfenv.io/expires-at": "2026-11-27T18:00:00Z"}
    assert Tags(environment="dev", stack="dev").annotations == {}


def test_labels_are_valid_kubernetes_label_values() -> None:
    run = RunConfig(release="1.4.2+build/7", owner="Jane Doe <jane@example.com>")
    labels = Tags(environment="perf", stack="perf-x", run=run).labels
    assert labels["perfenv.io/release"] == "1.4.2-build-7"
    assert labels["perfenv.io/owner"] == "Jane-Doe-jane-example.com"
    assert len(label_value("x" * 100)) == 63
    assert label_value("-a-") == "a"


def test_team_is_the_runs_else_the_stack_files_else_unassigned() -> None:
    path = Path("Pulumi.perf.yaml")
    assert team_of(StackFile(stack="perf", path=path)) == "unassigned"
    assert team_of(StackFile(stack="perf", path=path, team="performance")) == "performance"
    run = RunConfig(release="1.4.2", team="payments")
    assert team_of(StackFile(stack="perf", path=path, team="performance", run=run)) == "payments"
    tags = Tags(environment="perf", stack="perf-x", run=run, team="payments")
    assert tags.aws["perfenv:team"] == "payments"
    assert tags.labels["perfenv.io/team"] == "payments"


def _aws_accepts(value: str) -> bool:
    """AWS's tag value rule, as IAM, ELB and the tagging API enforce it (moto does not):
    `[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*`, at most 256 characters."""
    allowed = set("_.:/=+-@")
    ok = (unicodedata.category(ch)[0] in "LZN" or ch in allowed for ch in value)
    return all(ok) and len(value) <= 256


def test_aws_tag_values_are_ones_aws_accepts_whatever_the_release_or_owner() -> None:
    # Git branch names may hold '#', '!', '(' ...: the tags get a safe form, reports the name.
    run = RunConfig(release="fix#12 (hot)!/ünï 1.2", owner="Jane Doe <jane@example.com>")
    tags = Tags(environment="perf", stack="perf-fix-12-abc123", run=run).aws
    assert tags["perfenv:release"] == "fix_12 _hot__/ünï 1.2"
    assert tags["perfenv:owner"] == "Jane Doe _jane@example.com_"
    assert all(_aws_accepts(v) for v in tags.values())
    assert len(tag_value("x" * 300)) == 256
    assert tag_value("release/1.2.3+build.7") == "release/1.2.3+build.7"  # already fine
