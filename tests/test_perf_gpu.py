"""``benchmarks/perf_gpu.py``'s logic that does not need a GPU: the largest-batch search."""

from __future__ import annotations

import pytest
from benchmarks.perf_gpu import largest_fitting


@pytest.mark.parametrize("limit_fits", [0, 1, 2, 3, 7, 8, 12, 100])
def test_largest_fitting_finds_the_boundary(limit_fits: int) -> None:
    tried: list[int] = []

    def fits(b: int) -> bool:
        tried.append(b)
        return b <= limit_fits

    largest, first_fail = largest_fitting(fits)
    assert largest == limit_fits and first_fail == limit_fits + 1
    assert len(tried) == len(set(tried))  # no batch is tried twice


def test_largest_fitting_stops_at_the_limit() -> None:
    assert largest_fitting(lambda b: True, limit=64) == (64, None)
