"""Health checks as the target group defines them: one task per registered target."""

from __future__ import annotations

import asyncio
import contextlib

from perfenv.cli.targets.local.balancer.framing import read_head, status_of
from perfenv.cli.targets.local.balancer.targets import HealthSettings, Target


async def probe(target: Target, settings: HealthSettings) -> tuple[bool, str, int]:
    """One check on a new connection, as an ALB makes them: (passed, failure kind, status)."""
    writer = None
    try:
        async with asyncio.timeout(settings.timeout_s):
            reader, writer = await asyncio.open_connection(target.host, target.port)
            writer.write(
                f"GET {settings.path} HTTP/1.1\r\nHost: {target.host}:{target.port}\r\n"
                "User-Agent: ELB-HealthChecker/2.0\r\nConnection: close\r\n\r\n".encode()
            )
            await writer.drain()
            head = await read_head(reader)
            if head is None:
                return False, "connection", 0
            status = status_of(head)
            return settings.matches(status), "mismatch", status
    except TimeoutError:
        return False, "timeout", 0
    except Exception:  # refused, reset, garbage: a failed check either way
        return False, "connection", 0
    finally:
        if writer is not None:
            with contextlib.suppress(Exception):
                writer.close()


async def check_forever(target: Target, settings: HealthSettings) -> None:
    """The first check at once (a new target must pass one), then every interval."""
    loop = asyncio.get_running_loop()
    while target.routable:
        started = loop.time()
        if settings.enabled:
            ok, failure, status = await probe(target, settings)
            target.record(ok, settings, failure, status)
        else:
            target.record(True, settings)
        await asyncio.sleep(max(0.0, settings.interval_s - (loop.time() - started)))
