"""Visit allocation (salesforce.best_first) is exactly the full sort cut at each capacity."""

from __future__ import annotations

import numpy as np
import pytest

from channelsim.model.rules import salesforce


def full_sort_cut(seller, priority, jitter, capacity):
    """The reference: sort everyone by (seller, -priority, jitter), keep ranks < capacity."""
    order = np.lexsort((jitter, -priority, seller))
    sorted_seller = seller[order]
    rank = np.arange(order.size) - np.searchsorted(sorted_seller, sorted_seller, side="left")
    return order[rank < capacity[sorted_seller]]


@pytest.mark.parametrize("seed", range(40))
def test_best_first_is_the_full_sort_cut_at_capacity(seed: int) -> None:
    rng = np.random.default_rng(seed)
    sellers = int(rng.integers(1, 12))
    # Half the cases are large enough for the partial sorts (salesforce.FULL_SORT_BELOW).
    large = seed % 4 in (1, 2)
    low = salesforce.FULL_SORT_BELOW
    n = int(rng.integers(low, 2 * low)) if large else int(rng.integers(0, 400))
    seller = rng.integers(0, sellers, n).astype(np.int32)
    # Few distinct priorities (many ties), sometimes continuous ones, NaN and infinities.
    priority = rng.choice([0.0, -0.0, 1.0, 2.5, 10.0], n) if seed % 2 else rng.gamma(2.0, 1.0, n)
    if seed % 5 == 0 and n:
        priority[rng.random(n) < 0.05] = np.nan
        priority[rng.random(n) < 0.02] = np.inf
    jitter = rng.random(n)
    if seed % 3 == 0 and n:
        jitter[: n // 2] = 0.5  # exact ties: the earlier candidate comes first
    capacity = np.floor(rng.uniform(-2, 40 if not large else 400, sellers))
    if seed % 7 == 0:
        capacity[0] = np.nan
        capacity[-1] = 2.5
    expected = full_sort_cut(seller, priority, jitter, capacity)
    np.testing.assert_array_equal(
        salesforce.best_first(seller, priority, jitter, capacity), expected
    )
