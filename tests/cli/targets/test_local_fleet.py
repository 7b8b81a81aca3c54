"""The perf stack behaves on the local target: the fleet at its desired size behind a real
balancer, replaced when an instance is lost, the truth in the emulator, metrics in its
CloudWatch, and nothing left after destroy. Time runs 10x (health checks every 1.5 s).
"""

from __future__ import annotations

import json
import os
import signal
import time
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from perfenv.cli.targets.local import LocalTarget, emulator, fleet, state
from perfenv.cli.targets.local.controller import listeners as listener_ops
from tests.cli.targets.test_local_target import aws, client, perf_config, tags_for

# timing: it judges how fast the stack reacts in wall-clock seconds, so it runs alone in make test.
pytestmark = [pytest.mark.slow, pytest.mark.timing]
SCALE = 10.0  # interval 15 s -> 1.5 s; unhealthy after 3, healthy after 2; grace 120 s -> 12 s
INTERVAL_S, UNHEALTHY, HEALTHY = 15 / SCALE, 3, 2


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("PERFENV_LOCAL_TIME_SCALE", str(SCALE))
    name = "perf-fleet-aaaaaa"
    emulator.ensure_running()
    pid = int(emulator.status()["pid"])
    try:
        LocalTarget().up(name, perf_config(), tags_for(name), lambda line: None)
        yield name
    finally:
        LocalTarget().destroy(name, lambda line: None)
        fleet.terminate(pid)


def started_at(pid: int) -> float:
    """When a process started (epoch seconds), from /proc."""
    boot = next(
        float(line.split()[1])
        for line in Path("/proc/stat").read_text().splitlines()
        if line.startswith("btime ")
    )
    return boot + int(fleet.start_time(pid) or 0) / os.sysconf("SC_CLK_TCK")


def app_pids(stack: str) -> list[int]:
    return [
        pid
        for pid in fleet.marked(stack)
        if b"perfenv.examples.service" in Path(f"/proc/{pid}/cmdline").read_bytes()
    ]


def target_health(endpoint: str, group: str) -> dict[str, str]:
    answer = aws(endpoint, "elbv2", "describe-target-health", "--target-group-arn", group)
    return {
        d["Target"]["Id"]: d["TargetHealth"]["State"] for d in answer["TargetHealthDescriptions"]
    }


def fast_health(endpoint: str, group: str) -> dict[str, str]:
    """The same answer through boto3: the AWS CLI takes seconds to start on a busy machine,
    which would be counted against the balancer in the timed waits."""
    answer = client("elbv2", endpoint).describe_target_health(TargetGroupArn=group)
    return {
        d["Target"]["Id"]: d["TargetHealth"]["State"] for d in answer["TargetHealthDescriptions"]
    }


def in_service(endpoint: str, name: str) -> list[str]:
    groups = aws(
        endpoint, "autoscaling", "describe-auto-scaling-groups", "--auto-scaling-group-names", name
    )["AutoScalingGroups"]
    return sorted(
        i["InstanceId"] for i in groups[0]["Instances"] if i["LifecycleState"] == "InService"
    )


