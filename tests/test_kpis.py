"""The KPI records (model/kpis.py) and what is derived from them: the column list, the
glossary, chart axis units and printed numbers."""

from __future__ import annotations

import math
from typing import get_args

import pandas as pd
import pytest
from click.testing import CliRunner

from channelsim.cli import main
from channelsim.model import kpis
from channelsim.model.channel_model import ChannelModel
from channelsim.output import charts

# The columns of kpis.csv, in order: a contract with every results folder already written.
COLUMNS = [
    "revenue",
    "company_revenue",
    "company_profit",
    "channel_margin",
    "ga_margin",
    "dealer_margin",
    "rep_compensation",
    "cost_of_goods",
    "telesales_cost",
    "online_cost",
    "claims",
    "revenue_direct",
    "revenue_dealer",
    "revenue_online",
    "revenue_telesales",
    "units",
    "market_share",
    "customers_active",
    "new_customers",
    "repeat_purchase_rate",
    "churned_customers",
    "conflicts",
    "conflict_price_erosion",
    "conflict_revenue_to_reps",
    "conflict_margin_to_reps",
    "avg_price_index",
    "dealers_active",
    "revenue_telesales_share",
    "customers_lost_rep_departure",
    "rep_attrition",
    "rep_quits",
    "reps_active",
    "quota_attainment_mean",
    "pipeline_advance_rate",
    "dealers_exited",
    "dealers_exited_dissatisfied",
    "dealer_profit_mean",
    "idle_customers",
    "loss_ratio",
    "crm_share",
    "ga_unit_costs",  # issue 11: appended, so the earlier columns keep their places
    "dealer_unit_costs",
    "rep_visits",
    "rep_skill_mean",  # issue 19: appended, so the earlier columns keep their places
    "coached_visits",
    "training_cost",
    "promotions",
    "forecast_accuracy",
    "forecast_bias",
    "rep_quits_high_skill",
    "rep_attrition_high_skill",
    "management_cost",
    "career_pay",
    "conflict_exit_margin_at_risk",  # issue 12: appended, so the earlier columns keep their places
    "conflict_customers_to_reps",
]


def test_the_kpi_list_is_the_records_in_the_order_of_the_kpis_csv_columns():
    assert list(kpis.KPIS) == COLUMNS
    assert [k.name for k in kpis.CATALOGUE] == COLUMNS


@pytest.mark.parametrize("kpi", kpis.CATALOGUE, ids=lambda k: k.name)
def test_every_kpi_has_a_definition_a_unit_a_kind_and_a_measure(kpi):
    assert kpi.definition and kpi.unit
    assert kpi.kind in get_args(kpis.Kind)
    assert kpi.measure in get_args(kpis.Measure)
    assert (kpi.unit == "money") == (kpi.measure == "amount")


def test_a_run_gives_every_kpi_a_value_its_record_allows(make_scenario):
    """Counts are whole and never negative, shares lie in [0, 1], rates are not negative."""
    scenario = make_scenario(
        telesales={"enabled": True},
        online={"enabled": True},
        insurance={"enabled": True},
        engagement={"large_accounts": "open"},
    )
    values = ChannelModel(scenario, seed=3).run().kpis
    assert list(values) == list(kpis.KPIS)
    for kpi in kpis.CATALOGUE:
        value = values[kpi.name]
        if math.isnan(value):
            continue
        low, high = kpi.bounds
        assert value >= low, kpi.name
        assert high is None or value <= high, kpi.name
        if kpi.measure == "count":
            assert value == round(value), kpi.name


def test_channelsim_kpis_lists_every_kpi_with_its_unit_and_kind():
    result = CliRunner().invoke(main, ["kpis"])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert len(lines) == len(kpis.CATALOGUE)
    for line, kpi in zip(lines, kpis.CATALOGUE, strict=True):
        assert line == f"{kpi.name}: {kpi.definition} [unit: {kpi.unit}; kind: {kpi.kind}]"


def test_chart_axes_carry_the_units_of_the_records():
    names = ["rep_attrition", "revenue", "market_share", "customers_active"]
    summary = pd.DataFrame(
        {
            "scenario": "a",
            "kpi": names,
            "mean": [0.2, 500.0, 0.4, 300.0],
            "ci_low": [0.1, 400.0, 0.3, 250.0],
            "ci_high": [0.3, 600.0, 0.5, 350.0],
        }
    )
    figure = charts.kpi_bars(summary, names, "test")
    labels = [ax.get_ylabel() for ax in figure.axes if ax.get_visible()][: len(names)]
    assert labels == [kpis.BY_NAME[n].unit for n in names]
    assert labels[0] == "quits per rep-year"
    assert charts.kpi_unit("not_a_kpi") == ""


def test_interval_bounds_come_from_the_records(make_scenario):
    """Numbers print by one rule for every KPI (tests/test_precision.py); what a KPI's
    interval may span comes from its record, capped by the scenario where it says more."""
    from channelsim.experiments.bounds import kpi_bounds

    bounds = kpi_bounds(make_scenario())
    for kpi in kpis.CATALOGUE:
        assert bounds[kpi.name][0] == kpi.bounds[0]
        if kpi.bounds[1] is not None:
            assert bounds[kpi.name][1] == kpi.bounds[1]


def test_every_money_panel_has_one_unit_the_currency():
    money = [k.name for k in kpis.CATALOGUE if k.unit == "money"][:6]
    summary = pd.DataFrame(
        {"scenario": "a", "kpi": money, "mean": 2e6, "ci_low": 1.5e6, "ci_high": 2.5e6}
    )
    figure = charts.kpi_bars(summary, money, "money", currency="EUR")
    labels = {ax.get_ylabel() for ax in figure.axes if ax.get_visible()}
    labels.discard("")
    assert labels == {"EUR millions"}
