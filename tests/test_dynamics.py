"""Sales-force and dealer dynamics over months (the S company problems and their fixes).

Same method as test_mechanisms: one lever changes, paired over seeds, the KPI must move by
a margin in the direction the mechanism implies.
"""

from __future__ import annotations

import numpy as np
from test_mechanisms import SEEDS, falls, rises

from channelsim.model.channel_model import ChannelModel

TURNOVER = {"weeks": 104, "reps": {"attrition": {"base_rate": 0.03}}}


def test_crm_capture_keeps_customers_when_reps_leave(make_scenario):
    low = {**TURNOVER, "reps": {**TURNOVER["reps"], "crm_capture": 0.0}}
    high = {**TURNOVER, "reps": {**TURNOVER["reps"], "crm_capture": 0.9}}
    falls(make_scenario, low, high, "customers_lost_rep_departure", margin=0.5)


def test_a_higher_base_quit_rate_means_more_quits(make_scenario):
    rises(make_scenario, {}, TURNOVER, "rep_quits", margin=0.5)


def test_low_pay_drives_reps_out(make_scenario):
    rises(
        make_scenario,
        {"reps": {"base_salary": 700}},
        {"reps": {"base_salary": 200}},
        "rep_attrition",
        margin=0.3,
    )


def _mean_weekly(scenario, name):
    return np.mean([ChannelModel(scenario, seed=s).run().weekly[name].mean() for s in SEEDS])


def test_a_longer_hiring_delay_leaves_territories_empty_longer(make_scenario):
    quick = make_scenario(
        **{**TURNOVER, "reps": {"attrition": {"base_rate": 0.03, "hiring_delay_weeks": 1}}}
    )
    slow = make_scenario(
        **{**TURNOVER, "reps": {"attrition": {"base_rate": 0.03, "hiring_delay_weeks": 20}}}
    )
    assert _mean_weekly(slow, "reps_active") < _mean_weekly(quick, "reps_active") - 0.3


def test_ramp_up_costs_direct_sales_when_reps_turn_over(make_scenario):
    fast = {"reps": {"attrition": {"base_rate": 0.03, "ramp_weeks": 0}}}
    slow = {"reps": {"attrition": {"base_rate": 0.03, "ramp_weeks": 26}}}
    falls(make_scenario, fast, slow, "revenue_direct")


def test_telesales_raises_repeat_purchase_and_reaches_idle_customers(make_scenario):
    base = {"reps": {"crm_capture": 0.8, "capacity": 4}}
    tele = {**base, "telesales": {"enabled": True, "agents": 2, "calls_per_agent": 40}}
    rises(make_scenario, base, tele, "repeat_purchase_rate", margin=0.02)
    falls(make_scenario, base, tele, "idle_customers", margin=0.2)


def test_telesales_only_calls_customers_in_the_crm(make_scenario):
    no_crm = {
        "reps": {"crm_capture": 0.0},
        "dealers": {"crm_share": 0.0},
        "telesales": {"enabled": True},
    }
    kpis = ChannelModel(make_scenario(**no_crm), seed=1).run().kpis
    assert kpis["revenue_telesales"] == 0


def test_channel_managers_raise_dealer_revenue(make_scenario):
    rises(
        make_scenario,
        {"strategy": "intermediary", "reps": {"headcount": 0}},
        {"strategy": "intermediary", "reps": {"headcount": 6, "role": "channel_manager"}},
        "revenue_dealer",
    )


def test_a_mixed_force_has_channel_managers_in_proportion(make_scenario):
    model = ChannelModel(
        make_scenario(reps={"role": "mixed", "channel_manager_share": 0.5}), seed=1
    )
    assert model.reps.is_manager.sum() == 3


def test_more_pipeline_stages_slow_large_account_sales(make_scenario):
    segs = make_scenario().model_dump()["market"]["segments"]
    long_cycle = [{**s, "sales_cycle_stages": 6} if s["large_account"] else s for s in segs]
    rule = {"engagement": {"large_accounts": "rep_only"}}
    falls(make_scenario, rule, {**rule, "market": {"segments": long_cycle}}, "revenue_direct", 0.02)


