"""Teardown: destroy, the leftovers check, stack removal and the registry entry's deletion.

A failure never raises: it is reported, and the stack is left for `perfenv reap`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from perfenv.cli.errors import INFRA, INTERRUPTED, PerfenvError
from perfenv.cli.lifecycle.checks import close_cost
from perfenv.cli.state import phases
from perfenv.cli.state.manifest import ManifestWriter
from perfenv.cli.state.signals import SignalPolicy, TeardownAbandoned
from perfenv.cli.targets.base import Progress, Target


@dataclass(kw_only=True)
class Teardown:
    leftovers: list[str] = field(default_factory=list)
    error: str = ""

    @property
    def clean(self) -> bool:
        return not self.leftovers and not self.error


def teardown(
    target: Target, stack: str, writer: ManifestWriter | None, progress: Progress
) -> Teardown:
    """Destroy, check leftovers, remove the stack and its registry entry. Never raises
    PerfenvError: a failure is reported in the result and leaves the stack for `reap`."""
    if writer:
        writer.write(status="tearing-down")
    result = Teardown()
    try:
        progress(f"destroying {stack}")
        with phases.phase("teardown/destroy"):
            target.destroy(stack, progress)
        with phases.phase("teardown/leftovers"):
            result.leftovers = list(target.leftovers(stack))
    except PerfenvError as exc:
        result.error = str(exc)
    except Exception as exc:  # noqa: BLE001 - e.g. a cloud API error: the stack stays for reap
        result.error = f"{type(exc).__name__}: {exc}"
    if not result.clean:
        if writer:
            note = result.error or f"{len(result.leftovers)} leftovers"
            writer.write(status="leaked", pid=None, note=note)
        return result
    target.remove(stack)
    if writer:
        writer.unregister(status="done", pid=None, note="destroyed")
        close_cost(writer.store, stack)
    progress(f"{stack}: destroyed, nothing left")
    return result


def teardown_message(stack: str, result: Teardown) -> str:
    if result.error:
        return f"{stack}: teardown failed: {result.error} (kept for perfenv reap)"
    shown = ", ".join(result.leftovers[:5]) + (" ..." if len(result.leftovers) > 5 else "")
    return f"{stack}: {len(result.leftovers)} leftovers after destroy: {shown} (kept for reap)"


def _teardown_codes(
    target: Target,
    stack: str,
    writer: ManifestWriter | None,
    policy: SignalPolicy,
    progress: Progress,
    messages: list[str],
) -> list[int]:
    try:
        with policy.teardown():
            result = teardown(target, stack, writer, progress)
    except TeardownAbandoned:
        if writer:
            writer.write(status="abandoned", pid=None, note="second SIGINT in teardown")
        messages.append(f"{stack}: teardown abandoned; run perfenv down again to finish it")
        return [INTERRUPTED]
    if result.clean:
        return []
    messages.append(teardown_message(stack, result))
    return [INFRA]
