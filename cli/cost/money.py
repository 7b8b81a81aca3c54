"""Money as exact decimals with a currency; never floats."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CURRENCY = "USD"
CENT = Decimal("0.01")
SUB_CENT = Decimal("0.0001")


def dec(value: object) -> Decimal:
    """A Decimal from a str, int, Decimal or float (floats through their shortest repr)."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(str(value))


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def sub_cents(amount: Decimal) -> Decimal:
    return amount.quantize(SUB_CENT, rounding=ROUND_HALF_UP)


def plain(amount: Decimal) -> str:
    """`80`, `0.5`: a threshold or quantity without trailing zeros or exponent."""
    text = format(amount.normalize(), "f")
    return text


@dataclass(frozen=True)
class Gap:
    """A value an API did not give: the cell says why, and is never read as zero."""

    reason: str

    def __str__(self) -> str:
        return f"n/a: {self.reason}"


Amount = Decimal | Gap
