"""One listener's balancer process: the proxy, its health checks and its control endpoint.

`python -m perfenv.cli.targets.local.balancer SPEC.json` listens on 127.0.0.1 (the spec's
`port`, 0 for any), then writes `{"pid", "port", "control_port"}` to the spec's `ready_file`.
The stack's controller drives it through the control endpoint (HTTP, loopback):

- `PUT /targets` `{"targets": {"i-0abc": ["127.0.0.1", 41234], ...}}`: the registered set;
- `GET /state?since=EPOCH`: `{"targets": {id: {state, reason, ...}}, "seconds": [...]}`.

It exits on SIGTERM or SIGINT, and when the controller that started it is gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from perfenv.cli.targets.local.balancer.framing import BadMessage, read_head
from perfenv.cli.targets.local.balancer.health import check_forever
from perfenv.cli.targets.local.balancer.proxy import Proxy
from perfenv.cli.targets.local.balancer.stats import Stats
from perfenv.cli.targets.local.balancer.targets import ROUND_ROBIN, HealthSettings, TargetSet

HOUSEKEEPING_S = 0.1


@dataclass(frozen=True, kw_only=True)
class BalancerSpec:
    ready_file: str
    port: int = 0
    algorithm: str = ROUND_ROBIN
    health: HealthSettings = HealthSettings()
    deregistration_delay_s: float = 300.0
    idle_timeout_s: float = 60.0

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BalancerSpec:
        return cls(**{**data, "health": HealthSettings(**data.get("health", {}))})


class Balancer:
    def __init__(self, spec: BalancerSpec) -> None:
        self.spec = spec
        self.targets = TargetSet(spec.algorithm, spec.deregistration_delay_s)
        self.stats = Stats()
        self.checks: set[asyncio.Task[None]] = set()
        self.proxy: Proxy | None = None

    def register(self, wanted: dict[str, tuple[str, int]]) -> None:
        for target in self.targets.register(wanted):
            task = asyncio.create_task(check_forever(target, self.spec.health))
            self.checks.add(task)  # the loop keeps only weak references to tasks
            task.add_done_callback(self.checks.discard)

    def housekeeping(self) -> None:
        assert self.proxy is not None
        for target in self.targets.expire():
            self.proxy.drop(target)

    def state(self, since: int) -> dict[str, Any]:
        return {"targets": self.targets.describe(), "seconds": self.stats.completed_since(since)}

    async def control(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await read_head(reader)
            if head is None:
                return
            body = await reader.readexactly(head.length) if head.length else b""
            method, target = head.first_line.decode().split(" ")[:2]
            url = urlsplit(target)
            if method == "PUT" and url.path == "/targets":
                wanted = json.loads(body)["targets"]
                self.register({k: (str(v[0]), int(v[1])) for k, v in wanted.items()})
                answer: dict[str, Any] = {"targets": self.targets.describe()}
            elif method == "GET" and url.path == "/state":
                since = int(parse_qs(url.query).get("since", ["0"])[0])
                answer = self.state(since)
            else:
                answer = {"error": f"no {method} {url.path}"}
            data = json.dumps(answer).encode()
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
                b"Content-Length: %d\r\n\r\n%s" % (len(data), data)
            )
            await writer.drain()
        except (BadMessage, ValueError, KeyError, ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        self.proxy = Proxy(self.targets, self.stats, self.spec.port, self.spec.idle_timeout_s)
        listener = await loop.create_server(
            self.proxy.client, "127.0.0.1", self.spec.port, backlog=1024
        )
        control = await asyncio.start_server(self.control, "127.0.0.1", 0)
        port = listener.sockets[0].getsockname()[1]
        self.proxy.set_port(port)
        ready = {
            "pid": os.getpid(),
            "port": port,
            "control_port": control.sockets[0].getsockname()[1],
        }
        tmp = Path(self.spec.ready_file + ".tmp")
        tmp.write_text(json.dumps(ready))
        os.replace(tmp, self.spec.ready_file)
        parent = os.getppid()
        while not stop.is_set() and os.getppid() == parent:
            self.housekeeping()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), HOUSEKEEPING_S)
        listener.close()
        control.close()


def main(argv: list[str]) -> None:
    if len(argv) != 1:
        sys.exit("usage: python -m perfenv.cli.targets.local.balancer SPEC.json")
    spec = BalancerSpec.from_json(json.loads(Path(argv[0]).read_text()))
    asyncio.run(Balancer(spec).run())
