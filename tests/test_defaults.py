"""Defaults make a minimal scenario (regions, one segment, a strategy) sell something
sensible: segment valuations straddle the default list price, and one general agent serves
every region when none is listed."""

from __future__ import annotations

import pytest

import channelsim
from channelsim.experiments.checks import warnings
from channelsim.scenario.loading import ScenarioError, validate
from channelsim.scenario.schema import DEFAULT_GENERAL_AGENT, Pricing, Valuation


def minimal(strategy: str) -> channelsim.Scenario:
    return validate(
        {
            "name": f"minimal_{strategy}",
            "strategy": strategy,
            "weeks": 26,
            "market": {
                "regions": [{"name": "North"}, {"name": "South"}],
                "segments": [{"name": "buyers", "customers": 300}],
            },
        }
    )


def test_default_valuations_straddle_the_default_list_price() -> None:
    v, p = Valuation(), Pricing()
    assert v.low < p.list_price < v.high and (v.low + v.high) / 2 == p.list_price


@pytest.mark.parametrize("strategy", ["direct", "intermediary", "parallel"])
def test_a_minimal_scenario_sells_to_a_sizeable_share_of_its_market(strategy: str) -> None:
    sc = minimal(strategy)
    assert warnings(sc) == []
    summary = channelsim.run(sc, replicates=2, seed=3).summary.set_index("kpi")["mean"]
    assert 0.2 < summary["market_share"] < 0.9
    assert summary["units"] > 0


def test_without_listed_general_agents_one_serves_every_region() -> None:
    agents = minimal("parallel").general_agents.agents
    assert [(a.name, a.regions) for a in agents] == [(DEFAULT_GENERAL_AGENT, ["North", "South"])]


def test_listed_general_agents_are_used_as_given() -> None:
    raw = minimal("parallel").model_dump()
    raw["general_agents"]["agents"] = [{"name": "N", "regions": ["North"]}]
    with pytest.raises(ScenarioError, match="have dealers but no general agent"):
        validate(raw)


def test_a_high_below_the_default_low_says_which_default_it_met() -> None:
    raw = minimal("direct").model_dump()
    raw["market"]["segments"][0]["valuation"] = {"high": 40}
    with pytest.raises(ScenarioError, match="low was not set: its default is 50"):
        validate(raw)
