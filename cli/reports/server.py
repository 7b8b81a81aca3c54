"""The server side in report.html: what the balancer and the fleet saw, on the client's axis."""

from __future__ import annotations

from typing import Any

GAP_RATIO = 2.0  # the client's p95 at least this many times the balancer's ...
GAP_MIN_MS = 5.0  # ... and at least this much above it


def runs_of(doc: dict[str, Any], scenario: str) -> list[dict[str, Any]]:
    section = doc.get("server") or {}
    return [r for r in section.get("scenarios", []) if r["scenario"] == scenario]


def gap_notes(doc: dict[str, Any]) -> list[str]:
    """Where the client's p95 is far above the balancer's: the gap is not the service's."""
    notes = []
    for scenario in doc["scenarios"]:
        client = (scenario.get("stats") or {}).get("p95")
        for run in runs_of(doc, scenario["name"]):
            server = run["totals"].get("p95_ms")
            if client is None or server is None:
                continue
            if client >= GAP_RATIO * server and client - server >= GAP_MIN_MS:
                notes.append(
                    f"{scenario['name']}: the client's p95 ({client:.1f} ms) is far above the "
                    f"balancer's ({server:.1f} ms): the gap is network or load generator time, "
                    "not the service"
                )
    return notes


def totals_rows(doc: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for run in (doc.get("server") or {}).get("scenarios", []):
        totals = run["totals"]
        cpu = [v for point in run["series"] for v in point["cpu"].values()]
        in_service = [p["in_service"] for p in run["series"] if p.get("in_service") is not None]
        rows.append(
            {
                "scenario": run["scenario"],
                "run": run["run"],
                "requests": totals["requests"],
                "target 5xx": totals["target_5xx"],
                "balancer 5xx": totals["elb_5xx"],
                "p50 ms": totals["p50_ms"],
                "p95 ms": totals["p95_ms"],
                "p99 ms": totals["p99_ms"],
                "max CPU %": round(max(cpu), 1) if cpu else None,
                "in service": f"{min(in_service)}-{max(in_service)}" if in_service else None,
            }
        )
    return rows


def draw(axes: dict[str, Any], runs: list[dict[str, Any]], period_s: int) -> None:
    """Balancer rate and percentiles beside the client's; CPU per instance; in-service count."""
    for i, run in enumerate(runs):
        points = [p for p in run["series"] if p.get("t") is not None]
        first = i == 0
        ts = [p["t"] for p in points]
        axes["rate"].step(
            ts,
            [p["requests"] / max(1, period_s) for p in points],
            where="post",
            color="#8250df",
            linestyle="--",
            alpha=0.8,
            label="balancer" if first else None,
        )
        for key, color in (("p50_ms", "#1a7f37"), ("p95_ms", "#bf8700"), ("p99_ms", "#cf222e")):
            pairs = [(p["t"], p[key]) for p in points if p.get(key)]
            if pairs:
                tx, vy = zip(*pairs, strict=True)
                axes["latency"].step(
                    tx,
                    vy,
                    where="post",
                    color=color,
                    linestyle="--",
                    alpha=0.7,
                    label=f"balancer {key[:3]}" if first else None,
                )
        instances = sorted({id_ for p in points for id_ in p["cpu"]})
        for id_ in instances:
            pairs = [(p["t"], p["cpu"][id_]) for p in points if id_ in p["cpu"]]
            tx, vy = zip(*pairs, strict=True)
            axes["cpu"].step(tx, vy, where="post", alpha=0.8, label=id_ if first else None)
        pairs = [(p["t"], p["in_service"]) for p in points if p.get("in_service") is not None]
        if pairs:
            tx, vy = zip(*pairs, strict=True)
            axes["fleet"].step(
                tx, vy, where="post", color="#0969da", label="in service" if first else None
            )
        pairs = [(p["t"], p["healthy"]) for p in points if p.get("healthy") is not None]
        if pairs:
            tx, vy = zip(*pairs, strict=True)
            axes["fleet"].step(
                tx,
                vy,
                where="post",
                color="#1a7f37",
                linestyle=":",
                label="healthy" if first else None,
            )
    axes["cpu"].set_title("CPU per instance (% of one core)")
    axes["fleet"].set_title("instances in service / healthy targets")
    axes["fleet"].set_ylim(bottom=0)
    for ax in (axes["cpu"], axes["fleet"]):
        ax.set_xlabel("seconds")
        handles, _labels = ax.get_legend_handles_labels()
        if handles:
            ax.legend(loc="upper left", fontsize=7)
