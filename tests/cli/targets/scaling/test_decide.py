"""Target tracking as EC2 Auto Scaling documents it: proportional and fast out, gradual in,
warm-up, cooldown, min/max, several policies, missing data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from perfenv.cli.targets.local.alarms.model import ALARM, INSUFFICIENT, OK, MetricStat
from perfenv.cli.targets.local.scaling.decide import (
    GroupView,
    Member,
    Reading,
    decide,
    to_terminate,
    warmup_s,
)
from perfenv.cli.targets.local.scaling.policies import TargetTracking

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
LONG_AGO = NOW - timedelta(hours=1)
CPU = TargetTracking(
    group="g",
    name="cpu",
    arn="arn:aws:autoscaling:eu-west-1:1:scalingPolicy:x:autoScalingGroupName/g:policyName/cpu",
    metric=MetricStat("AWS/EC2", "CPUUtilization", (("AutoScalingGroupName", "g"),), "Average", 10),
    target=50.0,
)
REQ = TargetTracking(
    group="g",
    name="requests",
    arn="arn:aws:autoscaling:eu-west-1:1:scalingPolicy:y:autoScalingGroupName/g:policyName/req",
    metric=MetricStat("AWS/ApplicationELB", "RequestCountPerTarget", (), "Sum", 10),
    target=1000.0,
)


def group(desired: int = 2, *, lo: int = 2, hi: int = 4, fresh: int = 0, **kw: object) -> GroupView:
    members = [
        Member(f"i-{n}", "eu-west-1a" if n % 2 else "eu-west-1b", "InService", LONG_AGO)
        for n in range(desired - fresh)
    ]
    members += [Member(f"i-new{n}", "eu-west-1a", "InService", NOW) for n in range(fresh)]
    return GroupView(name="g", min=lo, max=hi, desired=desired, members=tuple(members), **kw)  # type: ignore[arg-type]


def reading(
    policy: TargetTracking, value: float | None, basis: int, high: str = OK, low: str = OK
) -> Reading:
    return Reading(policy=policy, high_state=high, low_state=low, value=value, basis=basis)


def test_scale_out_is_proportional_and_rounds_up() -> None:
    decision = decide(group(2), [reading(CPU, 90.0, 2, high=ALARM)], NOW)
    assert decision is not None and decision.direction == "out"
    assert (decision.previous, decision.desired) == (2, 4)  # ceil(2 x 90 / 50) = 4
    assert decision.policy == "cpu" and decision.alarm.startswith("TargetTracking-g-AlarmHigh-")
    assert decision.cause == (
        f"At 2026-03-02T12:00:00Z a monitor alarm {decision.alarm} in state ALARM triggered"
        " policy cpu changing the desired capacity from 2 to 4."
    )


def test_scale_out_is_capped_at_max() -> None:
    decision = decide(group(2, hi=3), [reading(REQ, 5000.0, 2, high=ALARM)], NOW)
    assert decision is not None and decision.desired == 3


def test_request_count_per_target_scales_to_total_over_target() -> None:
    decision = decide(group(2), [reading(REQ, 1400.0, 2, high=ALARM)], NOW)
    assert decision is not None and decision.desired == 3  # 2800 requests / 1000 per target


def test_instances_warming_up_count_toward_the_desired_capacity() -> None:
    # 3 desired, one still warming; the same breach asks for 3 again: no second launch
    assert decide(group(3, fresh=1), [reading(REQ, 1400.0, 2, high=ALARM)], NOW) is None
    # a bigger breach adds only what is still missing
    decision = decide(group(3, fresh=1), [reading(REQ, 1800.0, 2, high=ALARM)], NOW)
    assert decision is not None and decision.desired == 4


def test_no_data_no_scaling() -> None:
    assert (
        decide(group(2), [reading(CPU, None, 2, high=INSUFFICIENT, low=INSUFFICIENT)], NOW) is None
    )
    assert decide(group(4), [reading(CPU, 10.0, 4, high=OK, low=INSUFFICIENT)], NOW) is None


def test_scale_in_rounds_so_it_never_removes_too_many() -> None:
    decision = decide(group(4), [reading(CPU, 30.0, 4, low=ALARM)], NOW)
    assert decision is not None and decision.direction == "in"
    assert (decision.previous, decision.desired) == (4, 3)  # ceil(4 x 30 / 50) = 3: remove 1
    assert decision.alarm.startswith("TargetTracking-g-AlarmLow-")


def test_scale_in_never_goes_below_min() -> None:
    assert decide(group(2), [reading(CPU, 1.0, 2, low=ALARM)], NOW) is None
    decision = decide(group(4, lo=3), [reading(CPU, 1.0, 4, low=ALARM)], NOW)
    assert decision is not None and decision.desired == 3


def test_scale_in_waits_for_warm_up_and_for_the_cooldown() -> None:
    readings = [reading(CPU, 10.0, 4, low=ALARM)]
    assert decide(group(4, fresh=1), readings, NOW) is None  # warming for 300 s (the cooldown)
    assert decide(group(4), readings, NOW, last_activity_end=NOW - timedelta(seconds=60)) is None
    assert decide(group(4), readings, NOW, last_activity_end=NOW - timedelta(seconds=301))
    warmed = group(4, default_warmup_s=0)  # with a default warm-up, no cooldown applies
    assert decide(warmed, readings, NOW, last_activity_end=NOW - timedelta(seconds=1))


def test_a_pending_instance_is_a_scale_out_in_progress() -> None:
    view = group(3)
    pending = GroupView(
        name="g",
        min=2,
        max=4,
        desired=3,
        members=(*view.members[:2], Member("i-p", "eu-west-1a", "Pending")),
    )
    assert decide(pending, [reading(CPU, 5.0, 2, low=ALARM)], NOW) is None


def test_several_policies_out_if_any_in_only_if_all_largest_capacity_wins() -> None:
    out = decide(group(2), [reading(CPU, 20.0, 2), reading(REQ, 1600.0, 2, high=ALARM)], NOW)
    assert out is not None and out.desired == 4 and out.policy == "requests"
    half = [reading(CPU, 10.0, 4, low=ALARM), reading(REQ, 900.0, 4, low=OK)]
    assert decide(group(4), half, NOW) is None
    both = [reading(CPU, 10.0, 4, low=ALARM), reading(REQ, 500.0, 4, low=ALARM)]
    decision = decide(group(4), both, NOW)
    assert decision is not None and decision.desired == 2 and decision.policy == "requests"


def test_a_policy_with_scale_in_disabled_does_not_hold_the_others_back() -> None:
    out_only = TargetTracking(**{**REQ.__dict__, "scale_in": False})
    decision = decide(
        group(4), [reading(CPU, 10.0, 4, low=ALARM), reading(out_only, 900.0, 4)], NOW
    )
    assert decision is not None and decision.desired == 2


def test_warmup_precedence() -> None:
    assert warmup_s(CPU, group()) == 300
    assert warmup_s(CPU, group(default_warmup_s=30)) == 30
    assert (
        warmup_s(TargetTracking(**{**CPU.__dict__, "warmup_s": 5}), group(default_warmup_s=30)) == 5
    )


def test_termination_balances_zones() -> None:
    view = GroupView(
        name="g",
        min=1,
        max=4,
        desired=3,
        members=(
            Member("i-1", "eu-west-1a", "InService", LONG_AGO),
            Member("i-2", "eu-west-1a", "InService", LONG_AGO),
            Member("i-3", "eu-west-1b", "InService", LONG_AGO),
        ),
    )
    assert [m.instance_id for m in to_terminate(view, 1)] == ["i-1"]
    assert [m.zone for m in to_terminate(view, 2)] == ["eu-west-1a", "eu-west-1a"]
