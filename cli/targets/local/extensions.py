"""What perfenv's emulator answers beyond moto: the truth about the stack's processes.

moto reports every registered target `healthy`. The emulator is our own process, so it can be
extended (docs/design.md#emulator-gaps-and-answers); every extension lives here, has a
test, and serves only states that happened:

- `POST /perfenv/target-health` (from a stack's controller): the states its balancer saw,
  `{"target_group_arn", "targets": {id: {"state", "reason", "description"}}}`;
- `elbv2 describe-target-health` answers those states for registered targets. A registered
  target no balancer has checked yet is `initial` (`Elb.RegistrationInProgress`); a target
  group no listener uses is `unused` (`Target.NotInUse`), as on AWS.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from typing import Any

PREFIX = "/perfenv/"
_lock = threading.Lock()
_target_health: dict[str, dict[str, dict[str, str]]] = {}  # target group ARN -> id -> state

REGISTERING = ("initial", "Elb.RegistrationInProgress", "Target registration is in progress")
NOT_IN_USE = (
    "unused",
    "Target.NotInUse",
    "Target group is not configured to receive traffic from the load balancer",
)


def report_target_health(target_group_arn: str, targets: dict[str, dict[str, str]]) -> None:
    with _lock:
        _target_health[target_group_arn] = {k: dict(v) for k, v in targets.items()}


def _seen(target_group_arn: str, target_id: str) -> tuple[str, str | None, str | None] | None:
    with _lock:
        group = _target_health.get(target_group_arn)
        if group is None:
            return None
        state = group.get(target_id)
    if state is None:
        return REGISTERING
    return state["state"], state.get("reason") or None, state.get("description") or None


def _patch_target_health() -> None:
    from moto.elbv2.models import FakeHealthStatus, FakeTargetGroup

    moto_health_for = FakeTargetGroup.health_for
    if getattr(moto_health_for, "perfenv", False):
        return

    def health_for(self: Any, target: dict[str, Any], ec2_backend: Any) -> Any:
        answer = moto_health_for(self, target, ec2_backend)
        if answer.status != "healthy":  # not registered, stopped...: moto's answer is true
            return answer
        seen = _seen(self.arn, target["Id"])
        if seen is None:
            seen = REGISTERING if self.load_balancer_arns else NOT_IN_USE
        return FakeHealthStatus(answer.instance_id, answer.port, answer.health_check_port, *seen)

    health_for.perfenv = True  # type: ignore[attr-defined]
    FakeTargetGroup.health_for = health_for  # type: ignore[method-assign]


Wsgi = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _routes(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "")
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = json.loads(environ["wsgi.input"].read(length) or b"{}")
        answer: dict[str, Any]
        if method == "POST" and path == PREFIX + "target-health":
            report_target_health(str(body["target_group_arn"]), dict(body["targets"]))
            status, answer = "200 OK", {"ok": True}
        else:
            status, answer = "404 Not Found", {"error": f"no {method} {path}"}
    except (ValueError, KeyError, TypeError) as exc:
        status, answer = "400 Bad Request", {"error": str(exc)}
    data = json.dumps(answer).encode()
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
    )
    return [data]


def install(moto_app: Wsgi) -> Wsgi:
    """Patch moto's models and return the WSGI app: perfenv's routes, then moto's."""
    from perfenv.cli.targets.local import state
    from perfenv.cli.targets.local.alarms import emulated as alarm_answers
    from perfenv.cli.targets.local.scaling import emulated as scaling_answers

    _patch_target_health()
    alarm_answers.install()  # alarm history, notifications, percentiles (ADR 0032)
    scaling_answers.install(state.stacks_dir())  # describe-scaling-activities

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").startswith(PREFIX):
            return _routes(environ, start_response)
        return moto_app(environ, start_response)

    return app
