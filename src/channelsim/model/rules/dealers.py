"""Dealer rules: market-development effort, dissatisfaction, and when a dealer gives up."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def dealer_effort(
    base: float,
    margin_rate: float,
    reference_margin: float,
    elasticity: float,
    dissatisfaction: ArrayLike,
) -> NDArray:
    """Effort in [0, 1]: rises with the dealer's margin rate and falls with its dissatisfaction.

    e = base * (margin / reference)^elasticity * (1 - dissatisfaction), clipped to [0, 1].
    """
    ratio = max(margin_rate, 0.0) / reference_margin
    dissatisfaction = np.asarray(dissatisfaction, dtype=float)
    return np.clip(base * ratio**elasticity * (1.0 - dissatisfaction), 0.0, 1.0)


def update_dissatisfaction(
    current: ArrayLike, conflicts_lost: ArrayLike, sensitivity: float, recovery: float
) -> NDArray:
    """D' = D (1 - recovery) + (1 - D (1 - recovery)) * (1 - (1 - s)^losses): bounded in [0, 1]."""
    decayed = np.asarray(current, dtype=float) * (1.0 - recovery)
    hit = 1.0 - (1.0 - min(sensitivity, 1.0)) ** np.asarray(conflicts_lost, dtype=float)
    return np.clip(decayed + (1.0 - decayed) * hit, 0.0, 1.0)


def update_strikes(
    strikes: ArrayLike, trailing_profit: ArrayLike, dissatisfaction: ArrayLike, threshold: float
) -> NDArray:
    """Consecutive weeks a dealer has been losing money or too dissatisfied (0 on a good week)."""
    bad = (np.asarray(trailing_profit) < 0) | (np.asarray(dissatisfaction) > threshold)
    return np.where(bad, np.asarray(strikes) + 1, 0)
