"""Pricing policies as pure functions: expected demand, best responses, hill climbing."""

from __future__ import annotations

import numpy as np
import pytest

from channelsim.model import policies
from channelsim.model.market import (
    CHANNELS,
    COMPETITOR,
    DEALER,
    NONE,
    ONLINE,
    REP,
    logit_probabilities,
    utilities,
)
from channelsim.scenario.schema import PricingPolicy

N = 1000
VALUES = (np.arange(N) + 0.5) / N  # stratified valuations on [0, 1]


def sample(offers=(DEALER,), scale=0.0, theta=1.0, values=VALUES) -> policies.DemandSample:
    n = values.size
    available = np.zeros((n, len(CHANNELS)), bool)
    available[:, list(offers)] = True
    available[:, NONE] = True
    return policies.DemandSample(
        value=values,
        direct_acceptance=np.full(n, theta),
        price_sensitivity=np.ones(n),
        service_sensitivity=np.zeros(n),
        loyalty=np.zeros(n),
        incumbent=np.full(n, -1, np.int8),
        service=np.zeros((n, len(CHANNELS))),
        offers=available,
        weight=np.ones(n),
        scale=scale,
    )


def full_reach(n: int = N) -> policies.DealerReach:
    return policies.DealerReach(
        reach=np.ones(n),
        effort_ceiling=np.ones(n),
        relationship=np.zeros(n),
        windows=np.ones(n),
        weight=np.ones(n),
        reference_margin=0.2,
        elasticity=0.0,
    )


def economics(**changes) -> policies.Economics:
    base = dict(
        unit_cost=0.2,
        price_floor=0.0,
        flattened=True,
        uses_dealers=True,
        reps_sell=False,
        rep_max_discount=0.0,
        online_enabled=False,
        online_discount=0.0,
        online_cost_per_unit=0.0,
        competitor_price=1.0,
        commission_basis="revenue",
        commission_rate=0.0,
    )
    return policies.Economics(**{**base, **changes})


def decisions(**changes) -> policies.Decisions:
    base = dict(
        wholesale=0.5, list_price=1.0, general_agent_markup=0.0, dealer_markup=0.2, rep_discount=0.0
    )
    return policies.Decisions(**{**base, **changes})


# --- expected demand --------------------------------------------------------------------


def test_deterministic_demand_counts_customers_who_value_the_product_at_the_price_or_more():
    rows = np.zeros((3, len(CHANNELS)))
    rows[:, DEALER] = [0.25, 0.5, 0.9]
    units = policies.expected_units(sample(), rows)
    np.testing.assert_allclose(units[:, DEALER], [(p <= VALUES).sum() for p in (0.25, 0.5, 0.9)])
    np.testing.assert_allclose(units.sum(axis=1), N)  # everyone buys or not: units add up


def test_expected_demand_agrees_with_the_models_utilities_and_logit_choice():
    s = sample(offers=(DEALER, ONLINE), scale=0.07, theta=0.7)
    prices = np.array([0.6, 1.0, 0.35, 1.0, 1.0, 0.0])
    direct = utilities(
        value=s.value,
        prices=np.broadcast_to(prices, (N, len(CHANNELS))),
        service=s.service,
        direct_acceptance=s.direct_acceptance,
        price_sensitivity=s.price_sensitivity,
        service_sensitivity=s.service_sensitivity,
        loyalty=s.loyalty,
        incumbent=s.incumbent,
        available=s.offers,
    )
    expected = logit_probabilities(direct, 0.07).sum(axis=0)
    np.testing.assert_allclose(policies.expected_units(s, prices)[0], expected, rtol=1e-12)


def test_a_channel_that_makes_no_offer_sells_nothing():
    units = policies.expected_units(sample(offers=(DEALER,), scale=0.1), np.full(6, 0.3))
    assert units[0, REP] == 0 and units[0, ONLINE] == 0 and units[0, COMPETITOR] == 0


def test_choke_price_is_where_the_last_customer_stops_buying():
    assert policies.choke_price(sample()) == pytest.approx(VALUES.max())
    assert policies.choke_price(sample(scale=0.05)) == pytest.approx(VALUES.max() + 6 * 0.05)


def test_systematic_sample_keeps_everyone_below_the_cap_and_spreads_evenly_above_it():
    np.testing.assert_array_equal(policies.systematic_sample(50, 100), np.arange(50))
    picked = policies.systematic_sample(10_000, 400)
    assert picked.size == 400 and picked[0] == 0 and picked[-1] == 9_999
    assert np.all(np.diff(picked) > 0)


