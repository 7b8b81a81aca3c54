"""`perfenv capacity --release R`: the capacity model again, from stored stress results.

The stored results keep the knee and the server side (instances in service); the stack's
config is read now, so a changed `capacity.expected_peak_rps` or `fleet.max` is answered without
another run.
"""

from __future__ import annotations

from typing import Any

from perfenv.cli.errors import BadInput
from perfenv.cli.state.releases import check_release
from perfenv.cli.state.results import stored_runs
from perfenv.cli.state.store import Store
from perfenv.cli.verdict.capacity import capacity_model
from perfenv.infra.config import ConfigError, load_stack_file


def _environment(stack: str | None) -> Any:
    from perfenv.cli.project import perf_template, stack_file

    path = stack_file(stack) if stack else perf_template()
    try:
        env = load_stack_file(path).environment
    except ConfigError as exc:
        raise BadInput("\n".join(exc.lines)) from None
    if env is None:
        raise BadInput(f"{path.name}: config: capacity needs a perfenv:environment stack")
    return env


def stored_capacity(
    store: Store, release: str, suite: str | None, stack: str | None
) -> dict[str, Any]:
    """The model from the latest stored run of `release` (of `suite`) with a stress knee."""
    check_release(release)
    env = _environment(stack)
    runs = [r for r in stored_runs(store, suite) if r.release == release]
    for run in reversed(runs):
        doc = store.get(run.key)
        model = capacity_model(doc, env) if doc else None
        if model is not None:
            return model
    which = f" of suite {suite!r}" if suite else ""
    raise BadInput(f"no stored run{which} of release {release!r} has a stress scenario with a knee")
