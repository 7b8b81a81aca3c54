"""The reference service's aiohttp application.

Endpoints:

- `GET /health`: 200 at once (no concurrency limit; a stall holds it too).
- `GET|POST /items`, `GET /items/{id}`: sleeps for a latency drawn from the configured
  distribution, burns `cpu_ms` of CPU, answers a small JSON body. Query parameters
  `latency_ms`, `jitter_ms`, `cpu_ms` override the configuration per request.
- `GET /work?ms=N[&sleep_ms=M]`: N ms of CPU work on the event loop (a CPU-bound handler).
- `POST /admin/stall?seconds=D[&after=A]`: stop answering for D seconds, A seconds from now.
- `GET /admin/stats`: requests served per path, rejected (503), in flight, the most in flight.

`error_fraction` of the `/items` and `/work` requests answer 500 after their work (injected
errors: 1.0 makes an app that fails every request while its health check passes).

`/items` and `/work` go through the concurrency limit: at most `concurrency` in service, up to
`queue` more waiting (queueing makes latency climb past the knee), beyond that 503 at once.
`stall_at` counts from the first request to a load endpoint, so that "a stall at second 4 of the
scenario" does not depend on how long the load generator took to start.
"""

from __future__ import annotations

import asyncio
import random
import signal
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web


@dataclass(frozen=True, kw_only=True)
class ServiceConfig:
    host: str = "127.0.0.1"
    port: int = 0
    latency_ms: float = 20.0  # base latency of /items
    latency_jitter_ms: float = 5.0  # uniform +- around the base
    slow_fraction: float = 0.0  # this share of /items requests takes slow_ms instead
    slow_ms: float = 0.0
    cpu_ms: float = 0.0  # CPU work per /items request, on the event loop
    concurrency: int = 16  # requests in service at once; 0: no limit
    queue: int = 64  # requests waiting for a slot beyond that; -1: no bound
    stall_at: float | None = None  # seconds after the first load request
    stall_for: float = 1.0
    error_fraction: float = 0.0  # this share of /items and /work requests answers 500
    ready_file: Path | None = None


class _State:
    """Mutable per-process counters and the stall clock (monotonic seconds)."""

    def __init__(self, config: ServiceConfig) -> None:
        self.config = config
        self.slots = asyncio.Semaphore(config.concurrency) if config.concurrency > 0 else None
        self.waiting = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.rejected = 0
        self.served: Counter[str] = Counter()
        self.stall_from = 0.0
        self.stall_until = 0.0
        self.first_load_request: float | None = None

    def schedule_stall(self, after_s: float, seconds: float) -> None:
        now = time.monotonic()
        self.stall_from = now + after_s
        self.stall_until = self.stall_from + seconds

    async def pass_stall(self) -> None:
        """Hold the caller while a stall is on (a stalled process answers nothing)."""
        while True:
            now = time.monotonic()
            if not self.stall_from <= now < self.stall_until:
                return
            await asyncio.sleep(self.stall_until - now)

    def note_load_request(self) -> None:
        if self.first_load_request is None:
            self.first_load_request = time.monotonic()
            if self.config.stall_at is not None:
                self.schedule_stall(self.config.stall_at, self.config.stall_for)


STATE = web.AppKey("state", _State)


def _number(request: web.Request, key: str, default: float) -> float:
    raw = request.query.get(key)
    if raw is None:
        return default
    try:
        return float(raw)
    except ValueError:
        raise web.HTTPBadRequest(text=f"{key}: not a number: {raw!r}") from None


def _burn_cpu(ms: float) -> None:
    end = time.perf_counter() + ms / 1000
    while time.perf_counter() < end:
        pass


def _latency_ms(config: ServiceConfig, base: float, jitter: float) -> float:
    if config.slow_fraction > 0 and random.random() < config.slow_fraction:
        return config.slow_ms
    return max(0.0, base + random.uniform(-jitter, jitter))


