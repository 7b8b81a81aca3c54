"""The fuzz harness: odd inputs to the parsers behind validate (stack and suite files), compare
(results files), down --manifest (manifests, with a fake target), release names and URLs.

Every case runs in-process (the CLI through CliRunner) and must end in its entry point's
documented exit codes, with no traceback and nothing created where it was refused. Cases come
from hypothesis: mutations of the shipped files (a value anywhere replaced by any YAML/JSON
value, keys that are not strings, deleted keys), whole random documents, and raw bytes.

PERFENV_FUZZ_EXAMPLES sets the cases per entry point (default 60, derandomized so the default
run is repeatable); set it higher for a longer, randomly seeded hunt. The count of cases and of
tracebacks is printed.
"""

from __future__ import annotations

import copy
import ipaddress
import json
import os
import shutil
import socket
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from perfenv.cli import lifecycle
from perfenv.cli.errors import BadInput
from perfenv.cli.main import app
from perfenv.cli.state.manifest import new_manifest
from perfenv.cli.state.names import inside, is_ephemeral_name
from perfenv.cli.state.releases import check_release, release_from_key, release_key, release_slug
from perfenv.cli.state.store import FileStore
from perfenv.cli.state.urls import redact_url
from tests.cli.reports.test_reports import _doc
from tests.fakes.target import FakeTarget

pytestmark = pytest.mark.xdist_group("fuzz")  # one worker: one tally, printed at the end
EXAMPLES = int(os.environ.get("PERFENV_FUZZ_EXAMPLES", "60"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,  # nothing written into the checkout
    derandomize="PERFENV_FUZZ_EXAMPLES" not in os.environ,
    phases=[Phase.explicit, Phase.generate],  # counted, not shrunk: the tally names each case
    suppress_health_check=list(HealthCheck),
)
runner = CliRunner()


@dataclass
class Tally:
    cases: Counter[str] = field(default_factory=Counter)  # inputs, per entry point
    checks: int = 0  # invariants checked beside them (nothing created, names round-trip)
    tracebacks: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"fuzz: {sum(self.cases.values())} cases {dict(self.cases)}, "
            f"{self.checks} invariant checks, {len(self.tracebacks)} tracebacks, "
            f"{len(self.wrong)} other failures"
        )

    def clean(self, entry: str) -> bool:
        return not any(line.startswith(entry) for line in [*self.tracebacks, *self.wrong])

    def check(self, entry: str, result: Any, allowed: set[int], case: object) -> bool:
        """Count one CLI case; whether it was refused (exit 2)."""
        self.cases[entry] += 1
        crashed = result.exception is not None and not isinstance(result.exception, SystemExit)
        if crashed or "Traceback" in result.output or result.exit_code == 70:
            self.tracebacks.append(f"{entry}: {case!r:.300} -> {result.output[-600:]}")
        elif result.exit_code not in allowed:
            self.wrong.append(f"{entry}: exit {result.exit_code} for {case!r:.300}")
        return bool(result.exit_code == 2)

    def holds(self, entry: str, ok: bool, case: object) -> None:
        """Check one invariant of a case."""
        self.checks += 1
        if not ok:
            self.wrong.append(f"{entry}: invariant broken for {case!r:.300}")


# --- strategies ------------------------------------------------------------------------------

scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=24)
)
keys = st.text(max_size=12) | st.integers(-5, 5) | st.booleans() | st.none()
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=16,
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=24),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=16,
)


def _paths(doc: Any, at: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield at
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield from _paths(value, (*at, key))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            yield from _paths(value, (*at, index))


@st.composite
def mutated(draw: st.DrawFn, base: Any, replacement: st.SearchStrategy[Any]) -> Any:
    """`base` with one to three values replaced (or deleted, or given a non-string key)."""
    doc = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(doc) if p]
        if not paths:
            return draw(replacement)
        path = draw(st.sampled_from(paths))
        parent = doc
        for part in path[:-1]:
            parent = parent[part]
        action = draw(st.sampled_from(["replace", "delete", "rekey"]))
        if action == "delete":
            del parent[path[-1]]
        elif action == "rekey" and isinstance(parent, dict):
            parent[draw(keys)] = parent.pop(path[-1])
        else:
            parent[path[-1]] = draw(replacement)
    return doc


def _yaml(doc: Any) -> bytes:
    return yaml.safe_dump(doc, allow_unicode=True).encode()


def documents(base: Any, dump: Callable[[Any], bytes]) -> st.SearchStrategy[bytes]:
    """A file's bytes: the base mutated, a whole random document, or raw bytes."""
    return st.one_of(
        mutated(base, values).map(dump),
        mutated(base, values).map(dump),
        values.map(dump),
        st.binary(max_size=120),
        st.text(max_size=120).map(str.encode),
    )


