"""A run in which nothing sells is a normal question ("what if we disband the rep force?"):
it runs, charts what exists, says on each empty chart that it has no data, and reports
zeros, with exit code 0 and a complete folder."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from conftest import SCENARIOS, SMALL

from channelsim.cli import main
from channelsim.output import charts


def _run(args: list[str]):
    return CliRunner().invoke(main, [*args, "--quiet"])


def _no_data_texts(fig) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts if "no " in t.get_text()]


@pytest.mark.parametrize(
    "args",
    [
        [str(SCENARIOS / "direct.yaml"), "--set", "reps.headcount=0"],
        [str(SCENARIOS / "intermediary.yaml"), "--set", "dealers.per_region=0"],
        [str(SCENARIOS / "validation" / "textbook.yaml")],
    ],
    ids=["no_reps", "no_dealers", "textbook"],
)
def test_a_run_that_sells_nothing_exits_0_with_a_complete_folder(
    tmp_path: Path, args: list[str]
) -> None:
    out = tmp_path / "out"
    result = _run(["run", *args, "-n", "1", "--weeks", "3", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert (out / "manifest.json").is_file() and not (out / "INCOMPLETE").exists()
    assert len(list((out / "charts").glob("*.png"))) >= 4
    summary = pd.read_csv(out / "summary.csv").set_index("kpi")
    if "textbook" not in args[0]:
        assert summary.loc["units", "mean"] == 0


def test_a_segment_with_zero_customers_runs(tmp_path: Path) -> None:
    doc = copy.deepcopy(SMALL)
    doc["market"]["segments"][1]["customers"] = 0
    path = tmp_path / "zero.yaml"
    path.write_text(yaml.safe_dump(doc))
    result = _run(["run", str(path), "-n", "1", "--weeks", "3", "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output


def test_compare_with_a_scenario_that_sells_nothing_exits_0(tmp_path: Path) -> None:
    doc = copy.deepcopy(SMALL)
    empty = {**copy.deepcopy(doc), "name": "no_one", "strategy": "direct"}
    empty["reps"] = {**empty["reps"], "headcount": 0}
    (tmp_path / "small.yaml").write_text(yaml.safe_dump(doc))
    (tmp_path / "empty.yaml").write_text(yaml.safe_dump(empty))
    out = tmp_path / "out"
    result = _run(
        [
            "compare",
            str(tmp_path / "empty.yaml"),
            str(tmp_path / "small.yaml"),
            "-n",
            "2",
            "--weeks",
            "3",
            "--out",
            str(out),
            "--report",
        ]
    )
    assert result.exit_code == 0, result.output
    assert (out / "report.html").is_file() and not (out / "INCOMPLETE").exists()


def _weekly(values: float) -> pd.DataFrame:
    rows = [
        {"replicate": r, "week": w, "avg_price_index": values, "conflicts": 0.0}
        for r in range(2)
        for w in range(5)
    ]
    return pd.DataFrame(rows)


def test_a_chart_of_a_metric_empty_in_every_week_says_so_on_the_figure() -> None:
    fig = charts.conflicts_and_prices(_weekly(np.nan))
    assert any("nothing was sold" in text for text in _no_data_texts(fig))


def test_a_chart_with_data_has_no_no_data_note() -> None:
    fig = charts.conflicts_and_prices(_weekly(0.95))
    assert _no_data_texts(fig) == []


def test_where_the_money_goes_accounts_for_all_customer_money_with_sales_management_costs():
    """Training and the sales managers' pay come out of company profit (model.md 3.14), so
    the parts, those costs among them, add up to what customers paid."""
    kpis = pd.DataFrame(
        {
            "scenario": ["reformed"],
            "revenue": [1000.0],
            "company_profit": [100.0],
            "cost_of_goods": [500.0],
            "rep_compensation": [150.0],
            "telesales_cost": [40.0],
            "online_cost": [10.0],
            "claims": [0.0],
            "training_cost": [30.0],
            "management_cost": [70.0],
            "ga_margin": [50.0],
            "dealer_margin": [50.0],
        }
    )
    fig = charts.where_the_money_goes(kpis)
    heights = [bar.get_height() for bar in fig.axes[0].patches]
    assert sum(heights) == pytest.approx(100.0)
    assert any(h == pytest.approx(10.0) for h in heights)  # training and managers: 100 of 1000


def test_where_the_money_goes_draws_no_bar_for_a_run_without_revenue() -> None:
    kpis = pd.DataFrame(
        {"scenario": ["none"], "revenue": [0.0], **{c: [0.0] for c in charts.MONEY_PARTS}}
    ).assign(online_cost=0.0, company_profit=-5000.0)
    fig = charts.where_the_money_goes(kpis)
    assert any("no sales" in text for text in _no_data_texts(fig))
    assert not fig.axes[0].patches


def test_a_scenario_without_a_value_gets_no_bar_and_says_so() -> None:
    """No value (intermediary has no sellers to forecast) is not drawn as a bar of zero."""
    summary = pd.DataFrame(
        {
            "scenario": ["a", "b"],
            "kpi": "forecast_accuracy",
            "mean": [0.2, np.nan],
            "ci_low": [0.1, np.nan],
            "ci_high": [0.3, np.nan],
        }
    )
    fig = charts.kpi_bars(summary, ["forecast_accuracy"], "test")
    ax = fig.axes[0]
    assert len(ax.patches) == 1  # a's bar only
    assert [t.get_text() for t in ax.texts] == ["no value"]
