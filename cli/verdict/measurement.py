"""What the load engine measures, handed to the judge and the reports.

Latencies are microseconds, measured from each request's *scheduled* send time (coordinated
omission corrected), recorded in HdrHistograms (1 us .. 60 s, 3 significant digits) and carried
encoded (`HdrHistogram.encode()`, base64 text) so that results can be re-judged and merged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

HIST_LOWEST_US = 1
HIST_HIGHEST_US = 60_000_000
HIST_SIGNIFICANT_DIGITS = 3


@dataclass(frozen=True, kw_only=True)
class RequestSpec:
    """One entry of a suite's built-in `requests:` mix."""

    method: str
    path: str
    weight: int = 1
    name: str | None = None  # endpoint name in results; defaults to "METHOD path"
    body: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def endpoint(self) -> str:
        return self.name or f"{self.method} {self.path}"


@dataclass(frozen=True, kw_only=True)
class LoadPlan:
    """Everything the engine needs for one scenario run: an open-model arrival schedule."""

    scenario: str
    base_url: str
    rates: tuple[float, ...]  # planned arrivals per second, one per second of the scenario
    warmup_s: int = 0  # leading seconds excluded from the steady state
    requests: tuple[RequestSpec, ...] = ()  # used when locustfile is None
    locustfile: Path | None = None  # one task iteration is one arrival
    workers: int = 0  # 0: a single local Locust process; N: Locust master + N workers
    timeout_s: float = 10.0  # per request; a timeout is an error
    max_connections: int = 1000  # generator-side concurrency ceiling (in-flight requests)
    # `--url` runs: the addresses the target's host was checked at (the generator connects to
    # no other), and the suite's allowed_hosts for any other name (cli/engine/hosts.py).
    pins: dict[str, tuple[str, ...]] = field(default_factory=dict)
    allowed_hosts: tuple[str, ...] = ()

    @property
    def duration_s(self) -> int:
        return len(self.rates)

    @property
    def planned_requests(self) -> int:
        return round(sum(self.rates))


@dataclass(frozen=True, kw_only=True)
class Window:
    """One second of a scenario, by scheduled send time."""

    t: int  # seconds since the scenario's start
    planned: int  # arrivals scheduled in this second
    sent: int  # requests actually sent
    ok: int
    errors: int
    histogram: str  # encoded HdrHistogram of this second's corrected latencies (ok and errors)


@dataclass(frozen=True, kw_only=True)
class EndpointStats:
    """Per endpoint, over the steady state (after warmup)."""

    count: int
    errors: int
    histogram: str  # encoded


@dataclass(frozen=True, kw_only=True)
class InstanceHealth:
    """One load generator instance's share of a distributed run (its Locust worker)."""

    instance: str  # its instance id
    sent: int = 0
    cpu_max_percent: float = 0.0  # sustained, of one core
    valid: bool = True  # whether this instance delivered its share (saturation: not)


@dataclass(frozen=True, kw_only=True)
class GeneratorHealth:
    """Whether the generator itself delivered the plan (docs/design.md#suites-and-measurement)."""

    valid: bool
    reason: str = ""  # why not, in one sentence naming planned vs achieved
    planned: int = 0
    achieved: int = 0
    cpu_max_percent: float = 0.0  # the busiest generator process, per core
    max_send_lag_ms: float = 0.0  # worst lateness of a send behind its schedule
    target_saturated_s: int = 0  # seconds where all connections were busy waiting on the target
    cpu_seconds: float = 0.0  # CPU time of the generator processes over the schedule (no start-up)
    instances: tuple[InstanceHealth, ...] = ()  # per load generator instance, when run on them


@dataclass(frozen=True, kw_only=True)
class ScenarioMeasurement:
    scenario: str
    started_at: str  # ISO 8601 UTC
    warmup_s: int
    windows: tuple[Window, ...]
    endpoints: dict[str, EndpointStats]
    errors_by_kind: dict[str, int]  # e.g. {"HTTP 503": 12, "timeout": 3, "connection": 1}
    generator: GeneratorHealth
    engine: str = "locust"
    statuses: dict[str, int] = field(default_factory=dict)  # HTTP status -> responses, e.g. 302
    aborted: str = ""  # why a budget stopped this run early (cli/verdict/abort.py)


Stats = dict[str, float | None]  # metric -> value (latency in ms, ratios as fractions)


@dataclass(frozen=True, kw_only=True)
class SummaryRun:
    """A run known only by summary statistics (a k6 summary export): no windows or histograms."""

    scenario: str
    started_at: str
    stats: Stats  # latency metrics in ms; counts as floats
    planned: int
    generator: GeneratorHealth
    engine: str = "k6"


Run = ScenarioMeasurement | SummaryRun  # what the judge takes for one run of a scenario
