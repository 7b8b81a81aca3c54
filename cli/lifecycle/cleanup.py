"""Teardown that cannot fail before it destroys: destroy, the leftovers check, stack removal,
the registry entry's deletion.

Only refusals come before destroy (the caller's: intent, a live heartbeat; the target's: another
account, a missing tool, which refuse before touching anything). Nothing is written before
destroy; every write after it is guarded, so a store error or expired credentials leave a clear
message and a manifest that `perfenv down --manifest` can finish, never a traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from perfenv.cli.errors import BAD_INPUT, INFRA, INTERRUPTED, OK, BadInput, PerfenvError
from perfenv.cli.lifecycle.checks import close_cost
from perfenv.cli.state import phases
from perfenv.cli.state.manifest import MANIFEST_NAME
from perfenv.cli.state.signals import SignalPolicy, TeardownAbandoned
from perfenv.cli.state.writer import ManifestWriter
from perfenv.cli.targets.base import Progress, Target


@dataclass(kw_only=True)
class Teardown:
    leftovers: list[str] = field(default_factory=list)
    error: str = ""  # destroy or the leftovers check failed: the stack stays for reap
    refused: str = ""  # the target refused before touching anything
    unrecorded: list[str] = field(default_factory=list)  # destroyed; a later write failed
    abandoned: bool = False  # a second SIGINT stopped it

    @property
    def clean(self) -> bool:
        """Destroyed with nothing left and everything recorded."""
        failed = self.leftovers or self.error or self.refused or self.unrecorded
        return not (failed or self.abandoned)

    @property
    def code(self) -> int:
        if self.abandoned:
            return INTERRUPTED
        if self.refused:
            return BAD_INPUT
        return OK if self.clean else INFRA


def _described(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, PerfenvError) else f"{type(exc).__name__}: {exc}"


def teardown(
    target: Target, stack: str, writer: ManifestWriter | None, progress: Progress
) -> Teardown:
    """Destroy, check leftovers, remove the stack and its registry entry. Never raises for a
    failure: it is in the result, and the stack is left for `perfenv reap`/`down`."""
    result = Teardown()
    try:
        progress(f"destroying {stack}")
        with phases.phase("teardown/destroy"):
            target.destroy(stack, progress)
        with phases.phase("teardown/leftovers"):
            result.leftovers = list(target.leftovers(stack))
    except BadInput as exc:
        result.refused = str(exc)
        return result  # nothing was touched: nothing to record
    except Exception as exc:  # noqa: BLE001 - e.g. a cloud API error: the stack stays for reap
        result.error = _described(exc)

    def guarded(what: str, action: Callable[[], object]) -> bool:
        try:
            action()
        except Exception as exc:  # noqa: BLE001 - reported; down --manifest finishes it
            result.unrecorded.append(f"{what} failed ({_described(exc)})")
            return False
        return True

    if not result.clean:
        note = result.error or f"{len(result.leftovers)} leftovers"
        if writer:
            guarded(
                "recording the leak", lambda: writer.write(status="leaked", pid=None, note=note)
            )
        return result
    if not guarded("removing the stack's state", lambda: target.remove(stack)):
        if writer:
            note = "destroyed; its state not removed"
            guarded("recording it", lambda: writer.write(status="leaked", pid=None, note=note))
        return result
    if writer:
        guarded(
            "removing the run registry entry",
            lambda: writer.unregister(status="done", pid=None, note="destroyed"),
        )
        guarded("closing the cost record", lambda: close_cost(writer.store, stack))
    if result.clean:
        progress(f"{stack}: destroyed, nothing left")
    return result


def teardown_message(stack: str, result: Teardown, writer: ManifestWriter | None = None) -> str:
    """One line saying what went wrong and what finishes it."""
    finish = f"perfenv down --stack {stack}"
    if writer is not None and writer.manifest.out_dir:
        finish = f"perfenv down --manifest {writer.manifest.out_dir}/{MANIFEST_NAME}"
    if result.abandoned:
        return f"{stack}: teardown abandoned; finish it with {finish}"
    if result.refused:
        return f"{stack}: {result.refused}"
    if result.error:
        return f"{stack}: teardown failed: {result.error} (kept for perfenv reap)"
    if result.leftovers:
        left = result.leftovers
        shown = ", ".join(left[:5]) + (" ..." if len(left) > 5 else "")
        return f"{stack}: {len(left)} leftovers after destroy: {shown} (kept for reap)"
    return f"{stack}: destroyed, but {'; '.join(result.unrecorded)}; {finish} finishes it"


def guarded_teardown(
    target: Target,
    stack: str,
    writer: ManifestWriter | None,
    policy: SignalPolicy,
    progress: Progress,
    messages: list[str],
) -> Teardown:
    """`teardown` under the signal policy's teardown phase (a second SIGINT abandons it);
    a line for `messages` unless it was clean."""
    try:
        with policy.teardown():
            result = teardown(target, stack, writer, progress)
    except TeardownAbandoned:
        result = Teardown(abandoned=True)
        if writer:
            try:
                writer.write(status="abandoned", pid=None, note="second SIGINT in teardown")
            except Exception as exc:  # noqa: BLE001 - the message below still says what to do
                progress(f"{stack}: could not record the abandoned teardown ({_described(exc)})")
    if not result.clean:
        messages.append(teardown_message(stack, result, writer))
    return result
