"""Best responses on step demand are exact: at the textbook's closed forms to within one step
of the demand each tier faces, at any N, unit cost, own costs, valuation range and theta.

With N stratified valuations on [low, high] demand loses one customer per (high - low)/N of
the retail price; a tier with j best-responding tiers below it faces a demand that loses a
customer every 2^j (high - low)/N of its own price (each tier below passes on half of a
change). An exact best response on that step function is within one step of the continuous
optimum (docs/validation.md, "Why these tolerances").
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from test_policies import decisions, economics, full_reach, sample

from channelsim.model import policies
from channelsim.model.market import DEALER, ONLINE, REP
from channelsim.scenario.schema import PricingPolicy

THREE_TIERS = PricingPolicy(
    wholesale="best_response", general_agent="best_response", dealer="best_response"
)


def stratified(n: int, high: float, low: float = 0.0) -> np.ndarray:
    return low + (high - low) * (np.arange(n) + 0.5) / n


def three_tier_chain(n, high, c, c_ga=0.0, c_d=0.0):
    """Simulated prices and units of maker -> agent -> dealer, and the closed form's."""
    econ = economics(unit_cost=c, flattened=False, general_agent_cost=c_ga, dealer_cost=c_d)
    values = stratified(n, high)
    out = decisions(wholesale=c + 0.1 * high, general_agent_markup=0.1, dealer_markup=0.2)
    out = policies.best_responses(out, econ, THREE_TIERS, sample(values=values), full_reach(n))
    prices = policies.chain(out, econ)
    b = n / high  # demand q = a - b p with a = N, b = N / high
    big_a = n - b * (c + c_ga + c_d)
    w1 = c + big_a / (2 * b)
    w2 = w1 + c_ga + big_a / (4 * b)
    p = w2 + c_d + big_a / (8 * b)
    sold = float((values >= prices.dealer_to_customer).sum())
    simulated = (
        prices.company_to_general_agent,
        prices.general_agent_to_dealer,
        prices.dealer_to_customer,
        sold,
    )
    return simulated, (w1, w2, p, big_a / 8)


def assert_within_one_step(simulated, closed, step):
    w1, w2, p, q = simulated
    assert abs(w1 - closed[0]) <= 4 * step  # two tiers below the maker
    assert abs(w2 - closed[1]) <= 2 * step  # one below the general agent
    assert abs(p - closed[2]) <= step
    assert abs(q - closed[3]) <= 1.0


@pytest.mark.parametrize(
    ("n", "high", "c", "c_ga", "c_d"),
    [
        (1000, 1.0, 0.2, 0.0, 0.0),  # the shipped textbook market
        (1000, 1.0, 0.45, 0.0, 0.0),
        (300, 2.5, 0.3, 0.0, 0.0),
        (1731, 1.0, 0.05, 0.0, 0.0),
        (800, 1.0, 0.2, 0.05, 0.1),  # own costs of agent and dealer
        (500, 3.0, 1.0, 0.2, 0.3),
    ],
)
def test_stacked_margins_match_the_closed_form_at_many_parameter_values(n, high, c, c_ga, c_d):
    simulated, closed = three_tier_chain(n, high, c, c_ga, c_d)
    assert_within_one_step(simulated, closed, high / n)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(50, 2000),
    high=st.floats(0.5, 3.0),
    cost=st.floats(0.0, 0.6),
    own=st.tuples(st.floats(0.0, 0.1), st.floats(0.0, 0.1)),
)
def test_stacked_margins_are_within_one_step_for_any_market(n, high, cost, own):
    c, c_ga, c_d = cost * high, own[0] * high, own[1] * high
    simulated, closed = three_tier_chain(n, high, c, c_ga, c_d)
    assert_within_one_step(simulated, closed, high / n)


def dual_channel_dealer(n, low, high, theta, w, p_d):
    """A best-responding dealer at cost w facing an online offer at p_d (theta v online)."""
    values = stratified(n, high, low)
    econ = economics(unit_cost=0.0, online_enabled=True)
    start = decisions(wholesale=w, list_price=p_d, dealer_markup=0.3)
    s = sample(offers=(DEALER, ONLINE), theta=theta, values=values)
    out = policies.best_responses(
        start, econ, PricingPolicy(dealer="best_response"), s, full_reach(n)
    )
    return policies.chain(out, econ).dealer_to_customer, values


