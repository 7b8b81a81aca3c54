"""One exception root; each subclass carries its exit code (docs/design.md#exit-codes)."""

from __future__ import annotations

from typing import ClassVar

OK = 0
CHECK_FAILED = 1
BAD_INPUT = 2
INFRA = 3
INVALID_MEASUREMENT = 4
INTERNAL = 70
INTERRUPTED = 130

# When several outcomes apply, the first in this order wins (docs/design.md#exit-codes).
PRECEDENCE = (INTERRUPTED, INFRA, INTERNAL, INVALID_MEASUREMENT, CHECK_FAILED, BAD_INPUT, OK)


def worst(*codes: int) -> int:
    """The exit code that wins among several outcomes."""
    present = set(codes) or {OK}
    return next(code for code in PRECEDENCE if code in present)


class PerfenvError(Exception):
    """An expected failure: one line on stderr and its exit code, never a traceback."""

    exit_code: ClassVar[int] = INTERNAL


class CheckFailed(PerfenvError):
    exit_code = CHECK_FAILED


class BadInput(PerfenvError):
    exit_code = BAD_INPUT


class InfraError(PerfenvError):
    exit_code = INFRA


class InvalidMeasurement(PerfenvError):
    exit_code = INVALID_MEASUREMENT


class Interrupted(PerfenvError):
    exit_code = INTERRUPTED
