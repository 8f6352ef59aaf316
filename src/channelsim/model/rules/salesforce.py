"""Sales-force rules: quotas, the weekly quit hazard, ramp-up of new hires, and effort."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import erf

QUARTER_WEEKS = 13
# Below this many candidates one sort of them all is cheaper than finding each seller's cut
# first (measured: 50 against 140 microseconds at 1,000 candidates, 400 against 200 at 4,000).
FULL_SORT_BELOW = 3000


def negotiated_quota(
    company_target: float, reps: int, noise: ArrayLike, haggling_bias: float
) -> NDArray:
    """A flat share of the company target, moved by negotiation noise and talked down by bias.

    `noise` is one standard-normal draw per rep, scaled by the caller.
    """
    flat = company_target / max(reps, 1)
    return np.maximum(0.0, flat * (1.0 - haggling_bias) * (1.0 + np.asarray(noise, dtype=float)))


def data_driven_quota(territory_potential: ArrayLike, target_share: float) -> NDArray:
    """A share of the quarterly revenue the territory could yield, measured from its customers."""
    return np.maximum(0.0, np.asarray(territory_potential, dtype=float) * target_share)


def quit_probability(
    base_rate: float,
    pay_ratio: ArrayLike,
    attainment: ArrayLike,
    pay_sensitivity: float,
    attainment_sensitivity: float,
) -> NDArray:
    """Weekly chance a rep quits: base rate scaled up when pay or attainment fall short of par.

    h = base * exp(a_pay * (1 - pay_ratio)^+ + a_att * (1 - attainment)^+), capped at 1.
    Pay or attainment above par do not lower the hazard below the base rate.
    """
    pay_gap = np.maximum(0.0, 1.0 - np.asarray(pay_ratio, dtype=float))
    attainment_gap = np.maximum(0.0, 1.0 - np.asarray(attainment, dtype=float))
    hazard = base_rate * np.exp(pay_sensitivity * pay_gap + attainment_sensitivity * attainment_gap)
    return np.clip(hazard, 0.0, 1.0)


def ramp(tenure_weeks: ArrayLike, ramp_weeks: int) -> NDArray:
    """Productivity of a rep with the given tenure: linear from 1/(ramp+1) to 1."""
    tenure = np.asarray(tenure_weeks, dtype=float)
    if ramp_weeks <= 0:
        return np.ones_like(tenure)
    return np.clip((tenure + 1.0) / (ramp_weeks + 1.0), 0.0, 1.0)


def incentive_effort(
    rate: ArrayLike, productivity: ArrayLike, cost: float, maximum: ArrayLike
) -> NDArray:
    """Visits a rep chooses when pay follows sales: e* = beta h / k, within [0, maximum].

    Under linear pay alpha + beta x with expected output x = h e (h: commission base per
    visit), effort cost k e^2 / 2 and a risk premium r sigma^2 beta^2 / 2 that does not
    depend on e, the certainty equivalent alpha + beta h e - k e^2 / 2 - r sigma^2 beta^2 / 2
    is highest at e* = beta h / k (Holmstrom and Milgrom 1987). `rate` may include the
    marginal pay of a quota bonus or tier (see `quota_step_rate`).
    """
    wanted = np.asarray(rate, dtype=float) * np.asarray(productivity, dtype=float) / cost
    return np.clip(wanted, 0.0, np.asarray(maximum, dtype=float))


def expected_variable_pay(
    effort: ArrayLike,
    rate: ArrayLike,
    productivity: ArrayLike,
    credit_per_visit: ArrayLike,
    quota: ArrayLike,
    tiers: Sequence[tuple[float, float]],
    bonus: float,
    spread: ArrayLike,
) -> NDArray:
    """A rep's expected weekly commission and quota bonus at `effort` visits a week.

    Rows are reps, columns efforts. Commission: rate x h e x the tier multiplier; quarterly
    credit X = 13 g e (g: credited revenue per visit) reaches attainment X / quota; tiers and
    the bonus are steps in pay at attainment thresholds, in expectation over
    X ~ Normal(13 g e, spread^2): each step of size s at threshold t adds
    s Phi((X - t quota) / spread) (a hard step if spread = 0). The bonus is spread over the
    quarter's 13 weeks.
    """
    e = np.asarray(effort, dtype=float)

    def col(x: ArrayLike) -> NDArray:
        return np.asarray(x, dtype=float)[..., None]

    h, g, q, spread_ = col(productivity), col(credit_per_visit), col(quota), col(spread)
    output = QUARTER_WEEKS * g * e

    def reached(threshold: float) -> NDArray:
        gap = output - threshold * q
        with np.errstate(divide="ignore", invalid="ignore"):
            smooth = 0.5 * (1.0 + erf(gap / (np.sqrt(2.0) * np.where(spread_ > 0, spread_, 1.0))))
        return np.where(q <= 0, 1.0, np.where(spread_ > 0, smooth, (gap >= 0).astype(float)))

    multiplier = np.ones_like(output)
    previous = 1.0
    for threshold, factor in sorted(tiers):
        multiplier = multiplier + (factor - previous) * reached(threshold)
        previous = factor
    commission = col(rate) * h * e * multiplier
    return commission + bonus * reached(1.0) / QUARTER_WEEKS


def choose_effort(
    rate: ArrayLike,
    productivity: ArrayLike,
    credit_per_visit: ArrayLike,
    quota: ArrayLike,
    tiers: Sequence[tuple[float, float]],
    bonus: float,
    spread: ArrayLike,
    cost: float,
    maximum: ArrayLike,
    points: int = 257,
) -> NDArray:
    """Each rep's visits a week: the effort that maximises expected pay minus k e^2 / 2.

    With linear pay the answer is e* = beta h / k (`incentive_effort`); quota bonuses and
    tiers add steps in expected pay (`expected_variable_pay`), so the rep compares e* with
    `points` efforts spread over [0, maximum] and takes the best. The risk premium does
    not depend on effort and so does not change it.
    """
    maximum = np.asarray(maximum, dtype=float)
    linear = incentive_effort(rate, productivity, cost, maximum)
    if not tiers and bonus == 0:
        return linear
    grid = np.linspace(0.0, 1.0, points)[None, :] * maximum[:, None]
    efforts = np.concatenate([linear[:, None], grid], axis=1)
    value = expected_variable_pay(
        efforts, rate, productivity, credit_per_visit, quota, tiers, bonus, spread
    )
    value = value - 0.5 * cost * efforts**2
    return efforts[np.arange(efforts.shape[0]), np.argmax(value, axis=1)]


def participation_salary(
    market_pay: float,
    rate: ArrayLike,
    output: ArrayLike,
    effort: ArrayLike,
    cost: float,
    risk_aversion: float,
    noise: float,
) -> NDArray:
    """The weekly salary alpha at which a rep's certainty equivalent equals its market pay.

    alpha + beta x - k e^2 / 2 - r sigma^2 beta^2 / 2 = market pay, so the company pays for
    the effort and the risk it asks of the rep (the participation constraint). Never
    negative.
    """
    beta = np.asarray(rate, dtype=float)
    e = np.asarray(effort, dtype=float)
    premium = 0.5 * risk_aversion * noise**2 * beta**2
    alpha = market_pay - beta * np.asarray(output, dtype=float) + 0.5 * cost * e**2 + premium
    return np.maximum(0.0, alpha)


def best_first(
    seller: NDArray, priority: NDArray, jitter: NDArray, capacity: NDArray
) -> NDArray[np.intp]:
    """Which candidates each seller visits: its best `capacity` by priority (ties by jitter).

    Returns positions into the candidate arrays ordered by seller, priority (highest
    first), jitter, then position: exactly the first `capacity[s]` entries of seller s in
    `np.lexsort((jitter, -priority, seller))`. With many candidates only those that can
    still make a seller's cut are sorted (a seller sees far more candidates than it has
    visits), and that cut is found by a partial sort of each over-subscribed seller's
    priorities; with fewer than FULL_SORT_BELOW all are sorted.
    """
    neg = -np.asarray(priority, dtype=float)
    if seller.size < FULL_SORT_BELOW:
        order = np.lexsort((jitter, neg, seller))
    else:
        keep = _may_make_the_cut(seller, neg, capacity)
        order = keep[np.lexsort((jitter[keep], neg[keep], seller[keep]))]
    sorted_seller = seller[order]
    rank = np.arange(order.size) - np.searchsorted(sorted_seller, sorted_seller, side="left")
    return order[rank < capacity[sorted_seller]]


def _may_make_the_cut(seller: NDArray, neg: NDArray, capacity: NDArray) -> NDArray[np.intp]:
    """Positions of the candidates at or above their seller's cut-off priority (`neg` is the
    negated priority), found by a partial sort of each over-subscribed seller's."""
    counts = np.bincount(seller, minlength=capacity.size)
    limit = np.ceil(capacity)  # positions r < capacity are the r < ceil(capacity)
    keep_all = ~(counts > limit)  # also when capacity is NaN: the final cut decides
    threshold = np.full(capacity.size, np.inf)
    over = np.flatnonzero(~keep_all)
    if over.size:
        narrow = np.int16 if capacity.size <= np.iinfo(np.int16).max else np.int32
        by_seller = np.argsort(seller.astype(narrow), kind="stable")
        starts = np.cumsum(counts) - counts
        for s in over:
            k = int(limit[s])
            if k <= 0:
                threshold[s] = -np.inf
                continue
            own = neg[by_seller[starts[s] : starts[s] + counts[s]]]
            cut = np.partition(own, k - 1)[k - 1]
            if np.isnan(cut):  # fewer than k numbers: NaNs come last, keep everyone
                keep_all[s] = True
            else:
                threshold[s] = cut
    return np.flatnonzero(keep_all[seller] | (neg <= threshold[seller]))
