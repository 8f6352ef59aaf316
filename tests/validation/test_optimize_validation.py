"""The optimiser against answers known in advance: closed forms, a grid, a trade-off.

The textbook markets' demand is a step function of price (one customer per 1/N), so prices
are searched on levels 1/N apart (`a:b:n`), the resolution at which the market answers, and
the tolerance is the validation suite's: 2/N (docs/validation.md). A continuous range would
see a sawtooth (each step drops one customer's margin) and its best would wander within
about sqrt((p - c)/N) of the optimum; docs/optimisation.md shows this.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import channelsim

pytestmark = pytest.mark.validation

VALIDATION = Path(__file__).resolve().parents[2] / "scenarios" / "validation"
N, C = 1000, 0.2  # the textbook market's customers and unit cost
DEMAND_STEP = 2 / N  # the validation suite's price tolerance


def test_one_seller_finds_the_monopoly_price():
    """Integrated seller, demand a - b p with a = b = N: p* = (a/b + c) / 2 = 0.6."""
    scenario = channelsim.load_scenario(
        VALIDATION / "integrated.yaml", {"pricing.policy.list_price": "fixed"}
    )
    found = channelsim.optimize(
        scenario,
        {"pricing.list_price": "0.3:0.9:601"},  # levels 1/N apart
        "company_profit:max",
        trials=60,
        replicates=1,
        seed=1,
        confirm=0,
    )
    price = found.best.iloc[0]["pricing.list_price"]
    assert abs(price - (1 + C) / 2) <= DEMAND_STEP + 1e-12


def test_the_maker_finds_the_stackelberg_wholesale_price():
    """Maker -> dealer, the dealer best-responds with p(w) = (1 + w)/2: w* = (1 + c)/2."""
    scenario = channelsim.load_scenario(
        VALIDATION / "maker_dealer.yaml", {"pricing.policy.wholesale": "fixed"}
    )
    found = channelsim.optimize(
        scenario,
        {"pricing.flattened_price": "0.4:0.8:201"},  # 2/N apart: the dealer halves the steps
        "company_profit:max",
        trials=50,
        replicates=1,
        seed=1,
        confirm=0,
    )
    wholesale = found.best.iloc[0]["pricing.flattened_price"]
    assert abs(wholesale - (1 + C) / 2) <= DEMAND_STEP + 1e-12


def test_the_best_of_a_fifth_of_a_grid_matches_the_grid_on_the_same_seeds():
    """Dealer and online prices with logit noise: 11 x 11 grid against 24 trials."""
    scenario = channelsim.load_scenario(
        VALIDATION / "logit.yaml", {"weeks": 4, "market.segments.0.customers": 400}
    )
    levels = {"pricing.flattened_price": "0.3:0.8:11", "pricing.list_price": "0.3:0.8:11"}
    spacing = 0.05
    grid = channelsim.sweep(scenario, levels, replicates=1, seed=3, common_seeds=True)
    profit = grid.summary[grid.summary["kpi"] == "company_profit"]
    grid_best = profit.loc[profit["mean"].idxmax()]
    trials = len(profit) // 5
    found = channelsim.optimize(
        scenario, levels, "company_profit:max", trials=trials, replicates=1, seed=3, confirm=0
    )
    best = found.best.iloc[0]
    assert len(found.trials) * 1 <= len(grid.runs) / 5
    for path in levels:
        assert abs(best[path] - grid_best[path]) <= spacing + 1e-9, path
    # the same seeds: the optimiser's value at its point is the grid's value there
    same = profit[
        np.isclose(profit["pricing.flattened_price"], best["pricing.flattened_price"])
        & np.isclose(profit["pricing.list_price"], best["pricing.list_price"])
    ]
    assert same["mean"].iloc[0] == best["company_profit"]


def test_the_pareto_set_of_profit_and_units_is_the_known_trade_off():
    """Lower prices sell more, profit peaks at 0.6: the Pareto set is exactly [low, 0.6]."""
    scenario = channelsim.load_scenario(
        VALIDATION / "integrated.yaml", {"pricing.policy.list_price": "fixed"}
    )
    found = channelsim.optimize(
        scenario,
        {"pricing.list_price": "0.3:0.9:61"},
        ["company_profit:max", "units:max"],
        trials=30,
        replicates=1,
        seed=1,
        confirm=0,
    )
    done = found.trials[found.trials["state"] == "COMPLETE"]
    values = done[["company_profit", "units"]].to_numpy()
    front = found.best[["company_profit", "units"]].to_numpy()
    for point in front:  # no trial dominates a point of the set
        assert not np.any(np.all(values >= point, axis=1) & np.any(values > point, axis=1))
    for point in values:  # every trial is in the set or dominated by it
        on = np.any(np.all(front == point, axis=1))
        assert on or np.any(np.all(front >= point, axis=1) & np.any(front > point, axis=1))
    prices = found.best["pricing.list_price"]
    assert prices.max() == pytest.approx(0.6, abs=0.02)  # the profit end
    assert prices.min() == done["pricing.list_price"].min()  # the volume end: cheapest tried
    assert prices.min() <= 0.35
    assert (prices <= 0.6 + 1e-9).all()  # above 0.6 both objectives are worse