def test_pipeline_advance_probability_sets_the_advance_rate(make_scenario):
    rises(
        make_scenario,
        {"reps": {"pipeline": {"advance_prob": 0.3}}},
        {"reps": {"pipeline": {"advance_prob": 0.8}}},
        "pipeline_advance_rate",
        margin=0.5,
    )


def test_haggled_quotas_are_easier_to_beat(make_scenario):
    rises(
        make_scenario,
        {"reps": {"quota": {"haggling_bias": 0.0}}},
        {"reps": {"quota": {"haggling_bias": 0.4}}},
        "quota_attainment_mean",
        margin=0.2,
    )


def test_data_driven_quotas_even_out_attainment_across_territories(make_scenario):
    def spread(method):
        values = []
        for s in SEEDS:
            model = ChannelModel(
                make_scenario(
                    market={
                        "regions": [
                            {"name": "North", "purchasing_power": 1.4},
                            {"name": "South", "purchasing_power": 0.7},
                        ]
                    },
                    reps={"quota": {"method": method, "noise": 0.3}},
                ),
                seed=s,
            )
            model.run()
            values.append(np.std(model.reps.attainment_last))
        return np.mean(values)

    assert spread("data_driven") < 0.8 * spread("negotiated")


CONFLICTED = {
    "weeks": 104,
    "pricing": {"rep_max_discount": 0.35},
    "reps": {"prospecting": 0.8},
    "dealers": {"conflict_sensitivity": 0.3, "exit": {"patience_weeks": 8}},
}


def test_dealers_that_lose_conflicts_become_dissatisfied_and_leave(make_scenario):
    calm = {**CONFLICTED, "dealers": {"conflict_sensitivity": 0.0, "exit": {"patience_weeks": 8}}}
    rises(make_scenario, calm, CONFLICTED, "dealers_exited", margin=1.0)


def test_impatient_dealers_leave_sooner(make_scenario):
    patient = {
        **CONFLICTED,
        "dealers": {"conflict_sensitivity": 0.3, "exit": {"patience_weeks": 40}},
    }
    rises(make_scenario, patient, CONFLICTED, "dealers_exited", margin=0.3)


def test_replacement_dealers_restore_the_network(make_scenario):
    replaced = {
        **CONFLICTED,
        "dealers": {
            "conflict_sensitivity": 0.3,
            "exit": {"patience_weeks": 8, "replace": True, "replacement_delay_weeks": 4},
        },
    }
    rises(make_scenario, CONFLICTED, replaced, "dealers_active", margin=0.1)


def test_dealer_effort_rises_with_margin(make_scenario):
    def effort(markup):
        model = ChannelModel(make_scenario(dealers={"markup": markup}), seed=1)
        return model.dealers.effort.mean()

    assert effort(0.3) > effort(0.15)


def test_insurance_claims_follow_the_segment_loss_ratio(make_scenario):
    segs = make_scenario().model_dump()["market"]["segments"]
    insured = [{**s, "loss_ratio": 0.6} for s in segs]
    sc = make_scenario(
        market={"segments": insured}, insurance={"enabled": True, "loss_ratio_threshold": 100}
    )
    ratios = [ChannelModel(sc, seed=s).run().kpis["loss_ratio"] for s in SEEDS]
    assert 0.5 < np.mean(ratios) < 0.7


def test_underwriting_on_loss_ratio_lowers_the_book_loss_ratio(make_scenario):
    segs = make_scenario().model_dump()["market"]["segments"]
    insured = [{**s, "loss_ratio": 0.7, "cycle_weeks": 13} for s in segs]
    base = {"weeks": 104, "market": {"segments": insured}}
    lax = {**base, "insurance": {"enabled": True, "loss_ratio_threshold": 100}}
    strict = {
        **base,
        "insurance": {"enabled": True, "loss_ratio_threshold": 0.9, "action": "decline"},
    }
    falls(make_scenario, lax, strict, "loss_ratio", margin=0.05)


def test_loss_ratio_is_empty_without_insurance(make_scenario):
    assert np.isnan(ChannelModel(make_scenario(), seed=1).run().kpis["loss_ratio"])
