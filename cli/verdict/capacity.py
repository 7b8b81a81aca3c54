"""The capacity model: what the fleet carries, from the stress scenario's knee.

The knee is the highest step that met the budgets; what it served, over the instances in
service during that step (the server section's count, else `fleet.desired`), is the capacity of
one instance. Times `fleet.max`, the fleet's capacity at its ceiling; against
`capacity.expected_peak_rps`, the headroom (verdict "max too low" when the ceiling cannot carry
the peak, with the max that would). The derived settings sit beside the configured ones:
target tracking's `requests_per_target` (ALBRequestCountPerTarget: requests per target per
minute) at `target_utilization_percent` of an instance's capacity, and a request-count alarm
(the balancer's RequestCount per minute) at `alarm_percent` of the fleet's capacity at max.
"""

from __future__ import annotations

import math
import statistics
from typing import Any

from perfenv.infra.config import EnvironmentConfig

MAX_TOO_LOW = "max too low"
ENOUGH = "max carries the expected peak"
NO_PEAK = "no expected peak configured"


def _stress(doc: dict[str, Any]) -> dict[str, Any] | None:
    for scenario in doc.get("scenarios", []):
        if scenario.get("kind") == "stress" and (scenario.get("analysis") or {}).get("steps"):
            return dict(scenario)
    return None


def _knee_step(stress: dict[str, Any]) -> dict[str, Any] | None:
    knee = stress["analysis"].get("knee_rate")
    return next((s for s in stress["analysis"]["steps"] if s["rate"] == knee), None)


def _in_service(doc: dict[str, Any], name: str, start: float, end: float) -> int | None:
    """The instances in service while the knee step ran (the server section's first run)."""
    for entry in (doc.get("server") or {}).get("scenarios", []):
        if entry["scenario"] != name:
            continue
        counts = [
            p["in_service"]
            for p in entry["series"]
            if p.get("in_service") is not None and p.get("t") is not None and start <= p["t"] < end
        ]
        if counts:
            return max(1, int(round(statistics.median(counts))))
    return None


def capacity_model(doc: dict[str, Any], env: EnvironmentConfig | None) -> dict[str, Any] | None:
    """The model from a results document's stress scenario; None without one or its knee."""
    stress = _stress(doc)
    step = _knee_step(stress) if stress else None
    if stress is None or step is None:
        return None
    served = float(step.get("achieved_rps") or step["rate"])
    step_s = stress.get("config", {}).get("step_every") or 0
    end = step["start_s"] + (step_s or 1)
    counted = _in_service(doc, stress["name"], step["start_s"], end)
    found = bool(stress["analysis"].get("knee_found"))  # False: met the budgets up to max_rate
    model: dict[str, Any] = {"scenario": stress["name"], "knee_rps": served, "knee_found": found}
    if env is None:  # a bare URL: the target as a whole
        model.update(instances_in_service=None, per_instance_rps=None, fleet_capacity_rps=served)
        model["verdict"] = NO_PEAK
        return model
    instances = counted or env.fleet.desired
    per_instance = served / instances
    fleet = per_instance * env.fleet.max
    plan = env.capacity
    model.update(
        instances_in_service=instances,
        instances_from="server telemetry" if counted else "fleet.desired (no telemetry)",
        per_instance_rps=per_instance,
        fleet_max=env.fleet.max,
        fleet_capacity_rps=fleet,
        expected_peak_rps=plan.expected_peak_rps,
        gate=plan.gate,
        derived={
            "requests_per_target": math.floor(
                per_instance * 60 * plan.target_utilization_percent / 100
            ),
            "target_utilization_percent": plan.target_utilization_percent,
            "configured_requests_per_target": env.fleet.scaling.requests_per_target,
            "request_alarm_per_minute": math.floor(fleet * 60 * plan.alarm_percent / 100),
            "alarm_percent": plan.alarm_percent,
            "configured_request_alarm_per_minute": None,  # the stack defines no such alarm
        },
    )
    peak = plan.expected_peak_rps
    if peak is None:
        model["verdict"] = NO_PEAK
        return model
    model.update(
        headroom=fleet / peak - 1,
        headroom_rps=fleet - peak,
        required_max=math.ceil(peak / per_instance),
        verdict=MAX_TOO_LOW if fleet < peak else ENOUGH,
    )
    return model


def gate_failed(model: dict[str, Any] | None) -> bool:
    """`capacity.gate: true` and the fleet at max cannot carry the expected peak."""
    return bool(model and model.get("gate") and model.get("verdict") == MAX_TOO_LOW)


def capacity_lines(model: dict[str, Any]) -> list[str]:
    """The model in sentences, for summary.md, report.html and `perfenv capacity`."""
    lines = [f"knee of {model['scenario']}: {model['knee_rps']:.0f} req/s"]
    if not model.get("knee_found", True):
        lines[0] += " (met the budgets up to max_rate: every capacity below is at least this)"
    if model.get("per_instance_rps") is None:
        return [*lines, "a bare URL: no fleet to divide it by"]
    derived = model["derived"]
    lines += [
        f"instances in service at the knee: {model['instances_in_service']} "
        f"({model['instances_from']})",
        f"capacity per instance: {model['per_instance_rps']:.1f} req/s",
        f"fleet capacity at max ({model['fleet_max']}): {model['fleet_capacity_rps']:.0f} req/s",
    ]
    if model.get("expected_peak_rps") is not None:
        lines.append(
            f"expected peak {model['expected_peak_rps']:.0f} req/s: headroom "
            f"{model['headroom'] * 100:+.0f}% ({model['headroom_rps']:+.0f} req/s); "
            f"{model['verdict']}"
            + (
                f" (max {model['required_max']} would carry it)"
                if model["verdict"] == MAX_TOO_LOW
                else ""
            )
        )
    else:
        lines.append(model["verdict"])
    lines += [
        f"requests_per_target at {derived['target_utilization_percent']:g}% utilization: "
        f"{derived['requests_per_target']} a minute (configured: "
        f"{derived['configured_requests_per_target']})",
        f"request-count alarm at {derived['alarm_percent']:g}% of the fleet at max: "
        f"{derived['request_alarm_per_minute']} a minute (configured: none)",
    ]
    return lines
