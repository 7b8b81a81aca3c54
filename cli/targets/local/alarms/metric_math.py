"""CloudWatch metric math over the time series of an alarm's evaluation range.

The subset alarms use, with the semantics of "Using metric math": arithmetic (+ - * / ^, unary
minus; between two series a missing value counts as 0, and a point whose divisor is 0 is
dropped), comparisons and AND/OR (1 or 0 per point), IF(condition, true, false) as its table
shows it, FILL(series, scalar | series | REPEAT | LINEAR) over the whole range, ABS, CEIL,
FLOOR, LOG, LOG10, SUM/AVG/MIN/MAX (of one series: a scalar; of [a, b, ...]: a series),
TIME_SERIES(scalar) and PERIOD(metric). Anything else raises `Unsupported`.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from perfenv.cli.targets.local.alarms.model import Unsupported

Series = dict[datetime, float]
Value = float | Series | list[Series]
Arg = Value | str  # str: FILL's REPEAT and LINEAR

_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op>==|!=|<=|>=|&&|\|\||[-+*/^()<>\[\],]))"
)
_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<=": operator.le,
    ">=": operator.ge,
    "<": operator.lt,
    ">": operator.gt,
}
_UNARY: dict[str, Callable[[float], float]] = {
    "ABS": abs,
    "CEIL": math.ceil,
    "FLOOR": math.floor,
    "LOG": math.log,
    "LOG10": math.log10,
}
_REDUCE: dict[str, Callable[[Sequence[float]], float]] = {
    "SUM": math.fsum,
    "AVG": lambda v: math.fsum(v) / len(v),
    "MIN": min,
    "MAX": max,
}


class MathError(ValueError):
    """The expression is malformed or cannot produce a value (the message says why)."""


def _tokens(text: str) -> list[str]:
    out, pos = [], 0
    while pos < len(text.rstrip()):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise MathError(f"cannot read {text[pos:].strip()!r} in {text!r}")
        out.append(match.group(match.lastgroup or "op"))
        pos = match.end()
    return out


def _pointwise(a: Value, b: Value, fn: Callable[[float, float], float | None]) -> Value:
    """`fn` per point; between two series, over the union of timestamps with missing as 0."""
    if isinstance(a, list):
        return [_series(_pointwise(x, b, fn)) for x in a]
    if isinstance(b, list):
        return [_series(_pointwise(a, y, fn)) for y in b]
    if isinstance(a, dict) and isinstance(b, dict):
        pairs = {t: (a.get(t, 0.0), b.get(t, 0.0)) for t in a.keys() | b.keys()}
    elif isinstance(a, dict):
        pairs = {t: (v, float(b)) for t, v in a.items()}  # type: ignore[arg-type]
    elif isinstance(b, dict):
        pairs = {t: (float(a), v) for t, v in b.items()}
    else:
        value = fn(a, b)
        if value is None:
            raise MathError("division by zero between scalars")
        return value
    out = {t: fn(x, y) for t, (x, y) in pairs.items()}
    return {t: v for t, v in sorted(out.items()) if v is not None}


def _divide(x: float, y: float) -> float | None:
    return None if y == 0 else x / y


def _series(value: Value) -> Series:
    if not isinstance(value, dict):
        raise MathError("expected a time series")
    return value


class _Parser:
    def __init__(
        self,
        text: str,
        data: Mapping[str, Series],
        periods: Mapping[str, int],
        window: list[datetime],
    ) -> None:
        self.tokens, self.pos = _tokens(text), 0
        self.data, self.periods, self.window = data, periods, window

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            raise MathError(f"expected {expected or 'more'} at token {self.pos + 1}")
        self.pos += 1
        return token

    def parse(self) -> Value:
        value = self.logical()
        if self.peek() is not None:
            raise MathError(f"unexpected {self.peek()!r}")
        return value

    def logical(self) -> Value:
        value = self.conjunction()
        while self.peek() in ("||", "OR"):
            self.take()
            value = _pointwise(value, self.conjunction(), lambda x, y: float(bool(x or y)))
        return value

    def conjunction(self) -> Value:
        value = self.comparison()
        while self.peek() in ("&&", "AND"):
            self.take()
            value = _pointwise(value, self.comparison(), lambda x, y: float(bool(x and y)))
        return value

    def comparison(self) -> Value:
        value = self.additive()
        if self.peek() in _COMPARE:
            test = _COMPARE[self.take()]
            value = _pointwise(value, self.additive(), lambda x, y: float(test(x, y)))
        return value

    def additive(self) -> Value:
        value = self.multiplicative()
        while self.peek() in ("+", "-"):
            fn = operator.add if self.take() == "+" else operator.sub
            value = _pointwise(value, self.multiplicative(), fn)
        return value

    def multiplicative(self) -> Value:
        value = self.power()
        while self.peek() in ("*", "/"):
            fn = operator.mul if self.take() == "*" else _divide
            value = _pointwise(value, self.power(), fn)
        return value

    def power(self) -> Value:
        value = self.unary()
        if self.peek() == "^":
            self.take()
            value = _pointwise(value, self.power(), lambda x, y: float(x**y))
        return value

    def unary(self) -> Value:
        if self.peek() == "-":
            self.take()
            return _pointwise(-1.0, self.unary(), operator.mul)
        return self.primary()

    def primary(self) -> Value:
        token = self.take()
        if token == "(":
            value = self.logical()
            self.take(")")
            return value
        if token == "[":
            return [_series(item) for item in _plain(self.arguments("]"))]
        if token[0].isdigit() or token[0] == ".":
            return float(token)
        if token[0].islower():
            if token not in self.data:
                raise MathError(f"unknown id {token!r}")
            return dict(self.data[token])
        if self.peek() != "(":
            raise MathError(f"{token} is not a value here")
        self.take("(")
        if token == "PERIOD":
            ident = self.take()
            self.take(")")
            if ident not in self.periods:
                raise MathError(f"PERIOD takes a metric id (got {ident!r})")
            return float(self.periods[ident])
        return self.call(token, self.arguments(")"))

    def arguments(self, close: str) -> list[Arg]:
        args: list[Arg] = []
        while self.peek() != close:
            if self.peek() in ("REPEAT", "LINEAR"):
                args.append(self.take())
            else:
                args.append(self.logical())
            if self.peek() != close:
                self.take(",")
        self.take(close)
        return args

    def call(self, name: str, given: list[Arg]) -> Value:
        if name == "FILL" and len(given) == 2 and not isinstance(given[0], str):
            return _fill(_series(given[0]), given[1], self.window)
        args = _plain(given)
        if name == "IF" and len(args) in (2, 3):
            return _if(args[0], args[1], args[2] if len(args) == 3 else None, self.window)
        if name in _UNARY and len(args) == 1:
            fn = _UNARY[name]
            return _pointwise(args[0], 0.0, lambda x, _y: float(fn(x)))
        if name in _REDUCE and len(args) == 1:
            reduce = _REDUCE[name]
            if isinstance(args[0], list):
                keys = sorted(set().union(*args[0])) if args[0] else []
                return {t: float(reduce([s.get(t, 0.0) for s in args[0]])) for t in keys}
            values = list(_series(args[0]).values())
            if not values:
                raise MathError(f"{name} of an empty series")
            return float(reduce(values))
        if name == "TIME_SERIES" and len(args) == 1 and isinstance(args[0], float):
            return dict.fromkeys(self.window, args[0])
        raise Unsupported(f"metric math function {name} with {len(args)} argument(s)")


def _if(cond: Value, yes: Value, no: Value | None, window: list[datetime]) -> Series:
    if isinstance(cond, float):
        chosen = yes if cond else no
        if chosen is None:
            return {}
        return dict.fromkeys(window, chosen) if isinstance(chosen, float) else _series(chosen)
    out: Series = {}
    for t, c in _series(cond).items():
        branch = yes if c else no
        if isinstance(branch, float):
            out[t] = branch
        elif isinstance(branch, dict) and t in branch:
            out[t] = branch[t]
        elif c and isinstance(branch, dict):
            out[t] = 0.0  # true, and the true series has no point there: 0, as documented
    return out


def _plain(args: list[Arg]) -> list[Value]:
    out: list[Value] = []
    for arg in args:
        if isinstance(arg, str):
            raise MathError(f"{arg} is only a FILL argument")
        out.append(arg)
    return out


def _fill(series: Series, filler: Arg, window: list[datetime]) -> Series:
    out = dict(series)
    known = sorted(series)
    for t in window:
        if t in out:
            continue
        if isinstance(filler, float):
            out[t] = filler
        elif isinstance(filler, dict):
            if t in filler:
                out[t] = filler[t]
        elif filler == "REPEAT":
            before = [k for k in known if k < t]
            if before:
                out[t] = series[before[-1]]
        elif filler == "LINEAR":
            before = [k for k in known if k < t]
            after = [k for k in known if k > t]
            if before and after:
                a, b = before[-1], after[0]
                share = (t - a) / (b - a)
                out[t] = series[a] + (series[b] - series[a]) * share
        else:
            raise MathError(f"FILL cannot fill with {filler!r}")
    return dict(sorted(out.items()))


def evaluate(
    expression: str,
    data: Mapping[str, Series],
    window: Sequence[datetime],
    periods: Mapping[str, int] | None = None,
) -> Series:
    """The time series `expression` yields over `window` (period start times) from `data` by id."""
    value = _Parser(expression, data, periods or {}, sorted(window)).parse()
    if not isinstance(value, dict):
        raise MathError(f"{expression!r} must give one time series (an alarm watches one)")
    inside = set(window)
    return {t: v for t, v in value.items() if t in inside}
