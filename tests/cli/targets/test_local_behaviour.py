"""Alarms that fire and autoscaling that runs on a real local stack, and the probe a failover
uses: the controller's period hooks, the emulator's answers, the lost process killed.
Time runs 10x (a 60 s period is 6 s)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from perfenv.cli.targets.local import LocalTarget, emulator, fleet, state
from tests.cli.targets.test_local_fleet import wait_for
from tests.cli.targets.test_local_target import aws, perf_config, tags_for

pytestmark = pytest.mark.slow
SCALE = 10.0


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("PERFENV_LOCAL_TIME_SCALE", str(SCALE))
    name = "perf-behave-bbbbbb"
    emulator.ensure_running()
    pid = int(emulator.status()["pid"])
    try:
        LocalTarget().up(name, perf_config(), tags_for(name), lambda line: None)
        yield name
    finally:
        LocalTarget().destroy(name, lambda line: None)
        fleet.terminate(pid)


def _group(endpoint: str, name: str) -> dict[str, Any]:
    found = aws(
        endpoint, "autoscaling", "describe-auto-scaling-groups", "--auto-scaling-group-names", name
    )
    group: dict[str, Any] = found["AutoScalingGroups"][0]
    return group


def test_alarms_are_evaluated_and_a_breach_scales_the_fleet_out(stack: str) -> None:
    endpoint = emulator.endpoint()
    assert endpoint is not None
    outputs = state.load(stack).outputs
    name = outputs["asg_name"]

    def states() -> dict[str, str]:
        alarms = aws(endpoint, "cloudwatch", "describe-alarms")["MetricAlarms"]
        return {a["AlarmName"]: a["StateValue"] for a in alarms}

    # The program's alarms and the two per target tracking policy, evaluated within periods.
    wait_for(lambda: sum(s == "OK" for s in states().values()) >= 5, 40)
    assert sum(n.startswith(f"TargetTracking-{name}-AlarmHigh-") for n in states()) == 2
    history = aws(endpoint, "cloudwatch", "describe-alarm-history")["AlarmHistoryItems"]
    assert any(i["HistorySummary"].endswith("from INSUFFICIENT_DATA to OK") for i in history)

    # A breach of the request-count target (published as the balancer would after a burst):
    # AlarmHigh fires after 3 periods, the group scales out, a third app process turns healthy.
    [tracking] = [
        a
        for a in aws(endpoint, "cloudwatch", "describe-alarms")["MetricAlarms"]
        if a.get("MetricName") == "RequestCountPerTarget" and "AlarmHigh" in a["AlarmName"]
    ]
    dims = " ".join(f"Name={d['Name']},Value={d['Value']}" for d in tracking["Dimensions"])
    deadline = time.monotonic() + 120  # 3 periods are 18 s; a loaded machine lags its loop
    while _group(endpoint, name)["DesiredCapacity"] < 3 and time.monotonic() < deadline:
        at = datetime.now(UTC).isoformat(timespec="seconds")
        aws(
            endpoint, "cloudwatch", "put-metric-data", "--namespace", "AWS/ApplicationELB",
            "--metric-data", f"MetricName=RequestCountPerTarget,Dimensions=[{{{dims}}}],"
            f"Value=5000,Timestamp={at},StorageResolution=1",
        )  # fmt: skip
        time.sleep(1)
    assert _group(endpoint, name)["DesiredCapacity"] >= 3

    def app_processes() -> int:  # the app group's instances the controller runs an app for
        members = {i["InstanceId"] for i in _group(endpoint, name)["Instances"]}
        return len(members & set(state.load_controller(stack).instances))  # type: ignore[union-attr]

    wait_for(lambda: app_processes() >= 3, 20)
    activities = aws(
        endpoint, "autoscaling", "describe-scaling-activities", "--auto-scaling-group-name", name
    )["Activities"]
    launch = activities[-1]
    assert launch["Description"].startswith("Launching a new EC2 instance: i-")
    assert f"a monitor alarm TargetTracking-{name}-AlarmHigh-" in launch["Cause"]
    assert "changing the desired capacity from 2 to" in launch["Cause"]


def test_a_failover_kills_the_lost_process_and_a_replacement_comes_in(stack: str) -> None:
    probe = LocalTarget().probe(stack)
    assert probe is not None and len(probe.groups) == 1
    before = state.load_controller(stack)
    assert before is not None
    probe.interval_s = 0.2
    probe.begin(failover=True, fail_at=0.0)
    wait_for(lambda: probe.lost is not None, 10)
    lost = probe.lost
    assert lost is not None
    wait_for(lambda: fleet.start_time(before.instances[lost].pid) is None, 5)  # SIGKILLed
    wait_for(lambda: probe.replaced_at is not None, 30)
    events = probe.end()
    assert events.stopped_sending_at is not None and events.lost_at is not None
    assert events.stopped_sending_at - events.lost_at <= 1.5 * 3 + 1.5 + 1  # interval x 3 + 1
    endpoint = emulator.endpoint()
    assert endpoint is not None
    gone = aws(endpoint, "ec2", "describe-instances", "--instance-ids", lost)["Reservations"]
    assert gone[0]["Instances"][0]["State"]["Name"] == "terminated"
    activities = aws(endpoint, "autoscaling", "describe-scaling-activities")["Activities"]
    assert any(
        "EC2 health check indicating it has been terminated" in a["Cause"] for a in activities
    )
    assert any("unhealthy instance needing to be replaced" in a["Cause"] for a in activities)
