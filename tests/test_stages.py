"""Each weekly stage on its own: a freshly built model is the state, one stage acts on it."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from channelsim.model import (
    booking,
    dealers,
    decisions,
    metrics,
    policies,
    repricing,
    reps,
    telesales,
)
from channelsim.model.channel_model import ChannelModel
from channelsim.model.channels import CHANNELS, COMPETITOR, DEALER, NO_ONE, NONE, ONLINE, REP
from channelsim.model.state import Accounts


def week_row() -> dict[str, float]:
    return metrics.WeeklyTable().start(0)


def everyone(model: ChannelModel) -> np.ndarray:
    return np.arange(model.population.size)


def accounts(model: ChannelModel, idx: np.ndarray) -> Accounts:
    return Accounts.of(model, idx)


# --- booking and pay -------------------------------------------------------------------


def test_a_booked_direct_sale_earns_the_rep_commission_and_quota_credit(make_scenario):
    model = ChannelModel(make_scenario(strategy="direct"), seed=1)
    customer = int(np.flatnonzero(model.state.rep_slot >= 0)[0])
    slot = model.state.rep_slot[customer]
    volume = model.segments.volume[model.population.segment[customer]]
    prices = np.full((1, len(CHANNELS)), 90.0)
    w = week_row()
    booking.book(
        model,
        accounts(model, np.array([customer])),
        0,
        np.array([REP]),
        prices,
        erosion=np.zeros(1),
        conflict=np.zeros(1, bool),
        assisted=np.zeros(1, bool),
        capture_draw=np.ones(1),
        claim_noise=np.ones(1),
        w=w,
    )
    revenue = 90.0 * volume
    assert w["revenue_direct"] == pytest.approx(revenue)
    assert model.reps.credit_qtd[slot] == pytest.approx(revenue)
    assert model.reps.pay_week[slot] == pytest.approx(0.05 * revenue)
    assert model.population.incumbent[customer] == REP and model.state.tied[customer]


def test_the_pay_stage_pays_salary_plus_earned_commission_and_clears_the_week(make_scenario):
    model = ChannelModel(make_scenario(strategy="direct"), seed=1)
    model.reps.pay_week[0] = 40.0  # commission earned this week
    w = week_row()
    reps.pay(model, 0, w)
    occupied = int(model.reps.occupied.sum())
    assert w["rep_compensation"] == pytest.approx(500 * occupied + 40.0)
    assert model.reps.pay_total[0] == pytest.approx(540.0)
    assert not model.reps.pay_week.any()


def test_a_sale_through_a_dealer_pays_the_channel_not_the_rep(make_scenario):
    model = ChannelModel(make_scenario(strategy="intermediary"), seed=1)
    customer = int(np.flatnonzero(model.state.dealer >= 0)[0])
    dealer = model.state.dealer[customer]
    volume = model.segments.volume[model.population.segment[customer]]
    retail = model.prices.dealer_to_customer
    prices = np.full((1, len(CHANNELS)), retail)
    w = week_row()
    booking.book(
        model,
        accounts(model, np.array([customer])),
        0,
        np.array([DEALER]),
        prices,
        np.zeros(1),
        np.zeros(1, bool),
        np.zeros(1, bool),
        np.ones(1),
        np.ones(1),
        w,
    )
    margin = (retail - model.prices.general_agent_to_dealer) * volume
    assert model.dealers.profit_window[dealer, 0] == pytest.approx(margin)
    assert w["company_revenue"] == pytest.approx(model.prices.company_to_general_agent * volume)
    assert w["revenue"] == pytest.approx(w["company_revenue"] + w["ga_margin"] + w["dealer_margin"])
    assert not model.reps.pay_week.any()


# --- telesales -------------------------------------------------------------------------


def test_telesales_calls_only_past_customers_in_the_crm(make_scenario):
    model = ChannelModel(make_scenario(telesales={"enabled": True, "agents": 50}), seed=1)
    eligible = model.state.crm & model.population.bought_before
    assert eligible.any() and not eligible.all()
    telesales.call(model, everyone(model), week_row())
    reached = model.state.tele_reached
    assert reached.any()
    assert not (reached & ~eligible).any()
    assert np.array_equal(reached, eligible & ~model.state.rep_ready)


def test_telesales_with_few_calls_reaches_the_customers_whose_window_closes_first(
    make_scenario,
):
    model = ChannelModel(
        make_scenario(telesales={"enabled": True, "agents": 1, "calls_per_agent": 5}), seed=1
    )
    eligible = np.flatnonzero(model.state.crm & model.population.bought_before)
    model.population.window_end[eligible] = 30
    model.population.window_end[eligible[:5]] = 3
    telesales.call(model, everyone(model), week_row())
    assert set(np.flatnonzero(model.state.tele_reached)) == set(eligible[:5])


# --- offers ----------------------------------------------------------------------------


def test_without_contact_only_online_the_competitor_and_no_purchase_are_on_offer(make_scenario):
    model = ChannelModel(make_scenario(online={"enabled": True}), seed=1)
    idx = everyone(model)
    none = np.zeros(idx.size, bool)
    available = decisions.offers(model, accounts(model, idx), none, none, none).available
    assert not available[:, [DEALER, REP]].any()
    assert available[:, [ONLINE, COMPETITOR, NONE]].all()


def test_under_rep_only_no_dealer_offers_to_a_large_account(make_scenario):
    model = ChannelModel(make_scenario(engagement={"large_accounts": "rep_only"}), seed=1)
    idx = everyone(model)
    could = np.ones(idx.size, bool)
    available = decisions.offers(model, accounts(model, idx), could, could, could).available
    large = model.segments.large[model.population.segment]
    assert not available[large, DEALER].any()
    assert available[~large, DEALER].any() and available[large, REP].any()


def test_a_channel_manager_never_offers_to_customers(make_scenario):
    model = ChannelModel(make_scenario(reps={"role": "channel_manager"}), seed=1)
    idx = everyone(model)
    could = np.ones(idx.size, bool)
    available = decisions.offers(model, accounts(model, idx), could, could, could).available
    assert not available[:, REP].any()


def test_declined_customers_get_no_offer_from_the_company(make_scenario):
    model = ChannelModel(
        make_scenario(insurance={"enabled": True, "action": "decline"}, online={"enabled": True}),
        seed=1,
    )
    model.state.flagged[:10] = True
    idx = everyone(model)
    could = np.ones(idx.size, bool)
    available = decisions.offers(model, accounts(model, idx), could, could, could).available
    assert not available[:10, :COMPETITOR].any()
    assert available[10:, ONLINE].all()


# --- reps ------------------------------------------------------------------------------


def test_reps_visit_at_most_their_capacity_and_managers_do_not_visit(make_scenario):
    model = ChannelModel(make_scenario(reps={"role": "mixed", "capacity": 3}), seed=1)
    model.state.tied[:] = True  # every large account is known to its rep
    reps.visit(model, accounts(model, everyone(model)), 0, week_row())
    visited = np.flatnonzero(model.state.contacted)
    per_slot = np.bincount(model.state.rep_slot[visited], minlength=model.reps.region.size)
    assert per_slot.max() <= 3 and per_slot.sum() > 0
    assert not per_slot[model.reps.is_manager].any()


def test_a_loss_making_price_gives_reps_no_reason_to_prefer_small_customers(make_scenario):
    """On gross margin below cost the commission base is zero for every customer, so the
    visit order is the random tie-break, not the negative margin (which would put the
    biggest customers last)."""
    scenario = make_scenario(
        strategy="direct",
        reps={"capacity": 1, "commission": {"basis": "gross_margin"}},
        pricing={"unit_cost": 99, "rep_discount": 0.05},
    )
    picked_large = 0
    for seed in range(12):
        model = ChannelModel(scenario, seed=seed)
        assert model.prices.direct < scenario.pricing.unit_cost
        st, seg = model.state, model.population.segment
        slot = st.rep_slot[np.flatnonzero(model.segments.large[seg])[0]]
        large = np.flatnonzero((st.rep_slot == slot) & model.segments.large[seg])[0]
        small = np.flatnonzero((st.rep_slot == slot) & ~model.segments.large[seg])[0]
        st.tied[[large, small]] = True
        reps.visit(model, accounts(model, np.array([large, small])), 0, week_row())
        assert st.contacted[[large, small]].sum() == 1
        picked_large += bool(st.contacted[large])
    assert 2 <= picked_large <= 10


def test_customers_tied_to_a_rep_who_quits_follow_the_rep_unless_in_the_crm(make_scenario):
    model = ChannelModel(make_scenario(reps={"attrition": {"base_rate": 1.0}}), seed=1)
    st, pop = model.state, model.population
    followers = st.tied & ~st.crm & (pop.incumbent == REP)
    kept = st.tied & st.crm & (pop.incumbent == REP)
    assert followers.any() and kept.any()
    w = week_row()
    reps.turnover(model, w)
    assert not model.reps.occupied.any()
    assert (pop.incumbent[followers] == COMPETITOR).all()
    assert (pop.incumbent[kept] == REP).all()
    assert w["customers_lost_rep_departure"] == followers.sum()


# --- dealers ---------------------------------------------------------------------------


def test_customers_of_a_dealer_who_leaves_pass_to_another_dealer_of_their_region(make_scenario):
    model = ChannelModel(make_scenario(strategy="intermediary"), seed=1)
    st, d = model.state, model.dealers
    orphans = np.flatnonzero(st.dealer == 0)
    own = orphans[model.population.incumbent[orphans] == DEALER]
    assert own.size
    dealers.leave(model, np.array([0]))
    assert not d.active[0] and model.dealers_exited == 1
    assert (d.active[st.dealer[orphans]]).all()
    assert (d.region[st.dealer[orphans]] == d.region[0]).all()
    assert (model.population.incumbent[own] == NO_ONE).all()


def test_dealer_reach_needs_an_active_dealer(make_scenario):
    model = ChannelModel(make_scenario(strategy="intermediary", dealers={"reach": 1.0}), seed=1)
    model.dealers.active[:] = False
    dealers.reach(model, accounts(model, everyone(model)), 0, dealers.channel_support(model))
    assert not model.state.dealer_reached.any()


# --- price reviews ---------------------------------------------------------------------


def test_fixed_prices_are_never_reviewed(make_scenario):
    model = ChannelModel(make_scenario(), seed=1)
    before = (model.prices, model.streams.pricing.bit_generator.state)
    model.price_reviews.review(model, 0, model.weekly)
    assert (model.prices, model.streams.pricing.bit_generator.state) == before
    assert model.price_history == []


def test_price_reviews_anticipate_the_offers_purchases_get(make_scenario):
    """The demand sample's offers are `decisions.offers` for sellers who could reach."""
    model = ChannelModel(make_scenario(engagement={"large_accounts": "dealer_only"}), seed=1)
    sample, _ = repricing.demand_sample(model)
    idx = policies.systematic_sample(model.population.size, 2000)  # the default sample size
    large = model.segments.large[model.population.segment[idx]]
    assert sample.offers.shape[0] == idx.size == 2000
    assert not sample.offers[large, REP].any() and sample.offers[large, DEALER].any()
    assert sample.offers[~large, REP].any()


# --- imports -----------------------------------------------------------------------------


def test_no_module_of_the_model_imports_the_model_class_or_forms_a_cycle():
    """Stages, agents and metrics depend on `state.World`, not on `ChannelModel`."""
    package = Path(__file__).resolve().parents[1] / "src" / "channelsim" / "model"
    graph: dict[str, set[str]] = {}
    for path in package.rglob("*.py"):
        name = "channelsim.model." + ".".join(path.relative_to(package).with_suffix("").parts)
        deps = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "channelsim.model":
                deps |= {f"channelsim.model.{alias.name}" for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                deps.add(node.module)
        graph[name] = {d for d in deps if d.startswith("channelsim.model")}
    model_class = "channelsim.model.channel_model"
    assert [n for n, deps in graph.items() if model_class in deps] == []

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for dep in graph.get(start, ()):
            if dep == goal or (dep not in seen and reaches(dep, goal, seen | {dep})):
                return True
        return False

    assert [n for n in graph if reaches(n, n, set())] == []
