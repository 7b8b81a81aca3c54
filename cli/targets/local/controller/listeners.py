"""The stack's listeners: one balancer process each, fed the registered targets of its target
group, polled for what it saw (target health, per-second counts), which goes to the emulator.
"""

from __future__ import annotations

import json
import sys
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from perfenv.cli.errors import InfraError
from perfenv.cli.targets.local import fleet
from perfenv.cli.targets.local.balancer.server import BalancerSpec
from perfenv.cli.targets.local.balancer.targets import (
    LEAST_OUTSTANDING,
    ROUND_ROBIN,
    HealthSettings,
)
from perfenv.cli.targets.local.controller.spec import ControllerSpec
from perfenv.cli.targets.local.state import BalancerRecord

READY_TIMEOUT_S = 20.0
CONTROL_TIMEOUT_S = 5.0
_MODULE = "perfenv.cli.targets.local.balancer"


@dataclass(frozen=True, kw_only=True)
class ListenerInfo:
    listener_arn: str
    load_balancer_arn: str
    target_group_arn: str
    port: int  # the listener's port on AWS (80, 443)
    balancer: BalancerSpec

    @property
    def load_balancer(self) -> str:
        """The `LoadBalancer` dimension: `app/<name>/<id>`."""
        return self.load_balancer_arn.split(":loadbalancer/", 1)[1]

    @property
    def target_group(self) -> str:
        """The `TargetGroup` dimension: `targetgroup/<name>/<id>`."""
        return self.target_group_arn.split(":", 5)[5]


def _forwarded_group(actions: list[dict[str, Any]]) -> str | None:
    for action in sorted(actions, key=lambda a: a.get("Order", 0)):
        if action.get("Type") != "forward":
            continue
        if action.get("TargetGroupArn"):
            return str(action["TargetGroupArn"])
        groups = (action.get("ForwardConfig") or {}).get("TargetGroups") or []
        if groups:
            return str(groups[0]["TargetGroupArn"])
    return None


def discover(elbv2: Any, spec: ControllerSpec, run_dir: Path) -> list[ListenerInfo]:
    """The stack's forwarding listeners, with their target groups' settings in local time."""
    if not spec.listeners:
        return []
    found: list[ListenerInfo] = []
    for listener in elbv2.describe_listeners(ListenerArns=spec.listeners)["Listeners"]:
        group_arn = _forwarded_group(listener.get("DefaultActions", []))
        if group_arn is None:  # a redirect or fixed response: nothing to balance
            continue
        group = elbv2.describe_target_groups(TargetGroupArns=[group_arn])["TargetGroups"][0]
        attributes = {
            a["Key"]: a["Value"]
            for a in elbv2.describe_target_group_attributes(TargetGroupArn=group_arn)["Attributes"]
        }
        algorithm = attributes.get("load_balancing.algorithm.type", "round_robin")
        health = HealthSettings(
            path=group.get("HealthCheckPath") or "/",
            interval_s=spec.scaled(float(group.get("HealthCheckIntervalSeconds", 30))),
            timeout_s=spec.scaled(float(group.get("HealthCheckTimeoutSeconds", 5))),
            healthy_threshold=int(group.get("HealthyThresholdCount", 5)),
            unhealthy_threshold=int(group.get("UnhealthyThresholdCount", 2)),
            matcher=(group.get("Matcher") or {}).get("HttpCode") or "200",
            enabled=bool(group.get("HealthCheckEnabled", True)),
        )
        index = len(found)
        found.append(
            ListenerInfo(
                listener_arn=listener["ListenerArn"],
                load_balancer_arn=listener["LoadBalancerArn"],
                target_group_arn=group_arn,
                port=int(listener.get("Port", 80)),
                balancer=BalancerSpec(
                    ready_file=str(run_dir / f"balancer{index}.ready.json"),
                    algorithm=LEAST_OUTSTANDING
                    if algorithm == "least_outstanding_requests"
                    else ROUND_ROBIN,
                    health=health,
                    deregistration_delay_s=spec.scaled(
                        float(attributes.get("deregistration_delay.timeout_seconds", 300))
                    ),
                ),
            )
        )
    return found


def start(info: ListenerInfo, run_dir: Path, stack: str) -> BalancerRecord:
    """Start the listener's balancer and wait until it listens."""
    ready = Path(info.balancer.ready_file)
    ready.unlink(missing_ok=True)
    spec_file = ready.with_name(ready.name.replace(".ready.json", ".spec.json"))
    spec_file.write_text(json.dumps(asdict(info.balancer)))
    log = ready.with_name(ready.name.replace(".ready.json", ".log"))
    proc = fleet.spawn([sys.executable, "-m", _MODULE, str(spec_file)], log, 0, stack)
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if ready.exists():
            data = json.loads(ready.read_text())
            return BalancerRecord(
                listener_arn=info.listener_arn,
                load_balancer_arn=info.load_balancer_arn,
                target_group_arn=info.target_group_arn,
                process=proc.model_copy(update={"port": int(data["port"])}),
                control_port=int(data["control_port"]),
            )
        if not fleet.alive(proc):
            raise InfraError(f"the balancer of {info.listener_arn} exited at start; see {log}")
        time.sleep(0.02)
    fleet.stop([proc])
    raise InfraError(
        f"the balancer of {info.listener_arn} did not listen within {READY_TIMEOUT_S}s"
    )


def control(record: BalancerRecord, method: str, path: str, body: Any = None) -> dict[str, Any]:
    """One call to a balancer's control endpoint."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        f"http://127.0.0.1:{record.control_port}{path}", data=data, method=method
    )
    with urllib.request.urlopen(request, timeout=CONTROL_TIMEOUT_S) as response:  # noqa: S310
        answer: dict[str, Any] = json.loads(response.read())
        return answer
