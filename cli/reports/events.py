"""The environment's events on a report's time axis, and in a line of the summary.

Scale: the breach (the load step), each scale-out, and the in-service count as a step line on
the rate chart. Failover: the loss, when the balancer stopped sending to it, when a
replacement was in service. Alarm transitions (any scenario): a line per transition, red into
ALARM, green back to OK, labelled with the alarm's name.
"""

from __future__ import annotations

from typing import Any

RED, GREEN, GREY, BLUE = "#cf222e", "#1a7f37", "#6e7781", "#0969da"


def _events(scenario: dict[str, Any]) -> dict[str, Any]:
    return (scenario.get("analysis") or {}).get("events") or {}


def transitions(scenario: dict[str, Any]) -> list[dict[str, Any]]:
    """Alarm transitions during the scenario: {"t", "alarm", "from", "to"}, by time."""
    found = list(_events(scenario).get("alarms") or ())
    unique = {(a["t"], a["alarm"], a["to"]): a for a in found}
    return sorted(unique.values(), key=lambda a: a["t"])


def mark(axes: list[Any], rate_ax: Any, scenario: dict[str, Any]) -> None:
    """Draw the scenario's events on every axis; the in-service count on the rate chart."""
    events, analysis = _events(scenario), scenario.get("analysis") or {}
    lines: list[tuple[float, str, str]] = []  # (t, colour, style)
    if scenario["kind"] == "scale" and "breach_s" in analysis:
        lines.append((analysis["breach_s"], GREY, "--"))
        lines += [(t, BLUE, ":") for t in events.get("scale_outs") or ()]
    if scenario["kind"] == "failover" and events.get("lost_at") is not None:
        lines.append((events["lost_at"], RED, "--"))
        for key in ("stopped_sending_at", "replaced_at"):
            if events.get(key) is not None:
                lines.append((events[key], GREEN, ":"))
    alarms = transitions(scenario)
    for ax in axes:
        for t, colour, style in lines:
            ax.axvline(t, color=colour, linestyle=style, linewidth=1)
        for a in alarms:
            ax.axvline(a["t"], color=RED if a["to"] == "ALARM" else GREEN, linewidth=1.2)
    for a in alarms:
        rate_ax.annotate(
            f"{a['alarm'][:40]} {a['from']}→{a['to']}",
            (a["t"], 0),
            xycoords=("data", "axes fraction"),
            rotation=90,
            fontsize=7,
            va="bottom",
            color=RED if a["to"] == "ALARM" else GREEN,
        )
    counts = events.get("in_service") or ()
    if counts:
        end = max(len(scenario["plan"]["rates"]), int(counts[-1][0]) + 1)
        twin = rate_ax.twinx()
        ts = [t for t, _n in counts] + [end]
        ns = [n for _t, n in counts] + [counts[-1][1]]
        twin.step(ts, ns, where="post", color=GREEN, linewidth=1.5, label="in service")
        twin.set_ylabel("instances in service")
        twin.set_ylim(0, max(ns) + 1)
        twin.legend(loc="lower right", fontsize=7)


def _seconds(value: Any) -> str:
    return f"{value:.1f} s" if isinstance(value, int | float) else "not reached"


def summary_line(scenario: dict[str, Any]) -> str | None:
    """One Markdown line for a scale or failover scenario's reading."""
    a, name = scenario.get("analysis") or {}, scenario["name"]
    if scenario["kind"] == "scale" and "breach_s" in a:
        return (
            f"- **{name}** (scale): first scale-out {_seconds(a.get('scale_out_time_s'))} after"
            f" the breach; in service {a.get('in_service_before')} → {a.get('in_service_after')}"
            f" after {_seconds(a.get('in_service_time_s'))}; p95 back under"
            f" {a.get('recovery_threshold_ms')} ms after {_seconds(a.get('recovery_time_s'))}"
        )
    if scenario["kind"] == "failover" and "lost_at_s" in a:
        errors = a.get("failover_errors")
        share = f"{errors * 100:.2f}%" if errors is not None else "n/a"
        return (
            f"- **{name}** (failover): lost {a.get('lost_instance') or 'an instance'} at"
            f" {a['lost_at_s']:g} s; {a.get('errors_during_event')} errors ({share}) during the"
            f" event; balancer stopped sending after {_seconds(a.get('detection_time_s'))};"
            f" replacement in service after {_seconds(a.get('replacement_time_s'))}; recovered"
            f" after {_seconds(a.get('recovery_time_s'))}"
        )
    return None
