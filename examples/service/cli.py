"""Command line of the reference service (argparse: the example stays free of perfenv's CLI)."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from perfenv.examples.service.app import ServiceConfig, serve


def parse_args(argv: list[str] | None = None) -> ServiceConfig:
    parser = argparse.ArgumentParser(
        prog="python -m perfenv.examples.service",
        description="Reference HTTP service with configurable latency, CPU work and limits.",
    )
    add = parser.add_argument
    add("--host", default="127.0.0.1")
    add("--port", type=int, default=8080, help="0 picks a free port (reported on start)")
    add("--latency-ms", type=float, default=20.0, help="base latency of /items")
    add("--latency-jitter-ms", type=float, default=5.0, help="uniform +- around the base")
    add("--slow-fraction", type=float, default=0.0, help="share of /items taking --slow-ms")
    add("--slow-ms", type=float, default=0.0)
    add("--cpu-ms", type=float, default=0.0, help="CPU work per /items request")
    add("--concurrency", type=int, default=16, help="requests in service at once (0: no limit)")
    add("--queue", type=int, default=64, help="requests waiting beyond that, then 503 (-1: any)")
    add("--stall-at", type=float, default=None, help="stall this many s after the first request")
    add("--stall-for", type=float, default=1.0, help="how long a stall lasts, s")
    add("--error-fraction", type=float, default=0.0, help="share of /items answering 500")
    add("--ready-file", type=Path, default=None, help="write the 'listening on' line here")
    args = parser.parse_args(argv)
    if args.concurrency < 0:
        parser.error("--concurrency: must be >= 0")
    for flag in ("slow_fraction", "error_fraction"):
        if not 0.0 <= getattr(args, flag) <= 1.0:
            parser.error(f"--{flag.replace('_', '-')}: must be between 0 and 1")
    return ServiceConfig(
        host=args.host,
        port=args.port,
        latency_ms=args.latency_ms,
        latency_jitter_ms=args.latency_jitter_ms,
        slow_fraction=args.slow_fraction,
        slow_ms=args.slow_ms,
        cpu_ms=args.cpu_ms,
        concurrency=args.concurrency,
        queue=args.queue,
        stall_at=args.stall_at,
        stall_for=args.stall_for,
        error_fraction=args.error_fraction,
        ready_file=args.ready_file,
    )


def main(argv: list[str] | None = None) -> None:
    asyncio.run(serve(parse_args(argv)))