# --- best responses ---------------------------------------------------------------------


def test_best_price_finds_the_maximum_of_a_smooth_profit_curve():
    price = policies.best_price(lambda p: (p - 0.2) * (1 - p), 0.0, 1.0, 21)
    assert price == pytest.approx(0.6, abs=1e-6)


def test_best_price_keeps_the_current_price_when_nothing_is_strictly_better():
    assert policies.best_price(lambda p: np.ones_like(p), 0.0, 1.0, 11, current=0.37) == 0.37


def test_dealer_best_response_to_linear_demand_is_halfway_between_cost_and_choke():
    policy = PricingPolicy(dealer="best_response")
    out = policies.best_responses(decisions(), economics(), policy, sample(), full_reach())
    retail = 0.5 * (1 + out.dealer_markup)
    assert retail == pytest.approx((1 + 0.5) / 2, abs=2 / N)


def test_general_agent_anticipates_the_dealer_and_takes_half_the_remaining_room():
    policy = PricingPolicy(general_agent="best_response", dealer="best_response")
    econ = economics(flattened=False)
    out = policies.best_responses(decisions(wholesale=0.6), econ, policy, sample(), full_reach())
    w2 = 0.6 * (1 + out.general_agent_markup)
    assert w2 == pytest.approx((1 + 0.6) / 2, abs=2 / N)
    assert w2 * (1 + out.dealer_markup) == pytest.approx((1 + w2) / 2, abs=2 / N)


def test_price_floor_binds_a_best_responding_dealer():
    econ = economics(price_floor=0.9)
    policy = PricingPolicy(dealer="best_response")
    out = policies.best_responses(decisions(), econ, policy, sample(), full_reach())
    prices = policies.chain(out, econ)
    assert prices.dealer_to_customer >= 0.9


@pytest.mark.parametrize(("basis", "price"), [("revenue", 0.5), ("gross_margin", 0.6)])
def test_rep_maximises_its_commission_within_its_authority(basis, price):
    econ = economics(
        uses_dealers=False,
        reps_sell=True,
        rep_max_discount=0.9,
        commission_basis=basis,
        commission_rate=0.1,
    )
    policy = PricingPolicy(rep="best_response")
    out = policies.best_responses(decisions(), econ, policy, sample(offers=(REP,)), full_reach(0))
    assert 1.0 * (1 - out.rep_discount) == pytest.approx(price, abs=2 / N)


def test_rep_authority_caps_the_discount():
    econ = economics(uses_dealers=False, reps_sell=True, rep_max_discount=0.2, commission_rate=0.1)
    policy = PricingPolicy(rep="best_response")
    out = policies.best_responses(decisions(), econ, policy, sample(offers=(REP,)), full_reach(0))
    # It wants half off but may give only 20 % (less the one step of demand above 0.8).
    assert 0.2 - 2 / N <= out.rep_discount <= 0.2


@pytest.mark.parametrize("online", [False, True])
def test_company_uses_the_list_price_to_hold_a_revenue_paid_rep_at_its_own_optimum(online):
    # The rep would discount to 1/2; the company, which keeps (1 - 0.1) p - c per unit, wants
    # p = (0.9 + 0.2) / 1.8. Anticipating the rep (Stackelberg), it sets the list price so
    # that the rep's largest allowed discount (90 %) lands on that price. An online channel
    # at the list price never undercuts the rep (ties go to the rep), so it changes nothing,
    # but it makes the rep's demand depend on the list price (the nested search).
    econ = economics(
        uses_dealers=False,
        reps_sell=True,
        rep_max_discount=0.9,
        commission_rate=0.1,
        online_enabled=online,
    )
    policy = PricingPolicy(list_price="best_response", rep="best_response", grid_points=41)
    offers = (REP, ONLINE) if online else (REP,)
    out = policies.best_responses(decisions(), econ, policy, sample(offers=offers), full_reach(0))
    assert out.rep_discount == pytest.approx(0.9)
    assert out.list_price * (1 - out.rep_discount) == pytest.approx(1.1 / 1.8, abs=0.01)


# --- dealer reach -------------------------------------------------------------------------