def continuous_dealer_optimum(low, high, theta, w, p_d):
    """argmax (p - w) d_r(p) with Chiang-Chhajed-Hess shares on U[low, high] (dense search)."""
    grid = np.linspace(w, high, 400_001)
    cutoff = np.maximum(grid, (grid - p_d) / (1.0 - theta))  # lowest v that buys at the dealer
    share = np.clip((high - cutoff) / (high - low), 0.0, 1.0)
    profit = (grid - w) * share
    return float(grid[np.argmax(profit)]), float(profit.max())


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(50, 2000),
    high=st.floats(0.5, 3.0),
    low_share=st.floats(0.0, 0.5),
    theta=st.floats(0.3, 0.95),
    w_share=st.floats(0.05, 0.6),
    p_d_share=st.floats(0.2, 0.9),
)
def test_a_dealer_facing_an_online_channel_is_exact_for_any_market(
    n, high, low_share, theta, w_share, p_d_share
):
    low, w = low_share * high, w_share * high
    p_d = p_d_share * theta * high
    best, best_profit = continuous_dealer_optimum(low, high, theta, w, p_d)
    assume(best_profit > 0.02 * high)  # the dealer can sell at a profit
    price, values = dual_channel_dealer(n, low, high, theta, w, p_d)
    # Exact for the step function: no valuation or switching price earns more ...

    def buys(p: float) -> int:
        return int((values - p >= np.maximum(theta * values - p_d, 0.0)).sum())

    switches = np.concatenate([values, p_d + (1 - theta) * values])
    discrete = max((y - w) * buys(y) for y in switches[switches >= w])
    assert (price - w) * buys(price) >= discrete - 1e-8 * high * n  # the nudge below a switch
    # ... and within one step of the continuous optimum.
    assert abs(price - best) <= (high - low) / n


@pytest.mark.parametrize(("n", "high", "c"), [(1000, 1.0, 0.2), (400, 2.0, 0.5), (1500, 1.0, 0.7)])
@pytest.mark.parametrize("basis", ["revenue", "gross_margin"])
def test_a_reps_price_is_exact_at_many_parameter_values(n, high, c, basis):
    econ = economics(
        unit_cost=c,
        uses_dealers=False,
        reps_sell=True,
        rep_max_discount=0.95,
        commission_basis=basis,
        commission_rate=0.1,
    )
    s = sample(offers=(REP,), values=stratified(n, high))
    out = policies.best_responses(
        decisions(list_price=high), econ, PricingPolicy(rep="best_response"), s, full_reach(0)
    )
    price = high * (1 - out.rep_discount)
    closed = high / 2 if basis == "revenue" else (high + c) / 2
    assert abs(price - closed) <= high / n


def test_step_demand_gives_the_same_units_as_the_full_choice_rule():
    rng = np.random.default_rng(3)
    s = sample(offers=(DEALER, ONLINE, REP), theta=0.7, values=rng.random(500))
    demand = policies.Demand(s)
    rows = np.tile([0.6, 0.55, 0.4, 1.0, 1.0, 0.0], (50, 1))
    rows[:, DEALER] = rng.uniform(0, 1, 50)
    steps = policies.Steps(demand, rows[0], DEALER)
    np.testing.assert_allclose(steps.units(rows[:, DEALER]), demand.units(rows), atol=1e-9)


def test_envelope_is_the_followers_best_option_at_every_cost():
    rng = np.random.default_rng(4)
    price, units = rng.uniform(0, 1, 60), rng.integers(0, 30, 60).astype(float)
    hull, cuts = policies.envelope(price, units)
    costs = np.linspace(-0.2, 1.0, 997)
    best = ((price[None, :] - costs[:, None]) * units[None, :]).max(axis=1)
    on_hull = hull[np.searchsorted(cuts, costs)]
    np.testing.assert_allclose((price[on_hull] - costs) * units[on_hull], best, atol=1e-12)
