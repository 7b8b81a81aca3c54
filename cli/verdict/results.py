"""`results.json`: everything needed to re-judge a run, valid against `docs/results.schema.json`.

Built from the suite, its plans, the measured runs and the verdict; read back (for `compare`,
baselines and `engine: command`) into the same measurement objects the judge takes.
"""

from __future__ import annotations

import json
import platform
import socket
from dataclasses import asdict
from importlib import metadata
from pathlib import Path
from typing import Any

from perfenv.cli.errors import BadInput
from perfenv.cli.verdict.histograms import merged
from perfenv.cli.verdict.judge import ScenarioVerdict, SuiteVerdict
from perfenv.cli.verdict.measurement import (
    EndpointStats,
    GeneratorHealth,
    InstanceHealth,
    LoadPlan,
    Run,
    ScenarioMeasurement,
    SummaryRun,
    Window,
)
from perfenv.cli.verdict.stats import latency_stats
from perfenv.cli.verdict.suite import Suite
from perfenv.infra.files import read_text

SCHEMA_VERSION = "1.1"  # 1.1: the optional `server` section
SCHEMA_PATH = Path(__file__).with_name("results.schema.json")  # docs/ links to it


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "unknown"


def versions(engine: str = "locust") -> dict[str, str]:
    out = {"perfenv": _version("perfenv"), "python": platform.python_version()}
    out["locust"] = _version("locust")
    return out


def host() -> dict[str, Any]:
    import os

    return {
        "hostname": socket.gethostname(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count() or 0,
    }


def _plan(plan: LoadPlan) -> dict[str, Any]:
    return {
        "rates": list(plan.rates),
        "warmup_s": plan.warmup_s,
        "duration_s": plan.duration_s,
        "planned_requests": plan.planned_requests,
        "workers": plan.workers,
        "requests": [asdict(r) for r in plan.requests],
        "locustfile": str(plan.locustfile) if plan.locustfile else None,
    }


def _window(window: Window) -> dict[str, Any]:
    stats = latency_stats(merged([window.histogram]))
    return {
        **asdict(window),
        "p50_ms": stats["p50"],
        "p95_ms": stats["p95"],
        "p99_ms": stats["p99"],
    }


def _health(generator: GeneratorHealth) -> dict[str, Any]:
    return {**asdict(generator), "instances": [asdict(i) for i in generator.instances]}


def run_record(run: Run) -> dict[str, Any]:
    if isinstance(run, SummaryRun):
        return {
            "source": "summary",
            "engine": run.engine,
            "started_at": run.started_at,
            "planned": run.planned,
            "summary": dict(run.stats),
            "generator": _health(run.generator),
        }
    return {
        "source": "histogram",
        "engine": run.engine,
        "started_at": run.started_at,
        "warmup_s": run.warmup_s,
        "generator": _health(run.generator),
        "errors_by_kind": dict(run.errors_by_kind),
        "statuses": dict(run.statuses),
        **({"aborted": run.aborted} if run.aborted else {}),
        "endpoints": {name: asdict(e) for name, e in run.endpoints.items()},
        "windows": [_window(w) for w in run.windows],
    }


def scenario_record(
    verdict: ScenarioVerdict, scenario: Any, plan: LoadPlan, runs: list[Run]
) -> dict[str, Any]:
    return {
        "name": verdict.name,
        "kind": verdict.kind,
        "verdict": verdict.verdict,
        "reason": verdict.reason,
        "config": scenario.model_dump(mode="json", exclude={"budgets"}),
        "plan": _plan(plan),
        "budgets": [b.as_dict() for b in verdict.budgets],
        "stats": dict(verdict.stats),
        "analysis": verdict.analysis,
        "runs": [run_record(r) for r in runs],
    }


def build_results(
    *,
    suite: Suite,
    verdict: SuiteVerdict,
    plans: dict[str, LoadPlan],
    runs: dict[str, list[Run]],
    run_id: str,
    target: dict[str, Any],
    release: str | None,
    started_at: str,
    finished_at: str,
    exit_code: int,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    by_name = {s.name: s for s in suite.scenarios}
    doc: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "run_id": run_id,
        "release": release,
        "suite": {
            "name": suite.name,
            "engine": suite.engine,
            "source": str(suite.source) if suite.source else None,
            "budgets": [b.text for b in suite.budgets],
        },
        "target": {k: v for k, v in target.items() if v is not None},
        "started_at": started_at,
        "finished_at": finished_at,
        "verdict": verdict.verdict,
        **({"aborted": verdict.aborted.as_dict()} if verdict.aborted else {}),
        "exit_code": exit_code,
        "versions": versions(),
        "host": host(),
        "scenarios": [
            scenario_record(v, by_name[v.name], plans[v.name], runs.get(v.name, []))
            for v in verdict.scenarios
        ],
    }
    for key in ("environment", "cost", "comparison", "server"):
        if extra and extra.get(key) is not None:
            doc[key] = extra[key]
    return doc


def server_section(reads: list[tuple[str, int, str, dict[str, Any]]]) -> dict[str, Any]:
    """results.json's `server` section from a telemetry reader's answers, one per scenario run
    ((scenario, attempt, the client's started_at, answer)). Each point gains `t`, seconds since
    the client's start of that scenario run, so both sides share one time axis."""
    from datetime import datetime

    entries = []
    for scenario, attempt, started_at, answer in reads:
        zero = datetime.fromisoformat(started_at).timestamp() if started_at else None
        series = [
            {**point, "t": int(point["at"] - zero) if zero is not None else None}
            for point in answer["series"]
        ]
        entries.append(
            {"scenario": scenario, "run": attempt, "totals": answer["totals"], "series": series}
        )
    source = reads[0][3] if reads else {"source": "none", "period_s": 0}
    return {"source": source["source"], "period_s": source["period_s"], "scenarios": entries}


def write_results(doc: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=1, default=str) + "\n")


