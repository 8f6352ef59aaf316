"""One precision rule for every table: a number alone has four significant figures; a mean
with an interval is rounded where the interval's half-width has two; thousands separators
always, never an exponent."""

from __future__ import annotations

import numpy as np
import pytest

from channelsim.output.display import mean_pm, number


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (6_659_748, "6,660,000"),
        (0.31142, "0.3114"),
        (24.0, "24"),
        (-21_386.4, "-21,390"),
        (0.00031, "0.00031"),
        (0.0, "0"),
        (float("nan"), "-"),
    ],
)
def test_a_number_alone_has_four_significant_figures(value: float, text: str) -> None:
    assert number(value) == text


@pytest.mark.parametrize(
    ("mean", "low", "high", "text"),
    [
        (6_659_748, 6_438_709, 6_880_787, "6,660,000 ± 220,000"),
        (0.311, 0.301, 0.321, "0.311 ± 0.010"),
        (78.1, 72.5, 83.7, "78.1 ± 5.6"),
        (5.0, 5.0, 5.0, "5"),
        (0.4, 0.0, 0.769, "0.40 [0, 0.77]"),
    ],
)
def test_a_mean_is_rounded_to_its_interval(mean: float, low: float, high: float, text: str) -> None:
    assert mean_pm(mean, low, high) == text


@pytest.mark.parametrize("mean", [12.35, 32.85, 0.125, 2_675.5])
def test_a_value_rounds_the_same_from_a_table_cell_as_from_python(mean: float) -> None:
    """A numpy float from a table and the same Python float print the same digits (numpy's
    own rounding gave 12.4 in one table and 12.3 in another for the same mean of 12.35)."""
    low, high = mean - 1.637, mean + 1.637
    assert mean_pm(np.float64(mean), np.float64(low), np.float64(high)) == mean_pm(mean, low, high)
    assert number(np.float64(mean)) == number(mean)
