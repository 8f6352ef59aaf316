"""Issue 19: the sales-management process. Rep skill and its learning curve, coaching on
joint field visits, training, career paths, forecasts and sharing of practice.

Rules are checked against their closed forms; each mechanism's direction of effect is
checked over several seeds with a margin (paired: both arms share a seed). Nothing here
writes a KPI's expected direction into the model.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SCENARIOS

from channelsim.model import sales_management
from channelsim.model.channel_model import ChannelModel
from channelsim.model.kpis import KPIS
from channelsim.model.rules import forecast as forecasts
from channelsim.model.rules import skill as skills
from channelsim.scenario.loading import load_scenario
from channelsim.scenario.schema import RepSkill, SalesManagement

SEEDS = (1, 2, 3, 4)
NEW_KPIS = {
    "rep_skill_mean",
    "coached_visits",
    "training_cost",
    "promotions",
    "forecast_accuracy",
    "forecast_bias",
    "rep_quits_high_skill",
    "rep_attrition_high_skill",
    "management_cost",
    "career_pay",
}
# Skill that sells: a skilled rep's offer is worth more and its deals advance faster.
SKILL_SELLS = {"value_per_skill": 15.0, "advance_per_skill": 1.0}
# Coaching without the managers' own selling, so only the joint visits act.
COACHING = {"managers": 2, "manager_sells": False}


def totals(make_scenario, seeds=SEEDS, **overrides) -> dict[str, float]:
    """Every KPI summed over the seeds (a paired comparison: both arms share the seeds)."""
    scenario = make_scenario(**overrides)
    runs = [ChannelModel(scenario, seed=s).run().kpis for s in seeds]
    return {k: sum(run[k] for run in runs) for k in runs[0]}


def total(make_scenario, kpi: str, seeds=SEEDS, **overrides) -> float:
    return totals(make_scenario, seeds, **overrides)[kpi]


# --- rules --------------------------------------------------------------------------------------


def test_the_learning_curve_closes_the_gap_to_the_ceiling_geometrically():
    s = np.array([0.2, 0.5])
    for _ in range(30):
        s = skills.learn(s, 0.9, 0.05, 0.0, 0.1)
    assert s == pytest.approx(0.9 - (0.9 - np.array([0.2, 0.5])) * 0.95**30)
    assert (s <= 0.9).all()


def test_a_coached_visit_closes_a_further_share_of_the_gap():
    once = skills.learn(0.4, 1.0, 0.0, 1.0, 0.1)
    twice = skills.learn(0.4, 1.0, 0.0, 2.0, 0.1)
    assert once == pytest.approx(0.46)
    assert twice == pytest.approx(1.0 - 0.6 * 0.81)


def test_training_has_diminishing_returns():
    assert skills.training_share(0.0, 0.1) == 0.0
    assert skills.training_share(1000.0, 0.1) == pytest.approx(0.1)
    assert skills.training_share(2000.0, 0.1) == pytest.approx(0.19)


def test_joint_visits_go_to_the_weakest_reps_of_each_region_first():
    skill = np.array([0.9, 0.1, 0.5, 0.3, 0.2])
    region = np.array([0, 0, 0, 1, 1])
    eligible = np.array([True, True, True, True, False])
    got = skills.allocate_coaching(skill, region, eligible, np.array([3.0, 10.0]), 2)
    assert got.tolist() == [0, 2, 1, 2, 0]


def test_skill_changes_offers_pipeline_and_outside_pay_only_away_from_the_reference():
    assert skills.offer_value(np.array([0.5, 0.9, 0.1]), 0.5, 10.0) == pytest.approx([0, 4, -4])
    assert skills.advance_factor(np.array([0.5, 1.0]), 0.5, 1.0) == pytest.approx([1.0, 1.5])
    assert skills.outside_pay(1000.0, np.array([0.5, 1.0]), 0.5, 0.4) == pytest.approx([1000, 1200])


def test_a_forecast_is_the_run_rate_plus_what_the_pipeline_gained_biased_and_noisy():
    f = forecasts.forecast(
        [1000.0, 1000.0], [200.0, 200.0], [500.0, 100.0], -0.1, [0.0, 0.5], [3.0, -1.0]
    )
    assert f == pytest.approx([1300 * 0.9, 900 * 0.9 * 0.5])
    assert forecasts.bias("negotiated", 0.2, 0.1) == -0.2
    assert forecasts.bias("data_driven", 0.2, 0.1) == 0.1
    errors = forecasts.absolute_percentage_errors([90.0, 120.0, 5.0], [100.0, 100.0, 0.0])
    assert errors == pytest.approx([0.1, 0.2])


# --- neutral settings ---------------------------------------------------------------------------


def test_skill_on_its_own_changes_no_existing_kpi(make_scenario):
    """Skill always evolves, but with its effects at 0 it moves no sale (and its draws come
    from a stream of its own)."""
    low = ChannelModel(make_scenario(reps={"skill": {"initial": [0.0, 0.1]}}), seed=5).run()
    high = ChannelModel(make_scenario(reps={"skill": {"initial": [0.8, 1.0]}}), seed=5).run()
    old = [k for k in KPIS if k not in NEW_KPIS]
    assert [low.kpis[k] for k in old] == pytest.approx([high.kpis[k] for k in old], nan_ok=True)
    assert low.kpis["rep_skill_mean"] < high.kpis["rep_skill_mean"]


def test_neutral_sales_management_costs_nothing_and_coaches_nobody(make_scenario):
    k = ChannelModel(make_scenario(), seed=2).run().kpis
    for name in ("coached_visits", "training_cost", "promotions", "management_cost", "career_pay"):
        assert k[name] == 0


def test_without_sellers_mean_skill_has_no_value_rather_than_a_novices(make_scenario):
    """An intermediary strategy's reps manage channels and sell nothing: no mean skill."""
    k = ChannelModel(make_scenario(strategy="intermediary"), seed=2).run().kpis
    assert np.isnan(k["rep_skill_mean"])
    assert ChannelModel(make_scenario(), seed=2).run().kpis["rep_skill_mean"] > 0


