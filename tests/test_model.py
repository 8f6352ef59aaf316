"""The engine's contract: determinism, channel structure, and money that adds up."""

from __future__ import annotations

import numpy as np
import pytest

from channelsim.model.agents import Customer, Dealer, GeneralAgent, SalesRep
from channelsim.model.channel_model import ChannelModel
from channelsim.model.market import CHANNELS


def run(scenario, seed=1):
    return ChannelModel(scenario, seed=seed).run()


def test_same_scenario_and_seed_give_identical_results(make_scenario):
    sc = make_scenario()
    a, b = run(sc, seed=11), run(sc, seed=11)
    for name in a.weekly:
        np.testing.assert_array_equal(a.weekly[name], b.weekly[name])
    np.testing.assert_array_equal(list(a.kpis.values()), list(b.kpis.values()))


def test_different_seeds_give_different_results(make_scenario):
    sc = make_scenario()
    assert run(sc, seed=1).kpis["revenue"] != run(sc, seed=2).kpis["revenue"]


def test_one_step_is_one_week(make_scenario):
    sc = make_scenario(weeks=17)
    result = run(sc)
    assert list(result.weekly["week"]) == list(range(17))


def test_direct_strategy_has_no_dealer_revenue_and_no_conflicts(make_scenario):
    kpis = run(make_scenario(strategy="direct")).kpis
    assert kpis["revenue_dealer"] == 0
    assert kpis["channel_margin"] == 0
    assert kpis["conflicts"] == 0
    assert kpis["dealers_active"] == 0
    assert kpis["revenue_direct"] > 0


def test_intermediary_strategy_has_no_rep_revenue(make_scenario):
    kpis = run(make_scenario(strategy="intermediary")).kpis
    assert kpis["revenue_direct"] == 0
    assert kpis["conflicts"] == 0
    assert kpis["revenue_dealer"] > 0
    assert kpis["channel_margin"] > 0


def test_parallel_with_open_engagement_has_conflicts(make_scenario):
    kpis = run(make_scenario(strategy="parallel", engagement={"large_accounts": "open"})).kpis
    assert kpis["conflicts"] > 0
    assert kpis["revenue_direct"] > 0 and kpis["revenue_dealer"] > 0


@pytest.mark.parametrize("strategy", ["direct", "intermediary", "parallel"])
@pytest.mark.parametrize("flattened", [False, True])
def test_customer_money_equals_company_revenue_plus_channel_margins(
    make_scenario, strategy, flattened
):
    sc = make_scenario(
        strategy=strategy,
        flattened=flattened,
        online={"enabled": True},
        telesales={"enabled": True},
        general_agents={"volume_rebate": {"threshold": 1000, "rate": 0.02}},
        dealers={"volume_rebate": {"threshold": 500, "rate": 0.03}},
    )
    result = run(sc)
    w = result.weekly
    np.testing.assert_allclose(w["revenue"], w["company_revenue"] + w["channel_margin"], atol=1e-6)
    k = result.kpis
    assert k["revenue"] == pytest.approx(k["company_revenue"] + k["channel_margin"])
    assert k["revenue"] == pytest.approx(
        k["revenue_direct"] + k["revenue_dealer"] + k["revenue_online"] + k["revenue_telesales"]
    )
    costs = (
        k["cost_of_goods"]
        + k["rep_compensation"]
        + k["telesales_cost"]
        + k["online_cost"]
        + k["claims"]
    )
    assert k["company_profit"] == pytest.approx(k["company_revenue"] - costs)


def test_agents_are_mesa_agents_viewing_the_state(make_scenario):
    model = ChannelModel(make_scenario(), seed=3)
    reps = model.agents_by_type[SalesRep]
    dealers = model.agents_by_type[Dealer]
    assert len(reps) == 6
    assert len(dealers) == 4
    assert len(model.agents_by_type[GeneralAgent]) == 1
    assert {d.region for d in dealers} == {"North", "South"}
    model.run()
    assert sum(d.profit_to_date for d in dealers) == pytest.approx(
        float(model.dealers.profit_total.sum())
    )
    customer = model.customer(0)
    assert isinstance(customer, Customer)
    assert customer.segment in ("large", "small")
    assert customer.incumbent in (None, *CHANNELS)


def test_all_randomness_comes_from_the_seed(make_scenario):
    """Global numpy state must not matter."""
    sc = make_scenario()
    np.random.seed(1)
    a = run(sc, seed=5).kpis["revenue"]
    np.random.seed(999)
    b = run(sc, seed=5).kpis["revenue"]
    assert a == b


def test_scenarios_that_differ_only_in_channels_see_the_same_customers(make_scenario):
    direct = ChannelModel(make_scenario(strategy="direct"), seed=4)
    parallel = ChannelModel(make_scenario(strategy="parallel"), seed=4)
    np.testing.assert_array_equal(direct.population.value, parallel.population.value)
    np.testing.assert_array_equal(direct.population.due, parallel.population.due)
