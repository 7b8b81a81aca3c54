"""The tests behind a verdict: Welch's t-test and the two-proportion z-test, in closed form."""

from __future__ import annotations

import math
from collections.abc import Sequence


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (Numerical Recipes, betacf)."""
    tiny, qab, qap, qam = 1e-300, a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-12:
            break
    return h


def _betainc(a: float, b: float, x: float) -> float:
    """Regularized incomplete beta I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def t_sf(t: float, df: float) -> float:
    """P(T > t) for Student's t with `df` degrees of freedom."""
    tail = 0.5 * _betainc(df / 2.0, 0.5, df / (df + t * t))
    return tail if t > 0 else 1.0 - tail


def welch_greater(base: Sequence[float], cand: Sequence[float]) -> float:
    """One-sided p-value of Welch's t-test that mean(cand) > mean(base)."""
    nb, nc = len(base), len(cand)
    mb, mc = sum(base) / nb, sum(cand) / nc
    vb = sum((x - mb) ** 2 for x in base) / (nb - 1)
    vc = sum((x - mc) ** 2 for x in cand) / (nc - 1)
    se2 = vb / nb + vc / nc
    if se2 == 0:
        return 0.0 if mc > mb else 1.0
    df = se2**2 / ((vb / nb) ** 2 / (nb - 1) + (vc / nc) ** 2 / (nc - 1))
    return t_sf((mc - mb) / math.sqrt(se2), df)


def proportion_greater(base: tuple[float, float], cand: tuple[float, float]) -> float:
    """One-sided p-value that the candidate's error proportion exceeds the baseline's."""
    (eb, nb), (ec, nc) = base, cand
    if nb <= 0 or nc <= 0:
        return 1.0
    pooled = (eb + ec) / (nb + nc)
    se = math.sqrt(pooled * (1 - pooled) * (1 / nb + 1 / nc))
    if se == 0:
        return 1.0
    z = (ec / nc - eb / nb) / se
    return 0.5 * math.erfc(z / math.sqrt(2))
