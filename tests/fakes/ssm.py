"""Load generator instances behind SSM Run Command, for the aws target's tests (with moto).

`FakeInstances(fallback)` is a client factory: its `ssm` client sends commands through moto's
(which records them and answers every invocation `Success`) and then plays the instance: for
the master's script it reads the plan the CLI put in S3 (the URI the script copies it from),
checks the locustfile is there when the plan names one, and writes records of the plan for
`plan["workers"]` drivers where the script uploads them, as Locust's master would. `fail` makes
an instance's invocation end `Failed` with that stderr; the first `in_progress` invocations
asked for answer `InProgress`; `cancelled` lists cancelled commands.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hdrh.histogram import HdrHistogram

S3_URI = re.compile(r"s3://([^/\s']+)/([^\s']+)")


def _hist(values_us: list[int]) -> str:
    hist = HdrHistogram(1, 60_000_000, 3)
    for value in values_us:
        hist.record_value(value)
    return str(hist.encode().decode("ascii"))


def records(plan: dict[str, Any], latency_us: int = 2000) -> list[dict[str, Any]]:
    """What Locust's master writes for `plan`: each driver's share of every second."""
    drivers = max(1, plan["workers"])
    out: list[dict[str, Any]] = []
    for proc in range(drivers):
        out.append({"type": "start", "proc": proc, "wall": 1_800_000_000.0})
        total = 0
        for t, rate in enumerate(plan["rates"]):
            share = round(rate) // drivers + (1 if proc < round(rate) % drivers else 0)
            total += share
            out.append(
                {
                    "type": "window",
                    "proc": proc,
                    "t": t,
                    "planned": share,
                    "sent": share,
                    "ok": share,
                    "errors": 0,
                    "hist": _hist([latency_us] * share),
                    "kinds": {},
                    "codes": {"200": share},
                    "late": 0,
                    "dropped": 0,
                    "lag_ms": 1.0,
                    "slot_waits": 0,
                    "expired": 0,
                }
            )
            out.append({"type": "tick", "proc": proc, "cpu": 10.0, "loop_lag_ms": 1.0})
        endpoint = {"count": total, "errors": 0, "hist": _hist([latency_us] * total)}
        out.append({"type": "done", "proc": proc, "cpu_s": 0.5, "endpoints": {"GET /": endpoint}})
    return out


@dataclass
class _Ssm:
    owner: FakeInstances
    moto: Any

    def send_command(self, **kwargs: Any) -> Any:
        answer = self.moto.send_command(**kwargs)
        self.owner.sent.append(kwargs)
        if kwargs.get("Comment", "").endswith("master"):
            self.owner.play_master(kwargs["Parameters"]["commands"])
        return answer

    def get_command_invocation(self, CommandId: str, InstanceId: str) -> Any:  # noqa: N803
        self.owner.polled.append((CommandId, InstanceId))
        answer = dict(self.moto.get_command_invocation(CommandId=CommandId, InstanceId=InstanceId))
        if self.owner.in_progress > 0:
            self.owner.in_progress -= 1
            answer.update(Status="InProgress")
        elif InstanceId in self.owner.fail:
            answer.update(Status="Failed", StandardErrorContent=self.owner.fail[InstanceId])
        return answer

    def cancel_command(self, CommandId: str) -> Any:  # noqa: N803
        self.owner.cancelled.append(CommandId)
        return {}


@dataclass
class FakeInstances:
    fallback: Callable[[str, str], Any]
    sent: list[dict[str, Any]] = field(default_factory=list)
    polled: list[tuple[str, str]] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    fail: dict[str, str] = field(default_factory=dict)
    plans: list[dict[str, Any]] = field(default_factory=list)
    write_records: bool = True
    in_progress: int = 0  # invocations answered InProgress before moto's Success

    def __call__(self, service: str, region: str) -> Any:
        client = self.fallback(service, region)
        return _Ssm(self, client) if service == "ssm" else client

    def _get(self, uri: str) -> bytes:
        bucket, key = S3_URI.fullmatch(uri).groups()  # type: ignore[union-attr]
        body: bytes = (
            self.fallback("s3", "eu-west-1").get_object(Bucket=bucket, Key=key)["Body"].read()
        )
        return body

    def play_master(self, script: list[str]) -> None:
        text = "\n".join(script)
        plan_uri = next(
            m.group(0) for m in S3_URI.finditer(text) if m.group(2).endswith("plan.json")
        )
        plan = json.loads(self._get(plan_uri))
        self.plans.append(plan)
        if plan["locustfile"]:
            source = next(m.group(0) for m in S3_URI.finditer(text) if m.group(2).endswith(".py"))
            assert self._get(source), "the locustfile was not uploaded"
        if not self.write_records:
            return
        out = next(m for m in S3_URI.finditer(text) if m.group(2).endswith("records.jsonl"))
        body = "\n".join(json.dumps(r) for r in records(plan)) + "\n"
        self.fallback("s3", "eu-west-1").put_object(
            Bucket=out.group(1), Key=out.group(2), Body=body.encode()
        )
