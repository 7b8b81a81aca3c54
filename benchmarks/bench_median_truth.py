"""Does the engine measure the service, or itself? Its percentiles beside three other readings.

    PYTHONPATH=. .venv/bin/python -m benchmarks.bench_median_truth [--rounds 3] [--duration 30]

The target (served by this module in its own process) takes a lognormal time per request,
median 20 ms and p99 ~200 ms, and logs its own handling time of every request. In one run,
phase by phase at the same rate: perfenv's engine (open model), a plain Python client (open
model, one keep-alive connection per worker thread, timed from its own send), and `wrk` (C,
closed loop: three connections make about the same rate; wrk has no rate mode), each beside the
server's log of the same phase. The server draws the same handling times in every phase (it is
reseeded before each), so the phases' server-side percentiles match and the readings can be
set side by side; `--rounds` repeats the three phases (about 100 s a round). Goal: the engine
within 0.5 ms of the plain client at p50 and within 2% at p95/p99.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import math
import os
import queue
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from perfenv.cli.engine import run_plan
from perfenv.cli.verdict.histograms import merged
from perfenv.cli.verdict.measurement import LoadPlan, RequestSpec
from perfenv.cli.verdict.stats import latency_stats

SIGMA = math.log(10) / 2.326  # p99 = 10 x median
MEDIAN_S = 0.020
ENGINE, PLAIN = "perfenv engine", "plain client (Python)"
Row = tuple[str, dict[str, float]]


def serve(port: int, log: Path) -> None:
    """The target: GET /items sleeps a lognormal time; each handling time (ms) to `log`."""
    from aiohttp import web

    rng = [random.Random(1)]
    out = log.open("a", buffering=1)

    async def items(_request: web.Request) -> web.Response:
        start = time.perf_counter()
        await asyncio.sleep(rng[0].lognormvariate(math.log(MEDIAN_S), SIGMA))
        response = web.Response(text="ok")
        out.write(f"{time.time():.6f} {(time.perf_counter() - start) * 1000:.3f}\n")
        return response

    async def reseed(_request: web.Request) -> web.Response:
        rng[0] = random.Random(1)  # every phase draws the same handling times, in order
        out.write("reseed\n")
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/items", items)
    app.router.add_post("/reseed", reseed)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def _percentiles(values_ms: list[float]) -> dict[str, float]:
    a = np.asarray(values_ms)
    return {f"p{p}": float(np.percentile(a, p)) for p in (50, 95, 99)}


def _server(log: Path, skip: int) -> dict[str, float]:
    """The server's own times of the last phase (since its reseed), its first `skip` requests
    (the clients' warm-up) left out, as the clients leave them out."""
    phase = log.read_text().rsplit("reseed\n", 1)[-1].splitlines()[skip:]
    return _percentiles([float(line.split()[1]) for line in phase])


def engine(url: str, rate: float, duration: int) -> dict[str, float]:
    plan = LoadPlan(
        scenario="truth",
        base_url=url,
        rates=(rate,) * duration,
        warmup_s=2,
        requests=(RequestSpec(method="GET", path="/items"),),
    )
    stats = latency_stats(merged(w.histogram for w in run_plan(plan).windows[2:]))
    return {k: float(stats[k] or 0.0) for k in ("p50", "p95", "p99")}


def plain(port: int, rate: float, duration: int) -> dict[str, float]:
    """Open model: each arrival to a free worker thread; latency from that thread's send."""
    samples: list[float] = []
    due: queue.Queue[float | None] = queue.Queue()

    def worker() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while due.get() is not None:
            start = time.perf_counter()
            connection.request("GET", "/items")
            connection.getresponse().read()
            samples.append((time.perf_counter() - start) * 1000)
        connection.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(32)]
    for t in threads:
        t.start()
    t0 = time.perf_counter()
    for k in range(int(rate * duration)):
        time.sleep(max(0.0, t0 + k / rate - time.perf_counter()))
        due.put(t0 + k / rate)
    for _ in threads:
        due.put(None)
    for t in threads:
        t.join(timeout=30)
    return _percentiles(samples[int(2 * rate) :])