# --- the world each case runs in ---------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    repo = Path(__file__).resolve().parents[2]
    return {
        "stack": yaml.safe_load((repo / "stacks" / "Pulumi.dev.yaml").read_text()),
        "suite": yaml.safe_load((repo / "suites" / "smoke.yaml").read_text()),
        "results": _doc(),
        "dev_text": (repo / "stacks" / "Pulumi.dev.yaml").read_text(),
        "smoke_text": (repo / "suites" / "smoke.yaml").read_text(),
    }


@pytest.fixture(scope="module")
def tally() -> Iterator[Tally]:
    yield Tally()


class Project:
    """A fresh Pulumi project per case (PERFENV_PROJECT/PERFENV_HOME point at it)."""

    def __init__(self, base: Path, dev_text: str, smoke_text: str) -> None:
        self.root = Path(tempfile.mkdtemp(dir=base))
        (self.root / "stacks").mkdir()
        (self.root / "suites").mkdir()
        (self.root / "Pulumi.yaml").write_text("name: p\nruntime: python\nstackConfigDir: stacks\n")
        (self.root / "stacks" / "Pulumi.dev.yaml").write_text(dev_text)
        (self.root / "suites" / "smoke.yaml").write_text(smoke_text)
        self.env = {
            "PERFENV_PROJECT": str(self.root),
            "PERFENV_HOME": str(self.root / ".perfenv"),
            "PERFENV_STATE_URL": f"file://{self.root / '.perfenv' / 'state'}",
        }

    def files(self) -> set[str]:
        return {str(p.relative_to(self.root)) for p in self.root.rglob("*")}

    def __enter__(self) -> Project:
        self._patch = mock.patch.dict(os.environ, self.env)
        self._patch.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._patch.stop()
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def world(tmp_path: Path, shipped: dict[str, Any]) -> Callable[[], Project]:
    return lambda: Project(tmp_path, shipped["dev_text"], shipped["smoke_text"])


# --- the entry points ------------------------------------------------------------------------


def test_validate_stack_files(world: Callable[[], Project], shipped: Any, tally: Tally) -> None:
    @FUZZ
    @given(documents(shipped["stack"], _yaml))
    def case(content: bytes) -> None:
        with world() as project:
            (project.root / "stacks" / "Pulumi.fuzz.yaml").write_bytes(content)
            before = project.files()
            result = runner.invoke(app, ["validate", "--stack", "fuzz"])
            tally.check("validate stack", result, {0, 2}, content)
            tally.holds("validate stack: nothing created", project.files() == before, content)

    case()
    assert tally.clean("validate stack"), tally.tracebacks[:3] + tally.wrong[:3]


def test_validate_suite_files(world: Callable[[], Project], shipped: Any, tally: Tally) -> None:
    @FUZZ
    @given(documents(shipped["suite"], _yaml))
    def case(content: bytes) -> None:
        with world() as project:
            (project.root / "suites" / "fuzz.yaml").write_bytes(content)
            before = project.files()
            result = runner.invoke(app, ["validate"])
            tally.check("validate suite", result, {0, 2}, content)
            tally.holds("validate suite: nothing created", project.files() == before, content)

    case()
    assert tally.clean("validate suite"), tally.tracebacks[:3] + tally.wrong[:3]


def test_compare_results_files(world: Callable[[], Project], shipped: Any, tally: Tally) -> None:
    dump: Callable[[Any], bytes] = lambda doc: json.dumps(doc, default=str).encode()  # noqa: E731

    @FUZZ
    @given(documents(shipped["results"], dump), st.booleans())
    def case(content: bytes, candidate_side: bool) -> None:
        with world() as project:
            good, odd = project.root / "good.json", project.root / "odd.json"
            good.write_text(json.dumps(shipped["results"]))
            odd.write_bytes(content)
            sides = [str(good), str(odd)] if candidate_side else [str(odd), str(good)]
            before = project.files()
            result = runner.invoke(app, ["compare", *sides])
            tally.check("compare", result, {0, 1, 2}, content)
            tally.holds("compare: nothing created", project.files() == before, content)

    case()
    assert tally.clean("compare"), tally.tracebacks[:3] + tally.wrong[:3]


