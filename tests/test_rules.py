"""Properties of the business rules (channelsim.model.rules), for any numbers hypothesis finds."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from channelsim.model.channels import DEALER, NO_ONE, REP, count_ours, is_ours
from channelsim.model.rules import commission, dealers, engagement, pricing, salesforce

money = st.floats(min_value=0.0, max_value=1e7, allow_nan=False)
any_money = st.floats(min_value=-1e7, max_value=1e7, allow_nan=False)
share = st.floats(min_value=0.0, max_value=1.0)
markup = st.floats(min_value=0.0, max_value=5.0)
discount = st.floats(min_value=0.0, max_value=0.99)
ratio = st.floats(min_value=0.0, max_value=10.0)
sensitivity = st.floats(min_value=0.0, max_value=20.0)
tiers = st.lists(st.tuples(ratio, ratio), max_size=4)


def vectors(elements: st.SearchStrategy[float], size: int = 8) -> st.SearchStrategy[np.ndarray]:
    return arrays(np.float64, size, elements=elements)


def flags(size: int = 12) -> st.SearchStrategy[np.ndarray]:
    return arrays(np.bool_, size)


# --- commission ------------------------------------------------------------------------------


@given(base=vectors(any_money), rate=share, attainment=vectors(ratio), tiers=tiers)
def test_commissions_are_never_negative(
    base: np.ndarray, rate: float, attainment: np.ndarray, tiers: list[tuple[float, float]]
) -> None:
    assert (commission.commission(base, rate, attainment, tiers) >= 0).all()


@given(revenue=vectors(money), unit_cost=money, units=vectors(st.floats(0, 1e4)))
def test_gross_margin_basis_is_never_negative_and_never_above_revenue(
    revenue: np.ndarray, unit_cost: float, units: np.ndarray
) -> None:
    base = commission.commission_base("gross_margin", revenue, unit_cost, units)
    assert (base >= 0).all() and (base <= revenue).all()
    assert (commission.commission_base("revenue", revenue, unit_cost, units) == revenue).all()


def test_an_unknown_commission_basis_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown commission basis 'profit'"):
        commission.commission_base("profit", [1.0], 1.0, [1.0])


@given(
    thresholds=st.lists(ratio, min_size=1, max_size=4, unique=True),
    steps=st.lists(st.floats(0.0, 2.0), min_size=4, max_size=4),
    a=ratio,
    b=ratio,
)
def test_tier_multipliers_rise_with_attainment_when_the_tiers_do(
    thresholds: list[float], steps: list[float], a: float, b: float
) -> None:
    """Tiers whose multipliers grow with the threshold (from 1 up) pay more for more attainment."""
    factors = np.cumsum([1.0 + steps[0], *steps[1:]])[: len(thresholds)]
    plan = list(zip(sorted(thresholds), factors, strict=True))
    low, high = sorted((a, b))
    assert commission.tier_multiplier(low, plan) <= commission.tier_multiplier(high, plan)


@given(attainment=ratio, plan=tiers)
def test_the_multiplier_is_that_of_the_highest_tier_reached(
    attainment: float, plan: list[tuple[float, float]]
) -> None:
    reached = [factor for threshold, factor in sorted(plan) if attainment >= threshold]
    expected = reached[-1] if reached else 1.0
    assert commission.tier_multiplier(attainment, plan) == expected


@given(attainment=vectors(ratio), bonus=money)
def test_the_quota_bonus_is_paid_in_full_at_quota_and_not_below(
    attainment: np.ndarray, bonus: float
) -> None:
    paid = commission.quota_bonus(attainment, bonus)
    assert (paid[attainment >= 1.0] == bonus).all() and (paid[attainment < 1.0] == 0).all()


@given(sales=vectors(money), quota=vectors(st.just(0.0) | st.floats(0.01, 1e7)))
def test_attainment_is_sales_over_quota_and_a_zero_quota_counts_as_met(
    sales: np.ndarray, quota: np.ndarray
) -> None:
    result = commission.attainment(sales, quota)
    assert (result >= 0).all()
    assert (result[quota == 0] == 1.0).all()
    positive = quota > 0
    assert np.allclose(result[positive] * quota[positive], sales[positive])


# --- pricing -----------------------------------------------------------------------------------


@given(
    price=vectors(any_money),
    company=vectors(any_money),
    dealer_cost=vectors(any_money),
    own=st.tuples(money, money),
)
def test_money_adds_up_for_any_prices(
    price: np.ndarray, company: np.ndarray, dealer_cost: np.ndarray, own: tuple[float, float]
) -> None:
    """What the customer pays = the company's part + each tier's margin + its own costs."""
    split = pricing.money_split(price, company, dealer_cost, *own)
    assert np.allclose(sum(split), price, rtol=1e-12, atol=1e-5)
    assert np.array_equal(split.company, company)
    assert np.array_equal(split.general_agent_costs, np.full(price.size, own[0]))


def test_own_costs_come_out_of_the_intermediaries_margins() -> None:
    split = pricing.money_split(1.0, 0.5, 0.7, 0.05, 0.1)
    assert split.general_agent == pytest.approx(0.15) and split.dealer == pytest.approx(0.2)
    assert pricing.dealer_floor(0.7, 0.1, 0.0, own_cost=0.1) == pytest.approx(0.88)


@given(
    list_price=st.floats(0.01, 1e5),
    wholesale=money,
    agent_markup=markup,
    dealer_markup=markup,
    floor=money,
    rep_discount=discount,
    online_discount=discount,
    flattened=st.none() | money,
)
def test_no_chain_price_is_below_the_floor_and_each_tier_adds_its_markup(
    list_price: float,
    wholesale: float,
    agent_markup: float,
    dealer_markup: float,
    floor: float,
    rep_discount: float,
    online_discount: float,
    flattened: float | None,
) -> None:
    prices = pricing.chain_prices(
        list_price,
        wholesale,
        agent_markup,
        dealer_markup,
        floor,
        rep_discount,
        online_discount,
        flattened,
    )
    assert min(prices.dealer_to_customer, prices.direct, prices.online) >= floor
    assert prices.general_agent_to_dealer >= prices.company_to_general_agent
    assert prices.dealer_to_customer >= prices.general_agent_to_dealer
    assert prices.direct <= max(floor, list_price)
    if flattened is not None:
        assert prices.general_agent_to_dealer == prices.company_to_general_agent == flattened


@given(list_price=st.floats(0.01, 1e5), max_discount=discount, floor=money)
def test_the_rep_floor_respects_the_price_floor_and_the_discount_authority(
    list_price: float, max_discount: float, floor: float
) -> None:
    lowest = pricing.rep_floor(list_price, max_discount, floor)
    assert lowest >= floor and lowest >= list_price * (1 - max_discount)


@given(dealer_cost=money, min_margin=share, floor=money)
def test_the_dealer_floor_covers_its_cost_and_margin(
    dealer_cost: float, min_margin: float, floor: float
) -> None:
    lowest = pricing.dealer_floor(dealer_cost, min_margin, floor)
    assert lowest >= floor and lowest >= dealer_cost * (1 + min_margin)


@given(floor_a=money, floor_b=money, value=money, normal_a=money, normal_b=money)
def test_bertrand_the_lower_floor_wins_never_below_its_own_floor(
    floor_a: float, floor_b: float, value: float, normal_a: float, normal_b: float
) -> None:
    a_wins, price = pricing.bertrand(floor_a, floor_b, value, normal_a, normal_b)
    assert bool(a_wins) == (floor_a < floor_b)
    winner_floor = floor_a if a_wins else floor_b
    winner_normal = normal_a if a_wins else normal_b
    assert price >= winner_floor
    assert price <= max(winner_floor, max(floor_a, floor_b))
    assert price <= max(winner_floor, min(value, winner_normal))


@given(floors=st.tuples(money, money), value=money)
def test_bertrand_price_is_the_higher_floor_capped_by_value(
    floors: tuple[float, float], value: float
) -> None:
    """With normal quotes at or above both floors and a buyer who values it above the lower
    floor, the price is min(value, higher floor): the textbook result."""
    low, high = sorted(floors)
    assume(value >= low)
    normal = high + 1.0
    _, price = pricing.bertrand(low, high, value, normal, normal)
    assert price == min(value, high)


def test_bertrand_ties_go_to_the_dealer() -> None:
    a_wins, price = pricing.bertrand(80.0, 80.0, 120.0, 95.0, 100.0)
    assert not a_wins and price == 80.0


@given(floor_a=money, floor_b=money, value=money, normal_a=money, normal_b=money)
def test_asymmetric_bertrand_with_identical_offers_is_exactly_bertrand(
    floor_a: float, floor_b: float, value: float, normal_a: float, normal_b: float
) -> None:
    same = pricing.bertrand(floor_a, floor_b, value, normal_a, normal_b)
    asym = pricing.asymmetric_bertrand(floor_a, floor_b, 0.0, value, value, normal_a, normal_b)
    assert bool(same[0]) == bool(asym[0]) and float(same[1]) == float(asym[1])


def test_asymmetric_bertrand_closed_form() -> None:
    # The dealer (b) is worth 0.1 more to the buyer; rep floor 0.45, dealer floor 0.5: the
    # dealer at its floor (worth 0.5 - 0.1 = 0.4 in rep terms) beats the rep at 0.45 and
    # prices at 0.45 + 0.1 = 0.55, where the buyer is indifferent.
    a_wins, price = pricing.asymmetric_bertrand(0.45, 0.5, -0.1, 0.9, 1.0, 1.0, 0.75)
    assert not a_wins and price == pytest.approx(0.55)
    # With the rep's floor at 0.3 the rep wins at 0.5 - 0.1 = 0.4.
    a_wins, price = pricing.asymmetric_bertrand(0.3, 0.5, -0.1, 0.9, 1.0, 1.0, 0.75)
    assert a_wins and price == pytest.approx(0.4)


@given(
    floors=st.tuples(st.floats(0.0, 1.0), st.floats(0.0, 1.0)),
    edge=st.tuples(st.floats(-0.5, 0.5), st.floats(-0.5, 0.5)),
)
def test_a_bigger_dealer_advantage_never_loses_it_a_conflict_or_lowers_its_price(
    floors: tuple[float, float], edge: tuple[float, float]
) -> None:
    small, large = sorted(edge)  # the dealer's (b's) advantage over the rep
    wins_small, price_small = pricing.asymmetric_bertrand(*floors, -small, 2.0, 2.0, 3.0, 3.0)
    wins_large, price_large = pricing.asymmetric_bertrand(*floors, -large, 2.0, 2.0, 3.0, 3.0)
    assert bool(wins_large) <= bool(wins_small)  # the rep wins less often
    if not wins_small:
        assert price_large >= price_small


# --- engagement --------------------------------------------------------------------------------


@given(rep=flags(), dealer=flags())
def test_rep_only_never_lets_a_dealer_quote(rep: np.ndarray, dealer: np.ndarray) -> None:
    quoting = engagement.who_quotes("rep_only", rep, dealer)
    assert not quoting.dealer_quotes.any() and not quoting.conflict.any()
    assert np.array_equal(quoting.rep_quotes, rep)


@given(rep=flags(), dealer=flags())
def test_dealer_only_never_lets_a_rep_quote(rep: np.ndarray, dealer: np.ndarray) -> None:
    quoting = engagement.who_quotes("dealer_only", rep, dealer)
    assert not quoting.rep_quotes.any() and not quoting.conflict.any()
    assert np.array_equal(quoting.dealer_quotes, dealer)


@given(rep=flags(), dealer=flags())
def test_open_conflicts_exactly_when_both_reach(rep: np.ndarray, dealer: np.ndarray) -> None:
    quoting = engagement.who_quotes("open", rep, dealer)
    assert np.array_equal(quoting.conflict, rep & dealer)
    assert np.array_equal(quoting.rep_quotes, rep) and np.array_equal(quoting.dealer_quotes, dealer)


@given(rep=flags(), dealer=flags())
def test_rep_assists_dealer_books_through_the_dealer(rep: np.ndarray, dealer: np.ndarray) -> None:
    quoting = engagement.who_quotes("rep_assists_dealer", rep, dealer)
    assert not quoting.rep_quotes.any() and not quoting.conflict.any()
    assert np.array_equal(quoting.dealer_quotes, rep | dealer)
    assert np.array_equal(quoting.assisted, rep)


SENTINEL = np.iinfo(np.int32).max


@given(
    weeks=st.lists(st.tuples(flags(), flags(), flags()), min_size=1, max_size=6),
    hold=st.integers(1, 4),
)
def test_deal_registration_gives_each_account_to_at_most_one(
    weeks: list[tuple[np.ndarray, np.ndarray, np.ndarray]], hold: int
) -> None:
    """Week after week, registration comes first and only its owner (or, unowned, nobody
    else) may quote: never both, never a conflict."""
    owner = np.full(12, NO_ONE, dtype=np.int8)
    expires = np.zeros(12, dtype=np.int32)
    for week, (rep, dealer, tie_to_rep) in enumerate(weeks):
        rep_first = np.where(rep, week, SENTINEL).astype(np.int32)
        dealer_first = np.where(dealer, week, SENTINEL).astype(np.int32)
        owner, expires = engagement.register(
            owner, expires, week, rep_first, dealer_first, tie_to_rep, hold
        )
        quoting = engagement.who_quotes("deal_registration", rep, dealer, owner)
        assert not (quoting.rep_quotes & quoting.dealer_quotes).any()
        assert not quoting.conflict.any()
        assert not (quoting.rep_quotes & (owner == DEALER)).any()
        assert not (quoting.dealer_quotes & (owner == REP)).any()


def test_the_first_to_register_owns_the_deal_until_it_expires() -> None:
    owner = np.full(2, NO_ONE, dtype=np.int8)
    expires = np.zeros(2, dtype=np.int32)
    no = np.array([False, False])
    owner, expires = engagement.register(
        owner, expires, 3, np.array([2, 5], np.int32), np.array([4, 1], np.int32), no, 10
    )
    assert owner.tolist() == [REP, DEALER] and expires.tolist() == [13, 13]
    owner, _ = engagement.register(
        owner, expires, 14, np.full(2, SENTINEL, np.int32), np.full(2, SENTINEL, np.int32), no, 10
    )
    assert owner.tolist() == [NO_ONE, NO_ONE]


def test_unknown_rules_and_missing_registrations_are_errors() -> None:
    with pytest.raises(ValueError, match="unknown engagement rule 'first_come'"):
        engagement.who_quotes("first_come", np.array([True]), np.array([True]))
    with pytest.raises(ValueError, match="registered owner"):
        engagement.who_quotes("deal_registration", np.array([True]), np.array([True]))


# --- sales force -------------------------------------------------------------------------------

hazard_settings = st.tuples(share, sensitivity, sensitivity)


@given(settings=hazard_settings, pay=vectors(ratio), attainment=vectors(ratio))
def test_quit_probability_is_a_probability_and_at_least_the_base_rate(
    settings: tuple[float, float, float], pay: np.ndarray, attainment: np.ndarray
) -> None:
    base, pay_sensitivity, attainment_sensitivity = settings
    h = salesforce.quit_probability(base, pay, attainment, pay_sensitivity, attainment_sensitivity)
    assert ((h >= 0) & (h <= 1)).all()
    assert (h >= base - 1e-15).all()


@given(settings=hazard_settings, pays=st.tuples(ratio, ratio), attainments=st.tuples(ratio, ratio))
def test_quit_probability_rises_as_pay_or_attainment_fall(
    settings: tuple[float, float, float],
    pays: tuple[float, float],
    attainments: tuple[float, float],
) -> None:
    base, a_pay, a_att = settings
    low_pay, high_pay = sorted(pays)
    low_att, high_att = sorted(attainments)
    quit = salesforce.quit_probability
    assert quit(base, low_pay, high_att, a_pay, a_att) >= quit(
        base, high_pay, high_att, a_pay, a_att
    )
    assert quit(base, high_pay, low_att, a_pay, a_att) >= quit(
        base, high_pay, high_att, a_pay, a_att
    )


def test_quit_probability_strictly_rises_below_par() -> None:
    quit = salesforce.quit_probability
    assert quit(0.01, 0.5, 1.0, 2.0, 1.0) > quit(0.01, 0.9, 1.0, 2.0, 1.0) > 0.01
    assert quit(0.01, 1.0, 0.5, 2.0, 1.0) > quit(0.01, 1.0, 0.9, 2.0, 1.0) > 0.01


@given(target=money, reps=st.integers(0, 500), noise=vectors(st.floats(-5, 5)), bias=share)
def test_negotiated_quotas_are_never_negative(
    target: float, reps: int, noise: np.ndarray, bias: float
) -> None:
    assert (salesforce.negotiated_quota(target, reps, noise, bias) >= 0).all()


@given(potential=vectors(any_money), target_share=st.floats(0.0, 2.0))
def test_data_driven_quotas_are_never_negative(potential: np.ndarray, target_share: float) -> None:
    assert (salesforce.data_driven_quota(potential, target_share) >= 0).all()


@given(tenures=st.tuples(st.integers(0, 200), st.integers(0, 200)), ramp_weeks=st.integers(0, 104))
def test_ramp_up_is_a_share_that_grows_with_tenure(
    tenures: tuple[int, int], ramp_weeks: int
) -> None:
    short, long = sorted(tenures)
    p_short, p_long = salesforce.ramp(short, ramp_weeks), salesforce.ramp(long, ramp_weeks)
    assert 0 < p_short <= p_long <= 1
    assert salesforce.ramp(ramp_weeks, ramp_weeks) == 1.0


# --- dealers -----------------------------------------------------------------------------------


@given(
    base=share,
    margins=st.tuples(st.floats(-1, 3), st.floats(-1, 3)),
    reference=st.floats(0.01, 1),
    elasticity=st.floats(0, 5),
    dissatisfaction=vectors(share),
)
def test_dealer_effort_is_bounded_and_rises_with_margin(
    base: float,
    margins: tuple[float, float],
    reference: float,
    elasticity: float,
    dissatisfaction: np.ndarray,
) -> None:
    low, high = sorted(margins)
    e_low = dealers.dealer_effort(base, low, reference, elasticity, dissatisfaction)
    e_high = dealers.dealer_effort(base, high, reference, elasticity, dissatisfaction)
    assert ((e_low >= 0) & (e_high <= 1)).all()
    assert (e_low <= e_high).all()


@given(
    base=share,
    margin=st.floats(0, 3),
    elasticity=st.floats(0, 5),
    levels=st.tuples(share, share),
)
def test_dealer_effort_falls_with_dissatisfaction(
    base: float, margin: float, elasticity: float, levels: tuple[float, float]
) -> None:
    calm, upset = sorted(levels)
    effort = dealers.dealer_effort
    assert effort(base, margin, 0.2, elasticity, upset) <= effort(
        base, margin, 0.2, elasticity, calm
    )


def test_dealer_effort_strictly_responds_in_the_open_range() -> None:
    effort = dealers.dealer_effort
    assert effort(0.5, 0.25, 0.2, 1.0, 0.0) > effort(0.5, 0.15, 0.2, 1.0, 0.0)
    assert effort(0.5, 0.2, 0.2, 1.0, 0.1) > effort(0.5, 0.2, 0.2, 1.0, 0.6)


@given(
    current=vectors(share),
    losses=st.tuples(st.integers(0, 50), st.integers(0, 50)),
    sensitivity=st.floats(0, 3),
    recovery=share,
)
def test_dissatisfaction_stays_in_0_1_and_rises_with_conflicts_lost(
    current: np.ndarray, losses: tuple[int, int], sensitivity: float, recovery: float
) -> None:
    few, many = sorted(losses)
    after_few = dealers.update_dissatisfaction(current, few, sensitivity, recovery)
    after_many = dealers.update_dissatisfaction(current, many, sensitivity, recovery)
    assert ((after_few >= 0) & (after_few <= 1) & (after_many <= 1)).all()
    assert (after_few <= after_many).all()
    calm_week = dealers.update_dissatisfaction(current, 0, sensitivity, recovery)
    assert (calm_week <= current).all()


@given(strikes=arrays(np.int64, 8, elements=st.integers(0, 100)), profit=vectors(any_money))
def test_strikes_count_bad_weeks_and_reset_on_a_good_one(
    strikes: np.ndarray, profit: np.ndarray
) -> None:
    dissatisfaction = np.zeros(8)
    after = dealers.update_strikes(strikes, profit, dissatisfaction, 0.6)
    assert np.array_equal(after, np.where(profit < 0, strikes + 1, 0))


# --- effort that follows pay -------------------------------------------------------------------


@given(rate=share, h=st.floats(0.0, 1e4), k=st.floats(0.01, 1e4), cap=st.floats(0.0, 1e3))
def test_incentive_effort_is_beta_h_over_k_within_capacity(
    rate: float, h: float, k: float, cap: float
) -> None:
    effort = float(salesforce.incentive_effort(rate, h, k, cap))
    assert effort == pytest.approx(min(cap, rate * h / k))
    assert 0.0 <= effort <= cap


def test_with_linear_pay_the_chosen_effort_is_beta_h_over_k() -> None:
    effort = salesforce.choose_effort(
        [0.1, 0.2], [400.0, 400.0], [400.0] * 2, [0.0] * 2, [], 0.0, [0.0] * 2, 2.0, [100.0, 100.0]
    )
    np.testing.assert_allclose(effort, [20.0, 40.0])


def test_a_quota_bonus_raises_the_effort_of_reps_near_their_quota_only() -> None:
    # Linear pay alone asks for 10 visits a week: 13 x 100 x 10 = 13,000 of quarterly credit.
    # Quotas: just above that (near), far above (out of reach), below (already made).
    quota = np.array([14_000.0, 60_000.0, 5_000.0])
    args = dict(
        rate=[0.1] * 3,
        productivity=[100.0] * 3,
        credit_per_visit=[100.0] * 3,
        quota=quota,
        tiers=[],
        spread=[500.0] * 3,
        cost=1.0,
        maximum=[40.0] * 3,
    )
    without = salesforce.choose_effort(bonus=0.0, **args)
    with_bonus = salesforce.choose_effort(bonus=2_000.0, **args)
    np.testing.assert_allclose(without, 10.0)
    assert with_bonus[0] > without[0] + 0.5  # near quota: works harder to make it
    assert abs(with_bonus[1] - without[1]) < 0.2 and abs(with_bonus[2] - without[2]) < 0.2


@given(
    rate=share,
    output=st.floats(0.0, 1e5),
    effort=st.floats(0.0, 100.0),
    k=st.floats(0.01, 10.0),
    r=st.floats(0.0, 1.0),
    sigma=st.floats(0.0, 100.0),
)
def test_participation_salary_leaves_the_rep_its_market_pay(
    rate: float, output: float, effort: float, k: float, r: float, sigma: float
) -> None:
    market = 1e7  # high enough that the salary is never clipped at zero
    alpha = float(salesforce.participation_salary(market, rate, output, effort, k, r, sigma))
    certainty_equivalent = alpha + rate * output - k * effort**2 / 2 - r * sigma**2 * rate**2 / 2
    assert certainty_equivalent == pytest.approx(market, rel=1e-9)


def test_counting_the_company_s_channels_in_one_pass_agrees_with_is_ours():
    every_int8 = np.arange(-128, 128).astype(np.int8)
    assert count_ours(every_int8) == is_ours(every_int8).sum() == 4
    codes = np.random.default_rng(0).integers(-1, 6, 1000)
    assert count_ours(codes.astype(np.int8)) == count_ours(codes) == is_ours(codes).sum()
