"""A Target that keeps its stacks in a JSON file under PERFENV_HOME (so a CLI subprocess sees
them too), with hooks to interrupt or fail a step and a way to leak resources."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from perfenv.cli.errors import BadInput
from perfenv.cli.project import home
from perfenv.cli.state.manifest import parse_iso
from perfenv.cli.targets.base import Progress, StackInfo, UpResult
from perfenv.infra.config import StackFile

Hook = Callable[[str], None]


@dataclass
class FakeTarget:
    name: str = "fake"
    backend: str = "file:///fake-backend"
    on_up: Hook | None = None
    on_destroy: Hook | None = None
    up_error: Exception | None = None
    leak: set[str] = field(default_factory=set)
    calls: list[str] = field(default_factory=list)
    refuse: Exception | None = None  # what preflight raises (a refused account, a missing CLI)
    configs: dict[str, StackFile] = field(default_factory=dict)

    @property
    def path(self) -> Path:
        return home() / "fake" / "stacks.json"

    def _load(self) -> dict[str, Any]:
        try:
            data: dict[str, Any] = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        return data

    def _save(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(data))

    def preflight(self, config: StackFile, progress: Progress) -> None:
        if self.refuse is not None:
            raise self.refuse

    def up(
        self, stack: str, config: StackFile, tags: dict[str, str], progress: Progress
    ) -> UpResult:
        self.calls.append(f"up {stack}")
        data = self._load()
        if stack in data:
            raise BadInput(f"{stack}: already up; down it first")
        if isinstance(self.up_error, BadInput):
            raise self.up_error
        self.configs[stack] = config
        resources = [
            f"aws:ec2/vpc:Vpc {stack}-vpc",
            f"aws:lb/loadBalancer:LoadBalancer {stack}-alb",
        ]
        data[stack] = {
            "tags": tags,
            "created_at": datetime.now(UTC).isoformat(),
            "resources": resources,
            "outputs": {"service_url": "http://127.0.0.1:1"},
        }
        self._save(data)
        progress(f"{stack}: creating")
        if self.on_up:
            self.on_up(stack)
        if self.up_error:
            raise self.up_error
        return UpResult(stack=stack, outputs=data[stack]["outputs"], resources=len(resources))

    def destroy(self, stack: str, progress: Progress) -> None:
        self.calls.append(f"destroy {stack}")
        if self.on_destroy:
            self.on_destroy(stack)
        data = self._load()
        if stack in data:
            data[stack]["resources"] = [r for r in data[stack]["resources"] if r in self.leak]
            self._save(data)

    def outputs(self, stack: str) -> dict[str, Any]:
        outputs: dict[str, Any] = self._load().get(stack, {}).get("outputs", {})
        return outputs

    def list_stacks(self) -> list[StackInfo]:
        infos = []
        for name, entry in self._load().items():
            expires = entry["tags"].get("perfenv:expires-at")
            infos.append(
                StackInfo(
                    name=name,
                    target=self.name,
                    tags=entry["tags"],
                    created_at=datetime.fromisoformat(entry["created_at"]),
                    expires_at=_expiry(expires),
                )
            )
        return infos

    def telemetry(self, stack: str) -> Any:
        return None

    def probe(self, stack: str) -> Any:
        return None

    def generator(self, stack: str) -> Any:
        return None

    def leftovers(self, stack: str) -> list[str]:
        self.calls.append(f"leftovers {stack}")
        left: list[str] = self._load().get(stack, {}).get("resources", [])
        return left

    def remove(self, stack: str) -> None:
        self.calls.append(f"remove {stack}")
        data = self._load()
        data.pop(stack, None)
        self._save(data)

    def resources(self) -> dict[str, list[str]]:
        return {name: entry["resources"] for name, entry in self._load().items()}


@dataclass
class FakeSuite:
    name: str = "fake"
    max_cost_usd: float | None = None
    planned_s: float = 60.0
    scenarios: tuple[Any, ...] = ()  # no load planned: the load generator keeps its own size


@dataclass
class FakeRunner:
    """Stands in for `testrun.run_suite`: writes a results.json, returns an outcome."""

    exit_code: int = 0
    during: Hook | None = None
    calls: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, suite: Any, base_url: str, out_dir: Path, **kwargs: Any) -> Any:
        self.calls.append({"base_url": base_url, "out_dir": out_dir, **kwargs})
        if self.during:
            self.during(base_url)
        out_dir.mkdir(parents=True, exist_ok=True)
        results = out_dir / "results.json"
        results.write_text(json.dumps({"release": kwargs.get("release")}))
        verdict = "pass" if self.exit_code == 0 else "fail"
        return SimpleNamespace(
            exit_code=self.exit_code, verdict=verdict, results_path=results, comparison=None
        )


def _expiry(tag: str | None) -> datetime | None:
    """As the real targets read the expiry tag: None when absent or not a time."""
    try:
        return parse_iso(tag) if tag else None
    except ValueError:
        return None


def fake_deps(fake: FakeTarget | None = None, **changes: Any) -> Any:
    """The lifecycle commands' `Deps` with `fake` for every stack name, a fake suite and runner,
    and every check passing; `changes` replace any of them (e.g. `target=<factory>`)."""
    from perfenv.cli import lifecycle

    base: dict[str, Any] = {
        "target": lambda name=None, **_: fake,
        "load_suite": lambda path: FakeSuite(),
        "planned_duration_s": lambda suite: suite.planned_s,
        "run_suite": FakeRunner(),
        "check_parity": lambda config: None,
        "check_cost": lambda config, suite, stack, **_: None,
        "check_baseline": lambda baseline, suite, store, target: None,
        "wait_healthy": lambda url: None,
    }
    return lifecycle.Deps(**(base | changes))
