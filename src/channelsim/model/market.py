"""The customer population as arrays, and the random-utility choice among offers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

# The channel codes live in channels.py; importers of market.py still find them here.
from channelsim.model.channels import (  # noqa: F401
    CHANNELS,
    COMPETITOR,
    DEALER,
    NO_ONE,
    NONE,
    ONLINE,
    REP,
    TELESALES,
    is_ours,
)
from channelsim.scenario.population import PopulationData, first_window_end
from channelsim.scenario.schema import Market


@dataclass
class SegmentTable:
    """Segment parameters as arrays indexed by segment number."""

    names: list[str]
    large: NDArray[np.bool_]
    volume: NDArray[np.float64]
    cycle: NDArray[np.int32]
    decision_weeks: NDArray[np.int32]
    stages: NDArray[np.int8]
    price_sensitivity: NDArray[np.float64]
    service_sensitivity: NDArray[np.float64]
    direct_acceptance: NDArray[np.float64]
    loyalty: NDArray[np.float64]
    loss_ratio: NDArray[np.float64]
    initial_share: NDArray[np.float64]


@dataclass
class Population:
    """Struct of arrays: one entry per customer. Mutable state is updated in place by the model."""

    region: NDArray[np.int16]
    segment: NDArray[np.int16]
    volume: NDArray[np.float64]
    value: NDArray[np.float64]
    risk: NDArray[np.float64]
    due: NDArray[np.int32]
    window_end: NDArray[np.int32]
    incumbent: NDArray[np.int8]
    bought_before: NDArray[np.bool_]

    @property
    def size(self) -> int:
        return int(self.region.size)


def segment_table(market: Market) -> SegmentTable:
    segs = market.segments

    def col(attr: str, dtype: type) -> NDArray:
        return np.array([getattr(s, attr) for s in segs], dtype=dtype)

    return SegmentTable(
        names=[s.name for s in segs],
        large=col("large_account", bool),
        volume=col("volume", np.float64),
        cycle=col("cycle_weeks", np.int32),
        decision_weeks=col("decision_weeks", np.int32),
        stages=col("sales_cycle_stages", np.int8),
        price_sensitivity=col("price_sensitivity", np.float64),
        service_sensitivity=col("service_sensitivity", np.float64),
        direct_acceptance=col("direct_acceptance", np.float64),
        loyalty=col("loyalty", np.float64),
        loss_ratio=col("loss_ratio", np.float64),
        initial_share=col("initial_share", np.float64),
    )


def build_population(
    market: Market,
    table: SegmentTable,
    rng: np.random.Generator,
    data: PopulationData | None = None,
) -> Population:
    """Every customer's fixed traits and first purchase date.

    Customers are the rows of the tables (`data`, from market.population) or, for a market
    given by counts, each segment's customers in each region, stored cohort by cohort.
    Valuations and risks are drawn per (segment, region) cohort in that order, for the
    cohort's customers in storage order. Buying windows close uniformly over the first
    cycle (a steady start: some customers are already part-way through their window in
    week 0) unless a last purchase or a renewal month fixes the end of the first one
    (`population.first_window_end`); an annual volume becomes
    volume per purchase, annual * cycle / 52. What the tables lack is drawn as for counts.
    """
    counts = market.customer_counts()
    cohorts = [counts[r.name, s.name] for s in market.segments for r in market.regions]
    if data is None:
        cohort_of = np.repeat(np.arange(len(cohorts)), cohorts)
        region = (cohort_of % len(market.regions)).astype(np.int16)
        segment = (cohort_of // len(market.regions)).astype(np.int16)
    else:
        region, segment = data.region.astype(np.int16), data.segment.astype(np.int16)
    value, risk = _valuations_and_risks(market, region, segment, cohorts, rng)
    n = region.size
    cycle = table.cycle[segment]
    window_end = (rng.random(n) * cycle).astype(np.int32)
    volume = table.volume[segment]
    if data is not None:
        window_end = first_window_end(data.renewal_week, data.last_purchase, cycle, window_end)
        volume = np.where(np.isnan(data.annual_volume), volume, data.annual_volume * cycle / 52.0)
    due = window_end - table.decision_weeks[segment] + 1
    return Population(
        region=region,
        segment=segment,
        volume=volume,
        value=value,
        risk=risk,
        due=due.astype(np.int32),
        window_end=window_end.astype(np.int32),
        incumbent=np.full(n, NO_ONE, dtype=np.int8),
        bought_before=np.zeros(n, dtype=bool),
    )


def _valuations_and_risks(
    market: Market,
    region: NDArray[np.int16],
    segment: NDArray[np.int16],
    cohorts: list[int],
    rng: np.random.Generator,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Each customer's valuation and risk, drawn cohort by cohort (`cohorts`: customers per
    (segment, region), segment-major)."""
    power = np.array([r.purchasing_power for r in market.regions])
    cohort = segment.astype(np.int64) * power.size + region
    members_of = np.split(np.argsort(cohort, kind="stable"), np.cumsum(cohorts)[:-1])
    value, risk = np.zeros(region.size), np.zeros(region.size)
    for k, members in enumerate(members_of):
        if members.size == 0:
            continue
        seg, r = market.segments[k // power.size], k % power.size
        low, high = seg.valuation.low, seg.valuation.high
        if seg.valuation.distribution == "stratified":
            unit = (np.arange(members.size) + 0.5) / members.size
        else:
            unit = rng.random(members.size)
        value[members] = (low + (high - low) * unit) * power[r]
        risk[members] = seg.loss_ratio * rng.gamma(2.0, 0.5, size=members.size)
    return value, risk


def utilities(
    value: NDArray,
    prices: NDArray,
    service: NDArray,
    direct_acceptance: NDArray,
    price_sensitivity: NDArray,
    service_sensitivity: NDArray,
    loyalty: NDArray,
    incumbent: NDArray,
    available: NDArray[np.bool_],
) -> NDArray:
    """Per-unit utility of each channel for each customer (rows) and channel (columns).

    V_ij = b_p,i (theta_ij v_i - p_ij) + b_s,i s_ij + lambda_i [j == incumbent_i];
    theta is the direct-channel acceptance on rep, online and telesales, 1 elsewhere;
    the `none` column (no purchase) is 0; unavailable channels are -inf.
    """
    n, channels = value.size, len(CHANNELS)
    theta = np.ones((n, channels))
    theta[:, REP : TELESALES + 1] = direct_acceptance[:, None]  # rep, online, telesales
    surplus = theta * value[:, None] - prices
    u = price_sensitivity[:, None] * surplus + service_sensitivity[:, None] * service
    # Each row's incumbent column, by its position in the flattened array.
    at = np.arange(0, n * channels, channels) + np.maximum(incumbent, 0)
    u.reshape(-1)[at] += np.where(incumbent >= 0, loyalty, 0.0)
    u[:, NONE] = 0.0
    return np.where(available, u, -np.inf)


def choose(utility: NDArray, scale: float, gumbel: NDArray) -> NDArray[np.int64]:
    """Random-utility choice: argmax of V + scale * Gumbel noise (multinomial logit).

    Scale 0 is deterministic utility maximisation; ties go to the lower channel index
    (dealer before direct before no purchase), as in the valuation-based dual-channel model.
    """
    if scale == 0:
        return np.argmax(utility, axis=1)
    return np.argmax(utility + scale * gumbel, axis=1)


def logit_probabilities(utility: NDArray, scale: float) -> NDArray:
    """Closed-form multinomial-logit choice probabilities for the same utilities."""
    if scale == 0:
        best = utility == utility.max(axis=1, keepdims=True)
        first = np.argmax(best, axis=1)
        out = np.zeros_like(utility)
        out[np.arange(utility.shape[0]), first] = 1.0
        return out
    z = utility / scale
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)
