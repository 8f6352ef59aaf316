"""Rep skill rules: the learning curve, coaching, training, sharing of practice, and what
skill does to a rep's offers, its pipeline and its outside pay (docs/model.md, 3.14).

Skill is a number in [0, 1] per rep; every update closes a share of the gap to the ceiling
(or to the region's best rep), so skill never passes the ceiling.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def learn(
    skill: ArrayLike, ceiling: float, learning_rate: float, coached: ArrayLike, coaching_gain: float
) -> NDArray:
    """A week in post: s' = s + (c - s) (1 - (1 - l)(1 - g)^k), k coached visits this week.

    With no coaching this is the learning curve s(t) = c - (c - s0)(1 - l)^t.
    """
    s = np.asarray(skill, dtype=float)
    kept = (1.0 - learning_rate) * (1.0 - coaching_gain) ** np.asarray(coached, dtype=float)
    return s + (ceiling - s) * (1.0 - kept)


def training_share(budget: float, gain_per_1000: float) -> float:
    """Share of the gap to the ceiling a quarter's training budget closes: 1 - (1 - g)^(B/1000).

    Each further 1,000 spent closes `gain_per_1000` of what is left (diminishing returns).
    """
    return 1.0 - (1.0 - gain_per_1000) ** (budget / 1000.0)


def close_gap(skill: ArrayLike, target: ArrayLike, share: ArrayLike) -> NDArray:
    """Move skill a share of the way towards a target: s + share (target - s)."""
    s = np.asarray(skill, dtype=float)
    return s + np.asarray(share, dtype=float) * (np.asarray(target, dtype=float) - s)


def region_best(skill: ArrayLike, region: ArrayLike, eligible: ArrayLike, regions: int) -> NDArray:
    """The highest skill among the eligible reps of each region (-inf where there are none)."""
    s, g, ok = np.asarray(skill, float), np.asarray(region), np.asarray(eligible, bool)
    best = np.full(regions, -np.inf)
    np.maximum.at(best, g[ok], s[ok])
    return best


def offer_value(skill: ArrayLike, reference: float, value_per_skill: float) -> NDArray:
    """Money per unit a rep's offer is worth to the customer beyond an average rep's:
    value_per_skill (s - reference); negative for reps below the reference."""
    return value_per_skill * (np.asarray(skill, dtype=float) - reference)


def advance_factor(skill: ArrayLike, reference: float, per_skill: float) -> NDArray:
    """Factor on the chance a visit advances a deal: max(0, 1 + per_skill (s - reference))."""
    return np.maximum(0.0, 1.0 + per_skill * (np.asarray(skill, dtype=float) - reference))


def outside_pay(market_pay: float, skill: ArrayLike, reference: float, per_skill: float) -> NDArray:
    """What a rep could earn elsewhere: market_pay (1 + per_skill (s - reference)), >= 0.

    Good reps have better outside offers, so the same pay keeps them less well.
    """
    factor = 1.0 + per_skill * (np.asarray(skill, dtype=float) - reference)
    return market_pay * np.maximum(factor, 0.0)


def allocate_coaching(
    skill: ArrayLike,
    region: ArrayLike,
    eligible: ArrayLike,
    capacity: ArrayLike,
    per_rep: int,
) -> NDArray[np.int64]:
    """Joint visits each rep gets this week: up to `per_rep` each, weakest reps first, until
    the region's managers' joint-visit `capacity` (visits, by region) is used up."""
    s, g, ok = np.asarray(skill, float), np.asarray(region), np.asarray(eligible, bool)
    cap = np.floor(np.asarray(capacity, dtype=float)).astype(np.int64)
    out = np.zeros(s.size, np.int64)
    reps = np.flatnonzero(ok)
    if reps.size == 0 or per_rep <= 0:
        return out
    order = reps[np.lexsort((reps, s[reps], g[reps]))]
    wanted = np.full(order.size, per_rep, np.int64)
    rg = g[order]
    before = np.cumsum(wanted) - wanted
    start = np.searchsorted(rg, rg, side="left")
    used_before = before - before[start]
    out[order] = np.clip(cap[rg] - used_before, 0, per_rep)
    return out