# --- directions of effect -----------------------------------------------------------------------


def test_skilled_reps_sell_more_and_advance_deals_faster(make_scenario):
    def run(initial):
        return totals(make_scenario, reps={"skill": {"initial": initial, **SKILL_SELLS}})

    weak, strong = run([0.1, 0.2]), run([0.8, 0.9])
    assert strong["revenue_direct"] > 1.05 * weak["revenue_direct"]
    assert strong["pipeline_advance_rate"] > weak["pipeline_advance_rate"] + 0.1 * len(SEEDS)


def test_reps_learn_with_tenure_up_to_the_ceiling(make_scenario):
    slow = total(make_scenario, "rep_skill_mean", reps={"skill": {"learning_rate": 0.0}})
    fast = total(make_scenario, "rep_skill_mean", reps={"skill": {"learning_rate": 0.05}})
    capped = total(
        make_scenario,
        "rep_skill_mean",
        reps={"skill": {"learning_rate": 0.05, "ceiling": 0.9, "initial": [0.3, 0.9]}},
    )
    assert fast > slow + 0.1 * len(SEEDS)
    assert capped <= 0.9 * len(SEEDS)


def test_departing_reps_take_their_skill_and_new_hires_start_low(make_scenario):
    skill = {"initial": [0.8, 0.9], "learning_rate": 0.0, "new_hire": 0.1}

    def mean_skill(rate):
        attrition = {"base_rate": rate, "market_pay": 700}
        return total(make_scenario, "rep_skill_mean", reps={"skill": skill, "attrition": attrition})

    assert mean_skill(0.03) < mean_skill(0.0) - 0.1 * len(SEEDS)


def test_a_new_hire_starts_at_the_new_hire_skill(make_scenario):
    model = ChannelModel(make_scenario(reps={"skill": {"new_hire": 0.15}}), seed=1)
    model.reps.occupied[0] = False
    model.reps.vacancy[0] = 0
    model.management.in_post[0] = False
    model.step()
    assert model.reps.occupied[0]
    assert model.management.skill[0] == 0.15


def test_coaching_raises_mean_skill_and_direct_revenue(make_scenario):
    reps = {"skill": SKILL_SELLS}
    without = totals(make_scenario, reps=reps)
    coached = totals(make_scenario, reps=reps, sales_management=COACHING)
    assert coached["rep_skill_mean"] > without["rep_skill_mean"] + 0.05 * len(SEEDS)
    assert coached["revenue_direct"] > 1.03 * without["revenue_direct"]
    assert coached["coached_visits"] > 0


