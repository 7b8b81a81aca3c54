"""The registered targets of one listener's target group: their health, and which one is next.

Health follows an ALB target group (AWS docs, "Health checks for Application Load Balancer target
groups"): a new target is `initial` until it passes one check (healthy) or fails
`unhealthy_threshold` in a row (unhealthy); a healthy target turns unhealthy after
`unhealthy_threshold` consecutive failures and back after `healthy_threshold` successes. A
deregistered target is `draining` for the deregistration delay (no new requests), then gone.
Routing: the healthy targets by the group's algorithm; all of them when none is healthy (fail
open); none registered is the caller's 503.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field

ROUND_ROBIN = "round_robin"
LEAST_OUTSTANDING = "least_outstanding_requests"

# (state, reason code, description) as describe-target-health reports them
INITIAL = ("initial", "Elb.InitialHealthChecking", "Initial health checks in progress")
HEALTHY = ("healthy", "", "")
DRAINING = ("draining", "Target.DeregistrationInProgress", "Target deregistration is in progress")
FAILURES = {
    "timeout": ("Target.Timeout", "Request timed out"),
    "mismatch": ("Target.ResponseCodeMismatch", "Health checks failed with these codes: [{code}]"),
    "connection": ("Target.FailedHealthChecks", "Health checks failed"),
}


@dataclass(frozen=True, kw_only=True)
class HealthSettings:
    """The target group's health check, its durations already scaled to local time."""

    path: str = "/"
    interval_s: float = 30.0
    timeout_s: float = 5.0
    healthy_threshold: int = 5
    unhealthy_threshold: int = 2
    matcher: str = "200"  # "200", "200,202" or "200-299"
    enabled: bool = True

    def matches(self, status: int) -> bool:
        for part in self.matcher.split(","):
            low, _, high = part.strip().partition("-")
            if int(low) <= status <= int(high or low):
                return True
        return False


@dataclass(kw_only=True)
class Target:
    id: str  # the instance id
    host: str
    port: int
    state: tuple[str, str, str] = INITIAL
    successes: int = 0  # consecutive
    failures: int = 0  # consecutive
    outstanding: int = 0  # requests in flight through the balancer
    draining_until: float | None = None  # monotonic deadline once deregistered
    changed_at: float = field(default_factory=time.time)

    @property
    def routable(self) -> bool:
        return self.draining_until is None

    def record(self, ok: bool, settings: HealthSettings, failure: str = "", code: int = 0) -> None:
        """One health check's outcome moves the state machine."""
        if self.draining_until is not None:
            return
        if ok:
            self.successes, self.failures = self.successes + 1, 0
            was = self.state[0]
            if was == "initial" or self.successes >= settings.healthy_threshold:
                self._set(HEALTHY)
            return
        self.failures, self.successes = self.failures + 1, 0
        if self.state[0] == "healthy" and self.failures < settings.unhealthy_threshold:
            return
        if self.state[0] == "initial" and self.failures < settings.unhealthy_threshold:
            return
        reason, description = FAILURES[failure or "connection"]
        self._set(("unhealthy", reason, description.format(code=code)))

    def drain(self, delay_s: float) -> None:
        if self.draining_until is None:
            self.draining_until = time.monotonic() + delay_s
            self._set(DRAINING)

    def _set(self, state: tuple[str, str, str]) -> None:
        if state != self.state:
            self.state, self.changed_at = state, time.time()

    def describe(self) -> dict[str, object]:
        state, reason, description = self.state
        return {
            "port": self.port,
            "state": state,
            "reason": reason,
            "description": description,
            "since": self.changed_at,
        }


class TargetSet:
    """The listener's view of its target group."""

    def __init__(self, algorithm: str = ROUND_ROBIN, deregistration_delay_s: float = 300.0) -> None:
        self.algorithm = algorithm
        self.deregistration_delay_s = deregistration_delay_s
        self.targets: dict[str, Target] = {}
        self._turn = itertools.count()

    def register(self, wanted: dict[str, tuple[str, int]]) -> list[Target]:
        """Make the registered set `wanted` ({id: (host, port)}); returns the new targets."""
        new = []
        for id_, (host, port) in wanted.items():
            current = self.targets.get(id_)
            if current is not None and current.routable and current.port == port:
                continue
            # A new registration (or one replacing a draining one): it starts `initial`.
            self.targets[id_] = Target(id=id_, host=host, port=port)
            new.append(self.targets[id_])
        for id_, target in self.targets.items():
            if id_ not in wanted:
                target.drain(self.deregistration_delay_s)
        return new

    def expire(self) -> list[Target]:
        """Remove targets whose deregistration delay is over (or that drained early)."""
        now = time.monotonic()
        gone = [
            t
            for t in self.targets.values()
            if t.draining_until is not None and (now >= t.draining_until or t.outstanding == 0)
        ]
        for target in gone:
            del self.targets[target.id]
        return gone

    def pick(self) -> Target | None:
        """The next target for a request; None when no target is registered."""
        routable = [t for t in self.targets.values() if t.routable]
        healthy = [t for t in routable if t.state[0] == "healthy"] or routable  # fail open
        if not healthy:
            return None
        if self.algorithm == LEAST_OUTSTANDING:
            low = min(t.outstanding for t in healthy)
            healthy = [t for t in healthy if t.outstanding == low]
        return healthy[next(self._turn) % len(healthy)]

    def describe(self) -> dict[str, dict[str, object]]:
        return {id_: t.describe() for id_, t in self.targets.items()}
