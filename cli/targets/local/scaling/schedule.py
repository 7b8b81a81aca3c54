"""Scheduled actions: a cron recurrence (minute hour day-of-month month day-of-week, in the
action's time zone, UTC by default) that sets a group's min, max and desired capacity.

As with cron, when both day-of-month and day-of-week are restricted a day matching either
matches; day-of-week counts 0 (or 7) as Sunday; names (JAN, MON) and `*/n`, `a-b/n`, lists work.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from perfenv.cli.targets.local.scaling.decide import GroupView, stamp

_MONTHS = "JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split()
_DAYS = "SUN MON TUE WED THU FRI SAT".split()
_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day of month", 1, 31), ("month", 1, 12))


class CronError(ValueError):
    pass


def _values(text: str, low: int, high: int, names: list[str], what: str) -> frozenset[int]:
    out: set[int] = set()
    for part in text.upper().split(","):
        body, _, step_text = part.partition("/")
        step = int(step_text) if step_text.isdigit() else 1
        if step_text and not step_text.isdigit() or step < 1:
            raise CronError(f"{what}: bad step in {part!r}")
        if body == "*":
            start, end = low, high
        else:
            first, _, last = body.partition("-")
            start = _number(first, names, low, what)
            end = _number(last, names, low, what) if last else (high if step_text else start)
        if not (low <= start <= high and low <= end <= high) or start > end:
            raise CronError(f"{what}: {part!r} is outside {low}-{high}")
        out.update(range(start, end + 1, step))
    return frozenset(out)


def _number(text: str, names: list[str], low: int, what: str) -> int:
    if text in names:
        return names.index(text) + low
    if not text.isdigit():
        raise CronError(f"{what}: {text!r} is not a number")
    return int(text)


@dataclass(frozen=True)
class Cron:
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    any_day: bool
    any_weekday: bool

    @classmethod
    def parse(cls, text: str) -> Cron:
        fields = text.split()
        if len(fields) != 5:
            raise CronError(
                f"recurrence {text!r}: expected 5 fields (minute hour day month weekday)"
            )
        found = [
            _values(f, lo, hi, _MONTHS if name == "month" else [], name)
            for f, (name, lo, hi) in zip(fields[:4], _FIELDS, strict=True)
        ]
        weekdays = _values(fields[4].replace("7", "0"), 0, 6, _DAYS, "day of week")
        minutes, hours, days, months = found
        return cls(minutes, hours, days, months, weekdays, fields[2] == "*", fields[4] == "*")

    def matches(self, at: datetime) -> bool:
        if at.minute not in self.minutes or at.hour not in self.hours:
            return False
        if at.month not in self.months:
            return False
        day_ok = at.day in self.days
        weekday_ok = (at.isoweekday() % 7) in self.weekdays
        if self.any_day or self.any_weekday:
            return day_ok and weekday_ok
        return day_ok or weekday_ok


@dataclass(frozen=True)
class ScheduledAction:
    name: str
    group: str
    cron: Cron
    time_zone: str = "Etc/UTC"
    min: int | None = None
    max: int | None = None
    desired: int | None = None

    @classmethod
    def from_aws(cls, item: Mapping[str, Any]) -> ScheduledAction:
        recurrence = item.get("Recurrence")
        if not recurrence:
            raise CronError(f"scheduled action {item.get('ScheduledActionName')}: no recurrence")
        return cls(
            name=str(item["ScheduledActionName"]),
            group=str(item["AutoScalingGroupName"]),
            cron=Cron.parse(str(recurrence)),
            time_zone=str(item.get("TimeZone") or "Etc/UTC"),
            min=item.get("MinSize"),
            max=item.get("MaxSize"),
            desired=item.get("DesiredCapacity"),
        )

    def due(self, since: datetime, now: datetime) -> datetime | None:
        """The latest minute in (since, now] the recurrence matches, or None."""
        zone = ZoneInfo(self.time_zone)
        minute = now.replace(second=0, microsecond=0)
        while minute > since:
            if self.cron.matches(minute.astimezone(zone)):
                return minute
            minute -= timedelta(minutes=1)
        return None


@dataclass(frozen=True)
class Update:
    """What a scheduled action sets, and the cause its activity gives."""

    min: int
    max: int
    desired: int
    previous: int
    cause: str


def apply(action: ScheduledAction, group: GroupView, at: datetime) -> Update:
    low = action.min if action.min is not None else group.min
    high = action.max if action.max is not None else group.max
    desired = action.desired if action.desired is not None else group.desired
    desired = max(low, min(high, desired))
    parts = [
        f"{k}: {v}"
        for k, v in (("min", action.min), ("max", action.max), ("desired", action.desired))
        if v is not None
    ]
    constraints = ", ".join(parts)
    cause = (
        f"At {stamp(at)} a scheduled action update of AutoScalingGroup constraints to {constraints}"
    )
    if desired != group.desired:
        cause += f" changing the desired capacity from {group.desired} to {desired}"
    return Update(min=low, max=high, desired=desired, previous=group.desired, cause=cause + ".")
