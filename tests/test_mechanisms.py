"""Direction of effect of every mechanism, averaged over seeds with common random numbers.

Each test changes one lever and checks that a KPI moves the way the mechanism implies, by
a margin, on the mean of paired differences over several seeds. Nothing here is written
into the model as an outcome: the directions have to emerge from the weekly mechanics.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from channelsim.model.channel_model import ChannelModel
from channelsim.scenario.schema import Scenario

SEEDS = range(6)


def paired_effect(
    make: Callable[..., Scenario], base: dict[str, Any], changed: dict[str, Any], kpi: str
) -> tuple[float, float]:
    """Mean of (changed - base) over seeds, and the base mean, for one KPI."""
    a = make(**base)
    b = make(**changed)
    base_values = np.array([ChannelModel(a, seed=s).run().kpis[kpi] for s in SEEDS])
    new_values = np.array([ChannelModel(b, seed=s).run().kpis[kpi] for s in SEEDS])
    return float((new_values - base_values).mean()), float(base_values.mean())


def rises(make, base, changed, kpi, margin=0.05):
    diff, level = paired_effect(make, base, changed, kpi)
    assert diff > margin * abs(level), (
        f"{kpi}: expected a rise, mean change {diff:.4g} on {level:.4g}"
    )


def falls(make, base, changed, kpi, margin=0.05):
    diff, level = paired_effect(make, base, changed, kpi)
    assert diff < -margin * abs(level), (
        f"{kpi}: expected a fall, mean change {diff:.4g} on {level:.4g}"
    )


# --- market and choice ------------------------------------------------------------------


def test_a_dearer_competitor_raises_market_share(make_scenario):
    rises(make_scenario, {}, {"market": {"competitor": {"price": 115}}}, "market_share")


def test_higher_valuations_sell_more_units(make_scenario):
    def valued(low, high):
        segs = [
            {**s, "valuation": {"low": low, "high": high}}
            for s in make_scenario().model_dump()["market"]["segments"]
        ]
        return {"market": {"segments": segs}}

    rises(make_scenario, valued(60, 130), valued(90, 160), "units")


def test_shorter_purchase_cycles_sell_more_units(make_scenario):
    segs = make_scenario().model_dump()["market"]["segments"]
    faster = [{**s, "cycle_weeks": 13} for s in segs]
    rises(make_scenario, {}, {"market": {"segments": faster}}, "units", margin=0.3)


def test_loyalty_raises_repeat_purchase(make_scenario):
    segs = make_scenario().model_dump()["market"]["segments"]
    loyal = [{**s, "loyalty": 25} for s in segs]
    rises(make_scenario, {}, {"market": {"segments": loyal}}, "repeat_purchase_rate")


def test_trust_in_the_maker_shifts_sales_to_reps(make_scenario):
    segs = make_scenario().model_dump()["market"]["segments"]
    trusting = [{**s, "direct_acceptance": 1.2} for s in segs]
    rises(make_scenario, {}, {"market": {"segments": trusting}}, "revenue_direct", margin=0.1)


def test_dealer_service_quality_wins_dealer_sales(make_scenario):
    rises(
        make_scenario,
        {"dealers": {"service_quality": 0.5}},
        {"dealers": {"service_quality": 1.0}},
        "revenue_dealer",
    )


def test_price_sensitive_customers_respond_more_to_a_dearer_dealer(make_scenario):
    def sensitivity(beta):
        segs = [
            {**s, "price_sensitivity": beta}
            for s in make_scenario().model_dump()["market"]["segments"]
        ]
        return {"market": {"segments": segs}}

    low_base, _ = paired_effect(
        make_scenario, sensitivity(0.5), {**sensitivity(0.5), "dealers": {"markup": 0.4}}, "units"
    )
    high_base, _ = paired_effect(
        make_scenario, sensitivity(2.0), {**sensitivity(2.0), "dealers": {"markup": 0.4}}, "units"
    )
    assert high_base < low_base < 0


# --- channels and pricing ---------------------------------------------------------------


def test_more_rep_capacity_sells_more_direct_and_leaves_fewer_idle(make_scenario):
    rises(make_scenario, {"reps": {"capacity": 6}}, {"reps": {"capacity": 30}}, "revenue_direct")
    falls(make_scenario, {"reps": {"capacity": 6}}, {"reps": {"capacity": 30}}, "idle_customers")


def test_a_bigger_rep_discount_lowers_the_price_index(make_scenario):
    falls(
        make_scenario,
        {"pricing": {"rep_discount": 0.0}},
        {"pricing": {"rep_discount": 0.15}},
        "avg_price_index",
        margin=0.01,
    )


def test_general_agent_markup_raises_channel_margin_per_unit_and_cuts_dealer_units(make_scenario):
    base = {"strategy": "intermediary", "general_agents": {"markup": 0.0}}
    dear = {"strategy": "intermediary", "general_agents": {"markup": 0.3}}
    rises(make_scenario, base, dear, "ga_margin", margin=1.0)
    falls(make_scenario, base, dear, "units")


def test_flattening_removes_the_general_agent_margin(make_scenario):
    base = {"strategy": "intermediary"}
    flat = {"strategy": "intermediary", "flattened": True}
    falls(make_scenario, base, flat, "channel_margin")
    rises(make_scenario, base, flat, "units")


def test_online_channel_adds_online_revenue_and_lowers_service_share(make_scenario):
    rises(make_scenario, {}, {"online": {"enabled": True, "discount": 0.1}}, "revenue_online", 0)


def test_price_floor_above_the_rep_authority_limits_conflict_erosion(make_scenario):
    low_dealer_floor = {"pricing": {"rep_max_discount": 0.35}}
    floored = {"pricing": {"rep_max_discount": 0.35, "price_floor": 90}}
    falls(make_scenario, low_dealer_floor, floored, "conflict_price_erosion", margin=0.3)


# --- engagement rules ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "rule", ["rep_only", "dealer_only", "rep_assists_dealer", "deal_registration"]
)
def test_only_open_engagement_produces_conflicts(make_scenario, rule):
    kpis = ChannelModel(make_scenario(engagement={"large_accounts": rule}), seed=2).run().kpis
    assert kpis["conflicts"] == 0


def test_rep_assists_dealer_means_fewer_conflicts_and_fewer_dealer_exits(make_scenario):
    # Reps with wide authority undercut dealers, so open conflicts hurt dealers.
    setup = {
        "weeks": 104,
        "pricing": {"rep_max_discount": 0.35},
        "dealers": {"conflict_sensitivity": 0.3, "exit": {"patience_weeks": 8}},
        "reps": {"prospecting": 0.8},
    }
    assisted = {**setup, "engagement": {"large_accounts": "rep_assists_dealer"}}
    falls(make_scenario, setup, assisted, "conflicts", margin=0.9)
    falls(make_scenario, setup, assisted, "dealers_exited", margin=0.3)


def test_rep_assists_dealer_books_large_accounts_through_dealers(make_scenario):
    rises(
        make_scenario,
        {"engagement": {"large_accounts": "rep_only"}},
        {"engagement": {"large_accounts": "rep_assists_dealer"}},
        "revenue_dealer",
    )


# --- compensation -------------------------------------------------------------------------


def test_gross_margin_basis_pays_less_than_revenue_basis_at_the_same_rate(make_scenario):
    falls(
        make_scenario,
        {"reps": {"base_salary": 0, "commission": {"basis": "revenue", "quota_bonus": 0}}},
        {"reps": {"base_salary": 0, "commission": {"basis": "gross_margin", "quota_bonus": 0}}},
        "rep_compensation",
        margin=0.3,
    )


def test_overlay_credit_pays_reps_for_dealer_sales(make_scenario):
    rises(
        make_scenario,
        {"reps": {"commission": {"overlay_rate": 0.0}}},
        {"reps": {"commission": {"overlay_rate": 0.05}}},
        "rep_compensation",
    )


def test_tiered_rates_above_quota_raise_pay(make_scenario):
    rises(
        make_scenario,
        {},
        {"reps": {"commission": {"tiers": [[0.5, 2.0], [1.0, 3.0]]}}},
        "rep_compensation",
        margin=0.02,
    )


def test_general_agent_rebates_move_money_from_company_to_general_agents(make_scenario):
    base = {"strategy": "intermediary"}
    rebate = {"strategy": "intermediary", "general_agents": {"volume_rebate": {"rate": 0.05}}}
    rises(make_scenario, base, rebate, "ga_margin", margin=0.2)
    falls(make_scenario, base, rebate, "company_revenue", margin=0.005)