WRK_SCRIPT = """
done = function(summary, latency, requests)
  for _, p in pairs({50, 95, 99}) do
    io.write(string.format("perfenv p%d %d\\n", p, latency:percentile(p)))
  end
end
"""


def wrk(port: int, duration: int, work: Path) -> dict[str, float] | None:
    """wrk's own percentiles (its Lua `done` hook; it prints no p95 otherwise)."""
    binary = shutil.which("wrk")
    if binary is None:
        return None
    script = work / "percentiles.lua"
    script.write_text(WRK_SCRIPT)
    command = [binary, "-t1", "-c3", f"-d{duration}s", "-s", str(script)]
    out = subprocess.run(
        [*command, f"http://127.0.0.1:{port}/items"], capture_output=True, text=True, check=False
    ).stdout
    row = {f"p{p}": int(us) / 1000 for p, us in re.findall(r"^perfenv p(\d+) (\d+)$", out, re.M)}
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    row["rate"] = float(rate.group(1)) if rate else 0.0
    return row


def _reseed(port: int) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("POST", "/reseed")
    connection.getresponse().read()
    connection.close()


def _phases(port: int, log: Path, args: argparse.Namespace, work: Path) -> list[Row]:
    """One round: each reading, then the server's log of its own phase (same handling times)."""
    url = f"http://127.0.0.1:{port}"
    rows: list[Row] = []
    for name, measure in (
        (ENGINE, lambda: engine(url, args.rate, args.duration)),
        (PLAIN, lambda: plain(port, args.rate, args.duration)),
        ("wrk (C, 3 connections)", lambda: wrk(port, args.duration, work)),
    ):
        _reseed(port)
        row = measure()
        if row is None:
            continue
        rows.append((name, row))
        rows.append((f"  server log, {name} phase", _server(log, int(2 * args.rate))))
    return rows


def _gaps(rows: list[Row]) -> str:
    """The engine against the plain client: p50 in ms, p95/p99 in percent; and each against its
    own phase's server log."""
    got = dict(rows)
    e, c = got[ENGINE], got[PLAIN]
    es, cs = got[f"  server log, {ENGINE} phase"], got[f"  server log, {PLAIN} phase"]
    return (
        f"engine - plain client: p50 {e['p50'] - c['p50']:+.2f} ms, "
        f"p95 {e['p95'] / c['p95'] - 1:+.1%}, p99 {e['p99'] / c['p99'] - 1:+.1%}; "
        f"above their server log at p50: engine {e['p50'] - es['p50']:+.2f} ms, "
        f"plain {c['p50'] - cs['p50']:+.2f} ms"
    )


def _start_server(port: int, log: Path, work: Path) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.bench_median_truth", "--serve", str(port), str(log)],
        start_new_session=True,
        stdin=subprocess.DEVNULL,
        stdout=(work / "out.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.2)
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--duration", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--serve", nargs=2, metavar=("PORT", "LOG"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(int(args.serve[0]), Path(args.serve[1]))
        return
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    work = Path(tempfile.mkdtemp(prefix="perfenv-truth-"))
    log = work / "server.log"
    log.touch()
    server = _start_server(port, log, work)
    rounds = []
    try:
        for _ in range(args.rounds):
            rounds.append((os.getloadavg()[0], _phases(port, log, args, work)))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=10)
    print(
        f"target: lognormal, median 20 ms, p99 ~200 ms, the same handling times in every "
        f"phase; {args.rate:g} req/s for {args.duration} s per phase"
    )
    for k, (load, rows) in enumerate(rounds, 1):
        print(f"\nround {k}, load average {load:.1f} at its start")
        print("| reading | p50 ms | p95 ms | p99 ms |")
        print("| --- | --- | --- | --- |")
        for name, row in rows:
            extra = f" ({row['rate']:.0f} req/s)" if "rate" in row else ""
            cells = " | ".join(f"{row.get(k, float('nan')):.2f}" for k in ("p50", "p95", "p99"))
            print(f"| {name}{extra} | {cells} |")
    print()
    for k, (_load, rows) in enumerate(rounds, 1):
        print(f"round {k}: {_gaps(rows)}")


if __name__ == "__main__":
    main()