def test_down_manifest(world: Callable[[], Project], tally: Tally) -> None:
    base = new_manifest(
        stack="perf-1-0-0-abc123",
        target="local",
        backend="file:///b",
        state_url="file:///s",
        release="1.0.0",
        tags={"perfenv:stack": "perf-1-0-0-abc123"},
        ttl_s=60,
        out_dir=None,
    ).model_dump() | {"pid": None, "status": "up"}
    dump: Callable[[Any], bytes] = lambda doc: json.dumps(doc, default=str).encode()  # noqa: E731

    @FUZZ
    @given(documents(base, dump))
    def case(content: bytes) -> None:
        with world() as project:
            target = FakeTarget()  # never a real one: the case's own file under its home
            store_root = project.root / ".perfenv" / "state"
            use = lifecycle.Deps(
                target=lambda name=None, **_: target,
                store=lambda url=None: FileStore(store_root, f"file://{store_root}"),
            )
            manifest = project.root / "out" / "manifest.json"
            manifest.parent.mkdir()
            manifest.write_bytes(content)
            before = project.files()
            result = runner.invoke(app, ["down", "--manifest", str(manifest)], obj=use)
            tally.check("down --manifest", result, {0, 2, 3}, content)
            outside = {f for f in project.files() - before if not f.startswith(".perfenv")}
            tally.holds("down --manifest: nothing created", not outside, content)

    case()
    assert tally.clean("down --manifest"), tally.tracebacks[:3] + tally.wrong[:3]


release_names = st.one_of(
    st.text(max_size=60),
    st.from_regex(r"\A(release/|v)?\d{1,3}\.\d{1,3}(\.\d{1,3})?([-+][0-9A-Za-z./_-]{0,16})?\Z"),
    st.text(alphabet="/.-_+~%@:^ \\", max_size=12),
)


def test_release_names(world: Callable[[], Project], tally: Tally) -> None:
    @FUZZ
    @given(release_names)
    def case(release: str) -> None:
        with world() as project:
            try:
                check_release(release)
            except BadInput:
                safe = None
            else:
                slug, key = release_slug(release), release_key(release)
                stack = lifecycle.new_stack_name(release)
                safe = (
                    is_ephemeral_name(stack)
                    and stack.startswith(f"perf-{slug}-")
                    and "/" not in key
                    and key not in (".", "..")
                    and release_from_key(key) == release
                    and inside(project.root, "results", key).parent == project.root / "results"
                )
            tally.holds("release name", safe is not False, release)
            before = project.files()
            result = runner.invoke(app, ["compare", release, release])
            tally.check("compare RELEASE", result, {2}, release)
            tally.holds("compare RELEASE: nothing created", project.files() == before, release)

    case()
    assert tally.clean("release name") and tally.clean("compare RELEASE"), tally.wrong[:3]


def _resolver(host: Any, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
    """No DNS in tests: loopback names and literal addresses only, as getaddrinfo answers."""
    name = (host.decode() if isinstance(host, bytes) else str(host)).lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        name = "127.0.0.1"
    try:
        address = ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known") from None
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    return [(family, socket.SOCK_STREAM, 6, "", (str(address), port or 0))]


urls = st.one_of(
    st.text(max_size=40),
    st.from_regex(
        r"\A(https?|ftp|file|HTTP)://([a-z0-9:@%._-]{0,12}@)?"
        r"(127\.0\.0\.1|localhost|[a-z.]{0,12}\.localhost|\[::1\]|10\.0\.0\.\d|[a-z0-9.-]{0,20})"
        r"(:\d{0,6})?(/[a-zA-Z0-9/%?&=#._-]{0,16})?\Z"
    ),
)


def test_urls(world: Callable[[], Project], tally: Tally) -> None:
    from tests.cli.synthetic import measurement

    def run_plan(plan: Any, progress: Any = None, hosts: Any = None) -> Any:
        return measurement(plan.scenario, plan.rates, warmup_s=plan.warmup_s)

    @FUZZ
    @given(urls)
    def case(url: str) -> None:
        shown = redact_url(url)
        netloc = shown.split("://", 1)[-1].split("/", 1)[0] if "://" in shown else ""
        clean = "?" not in shown and "#" not in shown and "@" not in netloc
        tally.holds("redact_url", shown == "<malformed URL>" or clean, url)
        with world() as project:
            out = project.root / "out"
            suite = str(project.root / "suites" / "smoke.yaml")
            before = project.files()
            with (
                mock.patch("socket.getaddrinfo", _resolver),
                mock.patch("perfenv.cli.engine.run_plan", run_plan),
                mock.patch("perfenv.cli.reports.write_reports", lambda doc, out_dir: []),
            ):
                result = runner.invoke(
                    app, ["test", "--url", url, "--suite", suite, "--out", str(out)]
                )
            refused = tally.check("test --url", result, {0, 1, 2, 4}, url)
            if refused:
                tally.holds("test --url: nothing created", project.files() == before, url)

    case()
    assert tally.clean("test --url") and tally.clean("redact_url"), tally.wrong[:3]


def test_the_count_of_tracebacks_is_zero(tally: Tally) -> None:
    """Runs after the entry points in this module (pytest keeps a module's order)."""
    print("\n" + tally.summary())
    assert not tally.tracebacks, "\n".join(tally.tracebacks[:5])
    assert not tally.wrong, "\n".join(tally.wrong[:5])