def wait_for(condition: Callable[[], Any], timeout_s: float) -> float:
    """Seconds until `condition()` is true; fails after `timeout_s`."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < timeout_s, "timed out"
        time.sleep(0.1)
    return time.monotonic() - started


def test_the_fleet_keeps_its_size_behind_the_balancer_and_the_emulator_tells_the_truth(
    stack: str,
) -> None:
    endpoint = emulator.endpoint()
    assert endpoint is not None
    outputs = state.load(stack).outputs
    controller = state.load_controller(stack)
    assert controller is not None and controller.status == "ready"
    balancer = controller.balancers[0]
    group = balancer.target_group_arn

    # App processes == in-service instances == desired (2), all healthy, behind service_url.
    instances = in_service(endpoint, outputs["asg_name"])
    assert len(instances) == 2 and len(app_pids(stack)) == 2
    assert sorted(controller.instances) == instances
    assert target_health(endpoint, group) == dict.fromkeys(instances, "healthy")
    assert outputs["service_url"] == f"http://127.0.0.1:{balancer.process.port}"

    # 100 sequential requests: round robin, 50 each.
    started = datetime.now(UTC)
    for _ in range(100):
        with urllib.request.urlopen(f"{outputs['service_url']}/items?latency_ms=0", timeout=5):
            pass
    served = []
    for proc in controller.instances.values():
        with urllib.request.urlopen(f"http://127.0.0.1:{proc.port}/admin/stats", timeout=5) as r:
            served.append(json.loads(r.read())["requests"]["/items"])
    assert all(abs(n - 50) <= 1 for n in served), served

    # An instance terminated by hand: its process stops, its target goes, and a replacement
    # instance and process are in service and healthy.
    lost = instances[0]
    lost_pid = controller.instances[lost].pid
    terminated = time.monotonic()
    aws(endpoint, "ec2", "terminate-instances", "--instance-ids", lost)
    wait_for(lambda: fleet.start_time(lost_pid) is None, 5)
    wait_for(lambda: fast_health(endpoint, group).get(lost, "gone") in ("unhealthy", "gone"), 10)
    assert time.monotonic() - terminated <= INTERVAL_S * UNHEALTHY + INTERVAL_S

    def replacements() -> list[str]:
        current = state.load_controller(stack)
        return [i for i in (current.instances if current else {}) if i not in instances]

    wait_for(replacements, 10)
    (replacement,) = replacements()
    wait_for(lambda: fast_health(endpoint, group).get(replacement) == "healthy", 20)
    assert target_health(endpoint, group) == {instances[1]: "healthy", replacement: "healthy"}
    # Healthy within the healthy threshold of its process's start, by the balancer's own clock.
    seen = listener_ops.control(balancer, "GET", "/state")["targets"][replacement]
    app = state.load_controller(stack).instances[replacement]  # type: ignore[union-attr]
    assert (
        seen["state"] == "healthy" and seen["since"] - started_at(app.pid) <= HEALTHY * INTERVAL_S
    )
    assert sorted(in_service(endpoint, outputs["asg_name"])) == sorted([instances[1], replacement])
    assert len(app_pids(stack)) == 2

    # An app process that dies (its instance still running) fails its health checks, and
    # the group (HealthCheckType ELB, past its grace period) replaces the instance.
    survivor = instances[1]
    os.kill(state.load_controller(stack).instances[survivor].pid, signal.SIGKILL)  # type: ignore[union-attr]
    wait_for(lambda: fast_health(endpoint, group).get(survivor, "gone") != "healthy", 10)
    wait_for(lambda: survivor not in in_service(endpoint, outputs["asg_name"]), 20)
    wait_for(lambda: sorted(fast_health(endpoint, group).values()) == ["healthy", "healthy"], 20)
    assert len(app_pids(stack)) == 2

    # The metrics are in the emulator's CloudWatch, in AWS's namespaces and dimensions.
    cloudwatch = client("cloudwatch", endpoint)
    lb_dim = [
        {"Name": "LoadBalancer", "Value": balancer.load_balancer_arn.split(":loadbalancer/")[1]}
    ]

    def total(namespace: str, name: str, dims: list[dict[str, str]], stat: str = "Sum") -> float:
        points = cloudwatch.get_metric_statistics(
            Namespace=namespace,
            MetricName=name,
            Dimensions=dims,
            StartTime=started - timedelta(minutes=1),
            EndTime=datetime.now(UTC) + timedelta(minutes=1),
            Period=1,
            Statistics=[stat],
        )["Datapoints"]
        values = [float(p[stat]) for p in points]
        return (max(values) if stat == "Maximum" else sum(values)) if values else -1.0

    wait_for(lambda: total("AWS/ApplicationELB", "RequestCount", lb_dim) >= 100, 15)
    asg = [{"Name": "AutoScalingGroupName", "Value": outputs["asg_name"]}]
    assert total("AWS/AutoScaling", "GroupInServiceInstances", asg, "Maximum") == 2
    assert (
        total(
            "AWS/EC2", "CPUUtilization", [{"Name": "InstanceId", "Value": survivor}], "SampleCount"
        )
        > 0
    )
    assert total("AWS/ApplicationELB", "TargetResponseTime", lb_dim, "SampleCount") >= 100

    # Destroy stops every process of the stack; only terminated instances stay tagged.
    LocalTarget().destroy(stack, lambda line: None)
    assert fleet.marked(stack) == []
    assert LocalTarget().leftovers(stack) == []


def test_an_up_interrupted_while_the_fleet_starts_leaves_no_process_behind(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PERFENV_LOCAL_TIME_SCALE", str(SCALE))
    name = "perf-fleet-ctrlc"
    emulator.ensure_running()
    pid = int(emulator.status()["pid"])

    def interrupt(line: str) -> None:
        if line.startswith("starting the fleet"):  # the controller is running
            raise KeyboardInterrupt  # what the CLI's SIGINT handling raises mid-step

    try:
        with pytest.raises(KeyboardInterrupt):
            LocalTarget().up(name, perf_config(), tags_for(name), interrupt)
        assert fleet.marked(name) == []  # controller, balancer and apps all stopped
        assert state.load(name).status == "failed"
        LocalTarget().destroy(name, lambda line: None)
        assert LocalTarget().leftovers(name) == []
    finally:
        fleet.stop_stack(name, [])
        fleet.terminate(pid)