def _overloaded() -> web.Response:
    return web.json_response({"error": "overloaded"}, status=503)


async def _limited(state: _State, work: float, sleep_ms: float) -> None:
    """Run one unit of load-endpoint work inside the concurrency limit."""
    await state.pass_stall()
    if sleep_ms > 0:
        await asyncio.sleep(sleep_ms / 1000)
    if work > 0:
        _burn_cpu(work)
    await state.pass_stall()


async def _load_endpoint(request: web.Request, work_ms: float, sleep_ms: float) -> web.Response:
    state = request.app[STATE]
    state.note_load_request()
    slots = state.slots
    if slots is not None and slots.locked():
        if 0 <= state.config.queue <= state.waiting:
            state.rejected += 1
            return _overloaded()
    state.waiting += 1
    try:
        if slots is not None:
            await slots.acquire()
    finally:
        state.waiting -= 1
    state.in_flight += 1
    state.max_in_flight = max(state.max_in_flight, state.in_flight)
    try:
        await _limited(state, work_ms, sleep_ms)
    finally:
        state.in_flight -= 1
        if slots is not None:
            slots.release()
    state.served[request.path] += 1
    if state.config.error_fraction > 0 and random.random() < state.config.error_fraction:
        return web.json_response({"error": "injected"}, status=500)
    return web.json_response({"path": request.path, "slept_ms": round(sleep_ms, 3)})


async def health(request: web.Request) -> web.Response:
    state = request.app[STATE]
    await state.pass_stall()
    state.served[request.path] += 1
    return web.json_response({"status": "ok"})


async def items(request: web.Request) -> web.Response:
    config = request.app[STATE].config
    base = _number(request, "latency_ms", config.latency_ms)
    jitter = _number(request, "jitter_ms", config.latency_jitter_ms)
    cpu = _number(request, "cpu_ms", config.cpu_ms)
    return await _load_endpoint(request, cpu, _latency_ms(config, base, jitter))


async def work(request: web.Request) -> web.Response:
    return await _load_endpoint(
        request, _number(request, "ms", 1.0), _number(request, "sleep_ms", 0.0)
    )


async def admin_stall(request: web.Request) -> web.Response:
    seconds = _number(request, "seconds", 1.0)
    after = _number(request, "after", 0.0)
    request.app[STATE].schedule_stall(after, seconds)
    return web.json_response({"stall_in_s": after, "stall_for_s": seconds})


async def admin_stats(request: web.Request) -> web.Response:
    state = request.app[STATE]
    return web.json_response(
        {
            "requests": dict(state.served),
            "rejected": state.rejected,
            "in_flight": state.in_flight,
            "max_in_flight": state.max_in_flight,
        }
    )


def build_app(config: ServiceConfig) -> web.Application:
    app = web.Application()
    app[STATE] = _State(config)
    app.router.add_get("/health", health)
    app.router.add_route("*", "/items", items)
    app.router.add_get("/items/{id}", items)
    app.router.add_get("/work", work)
    app.router.add_post("/admin/stall", admin_stall)
    app.router.add_get("/admin/stats", admin_stats)
    return app


def _announce(config: ServiceConfig, url: str) -> None:
    if config.ready_file is None:
        print(f"listening on {url}", flush=True)
        return
    # Write then rename, so a reader never sees half a line.
    partial = config.ready_file.with_name(config.ready_file.name + ".partial")
    partial.write_text(f"listening on {url}\n")
    partial.replace(config.ready_file)


async def serve(config: ServiceConfig) -> None:
    """Serve until SIGINT or SIGTERM; announce the URL once listening."""
    runner = web.AppRunner(
        build_app(config), access_log=None, handle_signals=False, shutdown_timeout=1.0
    )
    await runner.setup()
    try:
        site = web.TCPSite(runner, config.host, config.port, backlog=1024)
        await site.start()
        port = runner.addresses[0][1]
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        _announce(config, f"http://{config.host}:{port}")
        await stop.wait()
    finally:
        await runner.cleanup()