def read_results(path: Path) -> dict[str, Any]:
    """A results document from a file; BadInput (exit 2) in one line unless it is one (valid
    against results.schema.json)."""
    try:
        doc = json.loads(read_text(path))
    except UnicodeDecodeError:
        raise BadInput(f"{path}: cannot read results: not UTF-8 text") from None
    except OSError as exc:
        raise BadInput(f"{path}: cannot read results: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise BadInput(f"{path}: not JSON (line {exc.lineno})") from None
    except RecursionError:
        raise BadInput(f"{path}: not a results document (nested too deeply)") from None
    if not isinstance(doc, dict):
        raise BadInput(f"{path}: not a results document")
    errors = schema_errors(doc)
    if errors:
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise BadInput(f"{path}: not a perfenv results document: {errors[0]}{more}")
    return doc


def schema() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SCHEMA_PATH.read_text())
    return data


def schema_errors(doc: dict[str, Any]) -> list[str]:
    """Every way `doc` breaks the results schema, one `path: message` each."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema())
    return [
        f"{'.'.join(str(p) for p in err.absolute_path) or '(root)'}: {err.message}"
        for err in sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    ]


def _generator(data: dict[str, Any]) -> GeneratorHealth:
    fields = GeneratorHealth.__dataclass_fields__
    known = {k: v for k, v in data.items() if k in fields}
    known["instances"] = tuple(InstanceHealth(**i) for i in known.get("instances", ()))
    return GeneratorHealth(**known)


def measurement_from_record(scenario: str, record: dict[str, Any]) -> Run:
    """A run of `results.json` back as what the judge takes."""
    generator = _generator(record.get("generator") or {"valid": True})
    if record.get("source") == "summary":
        return SummaryRun(
            scenario=scenario,
            started_at=record.get("started_at", ""),
            stats=dict(record.get("summary") or {}),
            planned=int(record.get("planned", 0)),
            generator=generator,
            engine=record.get("engine", "k6"),
        )
    windows = tuple(
        Window(
            t=int(w["t"]),
            planned=int(w["planned"]),
            sent=int(w["sent"]),
            ok=int(w["ok"]),
            errors=int(w["errors"]),
            histogram=w["histogram"],
        )
        for w in record.get("windows", [])
    )
    endpoints = {
        name: EndpointStats(count=e["count"], errors=e["errors"], histogram=e["histogram"])
        for name, e in (record.get("endpoints") or {}).items()
    }
    return ScenarioMeasurement(
        scenario=scenario,
        started_at=record.get("started_at", ""),
        warmup_s=int(record.get("warmup_s", 0)),
        windows=windows,
        endpoints=endpoints,
        errors_by_kind=dict(record.get("errors_by_kind") or {}),
        generator=generator,
        engine=record.get("engine", "locust"),
        statuses=dict(record.get("statuses") or {}),
        aborted=str(record.get("aborted") or ""),
    )


def runs_from_results(doc: dict[str, Any]) -> dict[str, list[Run]]:
    """Each scenario's runs, by name."""
    out: dict[str, list[Run]] = {}
    for scenario in doc.get("scenarios", []):
        name = scenario["name"]
        out[name] = [measurement_from_record(name, r) for r in scenario.get("runs", [])]
    return out
