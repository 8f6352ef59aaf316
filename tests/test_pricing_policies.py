"""Pricing policies inside the model: fixed changes nothing, the others move prices reproducibly."""

from __future__ import annotations

import numpy as np
import pytest

from channelsim.experiments.validation import FOLDER
from channelsim.model.channel_model import ChannelModel
from channelsim.model.rules.dealers import dealer_effort
from channelsim.scenario.loading import ScenarioError, load_scenario, validate

ALL_FIXED = {
    "wholesale": "fixed",
    "list_price": "fixed",
    "general_agent": "fixed",
    "dealer": "fixed",
    "rep": "fixed",
    "reprice_weeks": 1,
    "grid_points": 11,
    "sample_customers": 100,
    "adaptive": {"step": 0.5, "exploration": 1.0, "min_price": 1, "max_price": 2},
}


def assert_same_run(a, b) -> None:
    assert a.weekly.keys() == b.weekly.keys()
    for name in a.weekly:
        np.testing.assert_array_equal(a.weekly[name], b.weekly[name], err_msg=name)
    np.testing.assert_array_equal(list(a.kpis.values()), list(b.kpis.values()))


def run(scenario, seed=3):
    model = ChannelModel(scenario, seed=seed)
    return model, model.run()


@pytest.mark.parametrize(
    "setup",
    [
        {},
        {"strategy": "direct"},
        {"strategy": "intermediary", "flattened": True},
        {"online": {"enabled": True}, "telesales": {"enabled": True}},
    ],
)
def test_fixed_policies_give_bit_identical_results_to_no_policy_block(make_scenario, setup):
    without = make_scenario(**setup)
    with_fixed = make_scenario(**setup, pricing={"policy": ALL_FIXED})
    assert with_fixed.pricing.policy != without.pricing.policy  # the block was really read
    assert_same_run(run(without)[1], run(with_fixed)[1])


def test_adaptive_pricing_is_reproducible_and_seed_dependent(make_scenario):
    sc = make_scenario(pricing={"policy": {"dealer": "adaptive", "reprice_weeks": 2}})
    a, b, c = run(sc, 5)[0], run(sc, 5)[0], run(sc, 6)[0]
    assert a.price_history == b.price_history
    assert a.price_history != c.price_history


def test_adaptive_pricing_leaves_the_other_random_streams_alone(make_scenario):
    # Nothing adapts before the first review's results are in, so week 0 must be identical
    # to a fixed-price run: same customers, same reach, same choice noise.
    fixed = run(make_scenario(), 5)[1]
    adaptive = run(make_scenario(pricing={"policy": {"dealer": "adaptive"}}), 5)[1]
    for name, series in fixed.weekly.items():
        np.testing.assert_array_equal(series[:1], adaptive.weekly[name][:1], err_msg=name)
    assert not np.array_equal(fixed.weekly["revenue"], adaptive.weekly["revenue"])


def test_adaptive_prices_move_every_review_by_the_step_and_stay_within_bounds(make_scenario):
    policy = {
        "wholesale": "adaptive",
        "reprice_weeks": 4,
        "adaptive": {"step": 0.05, "exploration": 0.5, "min_price": 66, "max_price": 74},
    }
    model, _ = run(make_scenario(pricing={"policy": policy}))
    weeks = [week for week, _ in model.price_history]
    assert weeks == list(range(0, 52, 4))
    prices = np.array([p.company_to_general_agent for _, p in model.price_history])
    assert np.all((prices >= 66) & (prices <= 74))
    moves = prices[1:] / prices[:-1]
    at_bound = np.isin(prices[1:], [66, 74])
    assert np.all(np.isclose(moves, 1.05) | np.isclose(moves, 0.95) | at_bound)
    assert len(set(prices.round(6))) > 1


def test_best_response_dealers_set_a_markup_and_their_effort_follows_it(make_scenario):
    # No conflicts (no reps selling) and no exits: every dealer's effort is
    # effort_base * markup / reference_margin, and each week's dealer costs are
    # dealers x (fixed_cost + effort_cost x effort).
    sc = make_scenario(
        strategy="intermediary",
        dealers={"reference_margin": 1.0, "exit": {"enabled": False}},
        pricing={"policy": {"dealer": "best_response", "reprice_weeks": 26}},
    )
    model, result = run(sc)
    assert [week for week, _ in model.price_history] == [0, 26]
    markup = model.decisions.dealer_markup
    assert markup != sc.dealers.markup and markup > 0
    cfg, dealers = sc.dealers, model.dealers.region.size
    effort = dealer_effort(cfg.effort_base, markup, 1.0, cfg.effort_margin_elasticity, 0.0)
    assert 0 < effort < 1
    costs = result.weekly["dealer_costs"][26:]
    np.testing.assert_allclose(costs, dealers * (cfg.fixed_cost + cfg.effort_cost * effort))


def test_best_response_prices_reach_the_customers(make_scenario):
    sc = make_scenario(
        strategy="intermediary",
        pricing={"policy": {"wholesale": "best_response", "dealer": "best_response"}},
    )
    model, result = run(sc)
    last_review = model.price_history[-1][0]
    since = slice(last_review, None)
    paid = result.weekly["revenue_dealer"][since].sum() / result.weekly["units"][since].sum()
    # Dealers sell at one retail price (no conflicts, no surcharges in this scenario).
    assert paid == pytest.approx(model.prices.dealer_to_customer)
    assert model.prices.company_to_general_agent == model.decisions.wholesale != 70


def test_a_mistyped_policy_is_a_one_line_error_naming_the_setting(small_raw):
    small_raw["pricing"]["policy"] = {"dealer": "best-response"}
    with pytest.raises(ScenarioError, match=r"pricing\.policy\.dealer"):
        validate(small_raw, source="test scenario")


def test_adaptive_bounds_must_be_ordered(small_raw):
    small_raw["pricing"]["policy"] = {"adaptive": {"min_price": 80, "max_price": 70}}
    with pytest.raises(ScenarioError, match="max_price"):
        validate(small_raw, source="test scenario")


def test_an_adaptive_dealer_learns_its_way_to_the_textbook_best_response():
    # Maker -> dealer market of the validation suite, wholesale fixed at 0.6: the dealer's
    # best response is (1 + 0.6) / 2 = 0.8. Hill climbing weekly with 2 % steps should
    # hover around it (within a few steps), starting from 0.75.
    sc = load_scenario(
        FOLDER / "maker_dealer.yaml",
        [
            "pricing.policy.wholesale=fixed",
            "pricing.policy.dealer=adaptive",
            "pricing.policy.reprice_weeks=1",
            "pricing.policy.adaptive.step=0.02",
            "weeks=300",
        ],
    )
    model, _ = run(sc, seed=1)
    retail = np.array([p.dealer_to_customer for _, p in model.price_history])
    assert retail[0] == pytest.approx(0.75)
    assert retail[-150:].mean() == pytest.approx(0.8, abs=0.01)
    assert retail[-150:].std() < 3 * 0.02 * 0.8
