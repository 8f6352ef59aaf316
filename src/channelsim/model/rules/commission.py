"""How reps are paid: commission on a basis, tiered by quota attainment, plus bonus and overlay."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray


def commission_base(basis: str, revenue: ArrayLike, unit_cost: float, units: ArrayLike) -> NDArray:
    """The amount the rate applies to: revenue, or gross margin (never below zero)."""
    revenue = np.asarray(revenue, dtype=float)
    if basis == "revenue":
        return revenue
    if basis == "gross_margin":
        return np.maximum(0.0, revenue - unit_cost * np.asarray(units, dtype=float))
    raise ValueError(f"unknown commission basis {basis!r}; expected 'revenue' or 'gross_margin'")


def tier_multiplier(attainment: ArrayLike, tiers: Sequence[tuple[float, float]]) -> NDArray:
    """Rate multiplier for the highest tier whose attainment threshold has been reached.

    Below the first threshold (or with no tiers) the multiplier is 1.
    """
    attainment = np.asarray(attainment, dtype=float)
    multiplier = np.ones_like(attainment)
    for threshold, factor in sorted(tiers):
        multiplier = np.where(attainment >= threshold, factor, multiplier)
    return multiplier


def commission(
    base: ArrayLike, rate: float, attainment: ArrayLike, tiers: Sequence[tuple[float, float]]
) -> NDArray:
    """Commission earned on `base` at the tiered rate for the rep's current attainment."""
    base = np.maximum(0.0, np.asarray(base, dtype=float))
    return base * rate * tier_multiplier(attainment, tiers)


def quota_bonus(attainment: ArrayLike, bonus: float) -> NDArray:
    """The quarterly bonus, paid in full to reps at or above quota."""
    return np.where(np.asarray(attainment, dtype=float) >= 1.0, bonus, 0.0)


def attainment(sales: ArrayLike, quota: ArrayLike) -> NDArray:
    """Sales over quota; a zero quota counts as fully attained."""
    sales = np.asarray(sales, dtype=float)
    quota = np.asarray(quota, dtype=float)
    safe = np.where(quota > 0, quota, 1.0)
    return np.where(quota > 0, sales / safe, 1.0)
