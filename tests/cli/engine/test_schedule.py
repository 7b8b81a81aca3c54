"""The open-model schedule: exact counts per second, an exact split across processes."""

from __future__ import annotations

import pytest

from perfenv.cli.engine.schedule import arrivals, planned_per_second

RATES = (2.5, 2.5, 0.0, 3.3, 100.0, 0.4, 0.4, 0.4)


def test_counts_per_second_sum_to_the_rounded_plan() -> None:
    counts = planned_per_second(RATES)
    assert counts[:5] == [3, 2, 0, 3, 100]
    assert sum(counts) == round(sum(RATES))


def test_arrivals_fall_in_their_second_evenly_spaced() -> None:
    times = [(due, second) for _, due, second in arrivals((100.0, 50.0))]
    assert len(times) == 150
    assert all(second <= due < second + 1 for due, second in times)
    assert times[1][0] - times[0][0] == pytest.approx(0.01)
    assert times[101][0] - times[100][0] == pytest.approx(0.02)


@pytest.mark.parametrize("shares", [2, 3, 7])
def test_shares_split_the_schedule_exactly(shares: int) -> None:
    whole = sorted(arrivals(RATES))
    parts = [list(arrivals(RATES, share, shares)) for share in range(shares)]
    assert sorted(a for part in parts for a in part) == whole
    per_share = [planned_per_second(RATES, share, shares) for share in range(shares)]
    assert [sum(column) for column in zip(*per_share, strict=True)] == planned_per_second(RATES)
    for share, part in enumerate(parts):
        by_second = [sum(1 for _, _, s in part if s == t) for t in range(len(RATES))]
        assert by_second == per_share[share]