def test_the_rule_of_two_is_a_setting_and_joint_visits_use_the_managers_time(make_scenario):
    def coached(per_rep, managers=2):
        cfg = {"managers": managers, "coaching": {"joint_visits_per_rep": per_rep}}
        return total(make_scenario, "coached_visits", seeds=(1,), sales_management=cfg)

    # 6 reps, 52 weeks: at most per_rep joint visits each a week.
    assert coached(2) <= 2 * 6 * 52
    assert coached(4) > coached(2)
    # One manager's field time (20 x 0.8 = 16 visits a week) caps four per rep for 6 reps.
    assert coached(4, managers=1) <= 16 * 52 < coached(4)


def test_coaching_competes_with_the_managers_own_selling(make_scenario):
    def visits(per_rep):
        cfg = {"managers": 2, "coaching": {"joint_visits_per_rep": per_rep}}
        return total(make_scenario, "rep_visits", sales_management=cfg)

    alone = total(make_scenario, "rep_visits")
    assert visits(0) > visits(4) > alone


def test_training_raises_skill_and_costs_its_budget(make_scenario):
    cfg = {"training": {"budget_per_rep": 2000.0}}
    trained = make_scenario(sales_management=cfg, reps={"skill": {"learning_rate": 0.0}})
    untrained = make_scenario(reps={"skill": {"learning_rate": 0.0}})
    gains, costs = [], []
    for seed in SEEDS:
        t, u = ChannelModel(trained, seed=seed).run(), ChannelModel(untrained, seed=seed).run()
        gains.append(t.kpis["rep_skill_mean"] - u.kpis["rep_skill_mean"])
        # One budget per seller in post at each quarter start (weeks 0, 13, 26, 39).
        costs.append(t.kpis["training_cost"])
        assert t.kpis["company_profit"] < u.kpis["company_profit"]
    assert min(gains) > 0.05
    assert all(c <= 2000.0 * 6 * 4 and c > 0 for c in costs)


# Two steps, so a promoted rep still has one ahead; a quick path, so it shows within a year.
CAREER = {
    "enabled": True,
    "levels": 2,
    "tenure_weeks": 13,
    "attainment": 0.8,
    "quit_hazard_factor": 0.3,
}
CHURNY = {"base_rate": 0.01, "market_pay": 700}
# Each rep can quit only once, so compare rates per high-skill rep-year, not counts.
HIGH_RATE = "rep_attrition_high_skill"


def test_a_career_path_lowers_the_attrition_of_high_skill_reps(make_scenario):
    seeds = tuple(range(1, 9))
    reps = {"attrition": CHURNY, "skill": {"high": 0.6}}
    without = total(make_scenario, HIGH_RATE, seeds=seeds, reps=reps)
    career = {"career": CAREER}
    kw = {"seeds": seeds, "reps": reps, "sales_management": career}
    with_path = totals(make_scenario, **kw)
    assert with_path[HIGH_RATE] < 0.8 * without
    assert with_path["promotions"] > 0
    assert with_path["career_pay"] > 0


def test_better_outside_offers_for_good_reps_make_more_of_them_leave(make_scenario):
    seeds = tuple(range(1, 9))

    def quits(premium):
        reps = {"attrition": CHURNY, "skill": {"high": 0.6, "outside_pay_per_skill": premium}}
        return total(make_scenario, HIGH_RATE, seeds=seeds, reps=reps)

    assert quits(1.0) > 1.2 * quits(0.0)


def test_sandbagging_makes_forecast_bias_negative_and_optimism_positive(make_scenario):
    negotiated = total(make_scenario, "forecast_bias")
    honest = total(
        make_scenario, "forecast_bias", sales_management={"forecasts": {"sandbagging": 0.0}}
    )
    data_driven = total(make_scenario, "forecast_bias", reps={"quota": {"method": "data_driven"}})
    assert negotiated < -0.05 * len(SEEDS)
    assert negotiated < honest - 0.1 * len(SEEDS)
    assert data_driven > negotiated + 0.1 * len(SEEDS)


def test_skilled_reps_forecast_more_accurately(make_scenario):
    def error(initial):
        return total(make_scenario, "forecast_accuracy", reps={"skill": {"initial": initial}})

    assert error([0.9, 1.0]) < error([0.0, 0.1]) - 0.02 * len(SEEDS)


def test_data_driven_quotas_can_listen_to_optimistic_forecasts(make_scenario):
    reps = {"quota": {"method": "data_driven"}}
    optimistic = {"forecasts": {"optimism": 0.5, "quota_weight": 1.0}}
    formula = total(make_scenario, "quota_attainment_mean", reps=reps)
    listened = total(make_scenario, "quota_attainment_mean", reps=reps, sales_management=optimistic)
    assert listened < formula - 0.05 * len(SEEDS)


