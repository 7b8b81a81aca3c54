"""What perfenv's emulator answers for EC2 Auto Scaling where moto has no answer:
DescribeScalingActivities (moto always answers an empty list) from the activities the stacks'
autoscalers record: one JSON-lines file per stack, `<stacks dir>/<stack>/activities.jsonl`.

Installed into the emulator's own process; only activities that happened are served.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from perfenv.cli.targets.local.scaling.activities import ActivityLog

FILE = "activities.jsonl"
_originals: list[tuple[Any, str, Any]] = []


def activities(directory: Path, group: str | None, ids: list[str]) -> list[dict[str, Any]]:
    """Every recorded activity of `group` (all groups: None), in progress first, newest next."""
    found: list[dict[str, Any]] = []
    for path in sorted(directory.glob(f"*/{FILE}")):
        found += ActivityLog.read(path).describe(group, ids or None)
    found.sort(key=lambda a: ("EndTime" in a, -a["StartTime"].timestamp()))
    return found


def install(directory: Path) -> None:
    """Patch moto's Auto Scaling responses in this process (idempotent)."""
    if _originals:
        return
    from moto.autoscaling import responses
    from moto.core.responses import ActionResult

    def describe_scaling_activities(self: Any) -> ActionResult:
        found = activities(
            directory,
            self._get_param("AutoScalingGroupName"),
            self._get_param("ActivityIds", []),
        )
        limit = self._get_param("MaxRecords")
        return ActionResult({"Activities": found[: int(limit)] if limit else found})

    owner = responses.AutoScalingResponse
    _originals.append(
        (owner, "describe_scaling_activities", owner.__dict__.get("describe_scaling_activities"))
    )
    owner.describe_scaling_activities = describe_scaling_activities  # type: ignore[method-assign]


def uninstall() -> None:
    while _originals:
        owner, name, value = _originals.pop()
        setattr(owner, name, value)