def test_reach_does_not_depend_on_the_markup_without_effort_elasticity():
    reach = policies.DealerReach(
        reach=np.full(3, 0.3),
        effort_ceiling=np.full(3, 0.8),
        relationship=np.zeros(3),
        windows=np.array([1, 2, 4]),
        weight=np.ones(3),
        reference_margin=0.2,
        elasticity=0.0,
    )
    shares = reach.share(np.array([0.0, 0.1, 1.0]))
    expected = np.mean([1 - (1 - 0.24) ** w for w in (1, 2, 4)])
    np.testing.assert_allclose(shares, expected)


def test_reach_rises_with_the_markup_when_effort_does_and_own_customers_keep_a_floor():
    reach = policies.DealerReach(
        reach=np.full(2, 0.3),
        effort_ceiling=np.ones(2),
        relationship=np.array([0.8, 0.0]),
        windows=np.ones(2),
        weight=np.ones(2),
        reference_margin=0.2,
        elasticity=1.0,
    )
    shares = reach.share(np.array([0.0, 0.1, 0.2, 0.4]))
    assert shares[0] < shares[1] < shares[2]
    assert shares[3] == shares[2]  # effort is full from the reference margin on
    assert shares[0] == pytest.approx(0.8 / 2)  # no effort: only the relationship reach


# --- hill climbing --------------------------------------------------------------------------

NO_EXPLORATION = [0.99, 0.5]


def test_hill_climber_keeps_direction_while_profit_does_not_fall():
    price, climb = policies.hill_climb(
        1.0, policies.Climb(1.0, 10.0), 12.0, 0.05, 0.1, 0, 5, NO_EXPLORATION
    )
    assert price == pytest.approx(1.05) and climb.direction == 1.0 and climb.last_profit == 12.0


def test_hill_climber_turns_back_when_profit_falls():
    price, climb = policies.hill_climb(
        1.0, policies.Climb(1.0, 10.0), 8.0, 0.05, 0.1, 0, 5, NO_EXPLORATION
    )
    assert price == pytest.approx(0.95) and climb.direction == -1.0


def test_hill_climber_explores_in_a_random_direction():
    price, _ = policies.hill_climb(
        1.0, policies.Climb(1.0, 10.0), 12.0, 0.05, 0.1, 0, 5, [0.01, 0.9]
    )
    assert price == pytest.approx(0.95)


def test_hill_climber_stays_within_its_bounds_and_turns_round_at_one():
    price, climb = policies.hill_climb(
        1.98, policies.Climb(1.0, None), 1.0, 0.05, 0.0, 1.0, 2.0, NO_EXPLORATION
    )
    assert price == 2.0 and climb.direction == -1.0


def test_adapt_moves_only_adaptive_tiers_and_respects_the_reps_authority():
    policy = PricingPolicy(dealer="adaptive", rep="adaptive")
    econ = economics(flattened=False, reps_sell=True, rep_max_discount=0.1)
    start = decisions(wholesale=0.5, general_agent_markup=0.1, rep_discount=0.1)
    draws = np.tile(NO_EXPLORATION, (len(policies.TIERS), 1))
    profits = dict.fromkeys(policies.TIERS, 1.0)
    climbs = {"rep": policies.Climb(-1.0, None)}
    out, memory = policies.adapt(start, econ, policy, climbs, profits, 2.0, draws)
    assert (out.wholesale, out.list_price, out.general_agent_markup) == (0.5, 1.0, 0.1)
    assert out.dealer_markup != start.dealer_markup
    assert out.rep_discount == pytest.approx(0.1)  # tried to cut the price below its floor
    assert set(memory) == {"dealer", "rep"}


def test_adapt_leaves_tiers_the_channel_does_not_have_alone():
    policy = PricingPolicy(general_agent="adaptive", rep="adaptive")
    draws = np.tile(NO_EXPLORATION, (len(policies.TIERS), 1))
    profits = dict.fromkeys(policies.TIERS, 1.0)
    # Flattened network (no general agent) and no reps selling.
    out, memory = policies.adapt(decisions(), economics(), policy, {}, profits, 2.0, draws)
    assert out == decisions() and memory == {}


def test_realised_profits_give_each_tier_its_own_money():
    flows = {
        "company_profit": 5.0,
        "ga_margin": 2.0,
        "dealer_margin": 3.0,
        "dealer_costs": 1.0,
        "rep_compensation": 0.5,
    }
    profits = policies.realised_profits(flows)
    assert profits == {
        "wholesale": 5.0,
        "list_price": 5.0,
        "general_agent": 2.0,
        "dealer": 2.0,
        "rep": 0.5,
    }
