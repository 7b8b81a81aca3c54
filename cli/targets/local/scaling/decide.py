"""What EC2 Auto Scaling does with a group's target tracking policies in one period.

As its documentation states it:

- a policy whose AlarmHigh is in ALARM asks for capacity proportional to the metric,
  `ceil(value x instances it averages over / target)` (rounding up: never too few); the alarm
  invokes the policy again every period it stays in ALARM, so the group keeps scaling out;
- instances still warming up count toward the desired capacity, so repeated breaches during a
  warm-up do not launch twice; while any instance warms up, scale-in waits;
- with several policies the group scales out if any is ready to, scales in only if all (with
  scale-in enabled) are, and takes the policy that gives the largest capacity;
- scale-in needs AlarmLow in ALARM, so a missing datapoint (INSUFFICIENT_DATA) blocks it;
  AlarmHigh in INSUFFICIENT_DATA never scales out;
- a scale-in cannot start while a scale-out is in progress, nor, for a group without a default
  instance warm-up, within the default cooldown after the last activity ended;
- the desired capacity stays within min and max.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from perfenv.cli.targets.local.alarms.model import ALARM
from perfenv.cli.targets.local.scaling.policies import TargetTracking

DEFAULT_COOLDOWN_S = 300
IN_SERVICE = "InService"
PENDING = ("Pending", "Pending:Wait", "Pending:Proceed")


@dataclass(frozen=True)
class Member:
    instance_id: str
    zone: str
    lifecycle: str  # Pending | InService | Terminating ...
    in_service_at: datetime | None = None  # when it entered InService


@dataclass(frozen=True)
class GroupView:
    name: str
    min: int
    max: int
    desired: int
    members: tuple[Member, ...] = ()
    default_cooldown_s: int = DEFAULT_COOLDOWN_S
    default_warmup_s: int | None = None  # DefaultInstanceWarmup, when the group sets one

    def clamp(self, desired: int) -> int:
        return max(self.min, min(self.max, desired))


@dataclass(frozen=True)
class Reading:
    """One policy in one period: its two alarms' states and the metric's latest value."""

    policy: TargetTracking
    high_state: str
    low_state: str
    value: float | None  # the metric, from instances that are not warming up
    basis: int  # how many instances (or healthy targets) `value` is an average over


@dataclass(frozen=True)
class Decision:
    direction: str  # out | in
    previous: int
    desired: int
    policy: str
    alarm: str
    at: datetime

    @property
    def cause(self) -> str:
        return (
            f"At {stamp(self.at)} a monitor alarm {self.alarm} in state ALARM triggered policy"
            f" {self.policy} changing the desired capacity from {self.previous} to {self.desired}."
        )


def stamp(at: datetime) -> str:
    """Times as scaling activity causes write them: 2020-02-11T18:34:10Z."""
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def warmup_s(policy: TargetTracking, group: GroupView) -> int:
    """The policy's warm-up; else the group's default instance warm-up; else its cooldown."""
    if policy.warmup_s is not None:
        return policy.warmup_s
    if group.default_warmup_s is not None:
        return group.default_warmup_s
    return group.default_cooldown_s


def warming(group: GroupView, seconds: int, now: datetime) -> list[Member]:
    """Members launching, or in service for less than `seconds`."""
    return [
        m
        for m in group.members
        if m.lifecycle in PENDING
        or (
            m.lifecycle == IN_SERVICE
            and m.in_service_at is not None
            and now < m.in_service_at + timedelta(seconds=seconds)
        )
    ]


def needed(reading: Reading) -> int:
    """The capacity that brings the metric to the target (rounded up)."""
    assert reading.value is not None
    return math.ceil(reading.value * max(reading.basis, 1) / reading.policy.target - 1e-9)


def decide(
    group: GroupView,
    readings: Sequence[Reading],
    now: datetime,
    *,
    last_activity_end: datetime | None = None,
) -> Decision | None:
    """The scaling this period calls for, or None."""
    outs = [(needed(r), r) for r in readings if r.high_state == ALARM and r.value is not None]
    if outs:
        want, reading = max(outs, key=lambda pair: pair[0])
        desired = group.clamp(max(group.desired, want))
        if desired <= group.desired:
            return None
        return Decision(
            direction="out",
            previous=group.desired,
            desired=desired,
            policy=reading.policy.name,
            alarm=reading.policy.alarm_names[0],
            at=now,
        )
    return _scale_in(group, readings, now, last_activity_end)


def _scale_in(
    group: GroupView, readings: Sequence[Reading], now: datetime, last_end: datetime | None
) -> Decision | None:
    eligible = [r for r in readings if r.policy.scale_in]
    if not eligible or any(r.low_state != ALARM or r.value is None for r in eligible):
        return None
    if any(warming(group, warmup_s(r.policy, group), now) for r in eligible):
        return None  # a scale-out in progress, or instances still warming up
    if group.default_warmup_s is None and last_end is not None:
        if now < last_end + timedelta(seconds=group.default_cooldown_s):
            return None
    want, reading = max(((needed(r), r) for r in eligible), key=lambda pair: pair[0])
    desired = group.clamp(want)
    if desired >= group.desired:
        return None
    return Decision(
        direction="in",
        previous=group.desired,
        desired=desired,
        policy=reading.policy.name,
        alarm=reading.policy.alarm_names[1],
        at=now,
    )


def to_terminate(group: GroupView, count: int) -> list[Member]:
    """Which in-service members go on a scale-in, by the default termination policy: from the
    zone with the most instances each time (then, where AWS picks at random, by instance id)."""
    left = [m for m in group.members if m.lifecycle in (IN_SERVICE, *PENDING)]
    chosen: list[Member] = []
    for _ in range(min(count, len(left))):
        zones: dict[str, int] = {}
        for member in left:
            zones[member.zone] = zones.get(member.zone, 0) + 1
        busiest = max(zones.values())
        pick = min(
            (m for m in left if zones[m.zone] == busiest), key=lambda m: (m.zone, m.instance_id)
        )
        chosen.append(pick)
        left.remove(pick)
    return chosen