def test_team_meetings_spread_the_best_reps_skill(make_scenario):
    reps = {"skill": {"learning_rate": 0.0, "initial": [0.1, 0.9]}}
    alone = total(make_scenario, "rep_skill_mean", reps=reps)
    shared = total(
        make_scenario, "rep_skill_mean", reps=reps, sales_management={"sharing": {"rate": 0.3}}
    )
    assert shared > alone + 0.1 * len(SEEDS)


def test_team_meetings_narrow_the_skill_spread_within_each_region(make_scenario):
    """Meetings pull each seller towards its region's best, so the spread within a region
    shrinks (across regions it need not: each region converges on its own best)."""
    reps = {"skill": {"learning_rate": 0.0, "initial": [0.1, 0.9]}}

    def spread(sales_management_cfg) -> float:
        total_spread = 0.0
        for seed in SEEDS:
            model = ChannelModel(
                make_scenario(reps=reps, sales_management=sales_management_cfg), seed
            )
            model.run()
            selling, region = sales_management.sellers_in_post(model), model.reps.region
            skill = model.management.skill
            total_spread += np.mean(
                [skill[selling & (region == g)].std() for g in np.unique(region[selling])]
            )
        return total_spread

    assert spread({"sharing": {"rate": 0.3}}) < 0.5 * spread({})


def test_skill_raises_the_chance_that_a_visit_ends_in_a_sale(make_scenario):
    """Skill acting on the offer alone (pipeline and learning neutral): skilled reps win more
    of the customers they visit."""

    def revenue_per_visit(initial) -> float:
        skill = {"initial": initial, "learning_rate": 0.0, "value_per_skill": 15.0}
        k = totals(make_scenario, reps={"skill": skill})
        return k["revenue_direct"] / k["rep_visits"]

    assert revenue_per_visit([0.8, 0.9]) > 1.3 * revenue_per_visit([0.1, 0.2])


def test_hooks_are_neutral_scalars_when_their_mechanisms_are_off(make_scenario):
    model = ChannelModel(make_scenario(), seed=1)
    assert sales_management.manager_visits(model) == 0.0
    assert sales_management.advance_factor(model, np.array([0, 1])) == 1.0
    assert sales_management.rep_offer_value(model, np.array([0, 1])) is None
    assert sales_management.quit_factor(model) == 1.0
    assert sales_management.outside_pay(model) == model.scenario.reps.attrition.market_pay


def test_training_managers_and_career_pay_come_out_of_company_profit(make_scenario):
    cfg = {
        "managers": 1,
        "training": {"budget_per_rep": 500.0},
        "career": {"enabled": True, "tenure_weeks": 13, "attainment": 0.5},
    }
    k = ChannelModel(make_scenario(sales_management=cfg), seed=3).run().kpis
    costs = (
        k["cost_of_goods"]
        + k["rep_compensation"]
        + k["telesales_cost"]
        + k["online_cost"]
        + k["claims"]
        + k["training_cost"]
        + k["management_cost"]
    )
    assert k["company_profit"] == pytest.approx(k["company_revenue"] - costs)
    assert k["management_cost"] == 2000.0 * 52
    assert 0 < k["career_pay"] < k["rep_compensation"]


# --- the S company case (docs/case-s-company.md) --------------------------------------------


def test_s_company_before_uses_none_of_the_sales_management_mechanisms():
    before = load_scenario(SCENARIOS / "s_company_before.yaml")
    assert before.sales_management == SalesManagement()
    neutral = RepSkill()
    skill = before.reps.skill
    assert (skill.value_per_skill, skill.advance_per_skill, skill.outside_pay_per_skill) == (
        neutral.value_per_skill,
        neutral.advance_per_skill,
        neutral.outside_pay_per_skill,
    )
    assert before.reps.quota.method == "negotiated"


def test_s_company_after_adds_coaching_training_careers_and_data_driven_quotas():
    after = load_scenario(SCENARIOS / "s_company_after.yaml")
    sm = after.sales_management
    assert sm.managers > 0 and sm.coaching.joint_visits_per_rep == 2
    assert sm.training.budget_per_rep > 0
    assert sm.career.enabled
    assert after.reps.quota.method == "data_driven" and sm.forecasts.quota_weight > 0
    assert sm.sharing.rate > 0
