"""The sweep's report flags a best point on the edge of the swept range: the optimum may
lie outside what was tried."""

from __future__ import annotations

import pandas as pd
import yaml
from click.testing import CliRunner
from conftest import SMALL

from channelsim.cli import main
from channelsim.output.sweep_text import edge_notes
from channelsim.scenario.reference import setting_limits


def summary(values: list[float], means: list[float], rule: list[str] | None = None) -> pd.DataFrame:
    frame = pd.DataFrame(
        {"point": range(len(values)), "rate": values, "kpi": "company_profit", "mean": means}
    )
    if rule:
        frame["rule"] = rule
    return frame


def test_best_at_the_lowest_value_says_widen_below() -> None:
    notes = edge_notes(summary([0.02, 0.06, 0.1], [9.0, 5.0, 1.0]), ["rate"], "company_profit")
    assert notes == [
        "note: the best company_profit is at the lowest value of rate tried (0.02): "
        "the best may lie below it; widen the range"
    ]


def test_best_at_the_highest_value_says_widen_above() -> None:
    notes = edge_notes(summary([0.02, 0.06, 0.1], [1.0, 5.0, 9.0]), ["rate"], "company_profit")
    assert len(notes) == 1 and "highest value of rate" in notes[0] and "above" in notes[0]


def test_a_best_inside_the_range_or_a_rule_gets_no_note() -> None:
    inside = summary([0.02, 0.06, 0.1], [1.0, 9.0, 5.0], rule=["open", "rep_only", "open"])
    assert edge_notes(inside, ["rate", "rule"], "company_profit") == []


def test_the_sweep_command_prints_the_note(tmp_path) -> None:
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(SMALL))
    out = tmp_path / "out"
    args = ["sweep", str(path), "--param", "pricing.list_price=70,80", "-n", "1", "--weeks", "3"]
    result = CliRunner().invoke(main, [*args, "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    table = pd.read_parquet(out / "summary.parquet")
    profit = table[table["kpi"] == "company_profit"].set_index("pricing.list_price")["mean"]
    word = "highest" if profit[80.0] > profit[70.0] else "lowest"
    assert (
        f"note: the best company_profit is at the {word} value of pricing.list_price"
        in result.stdout
    )


def test_a_best_at_a_bound_of_the_schema_gets_no_note(make_scenario) -> None:
    """Nothing lies below a commission rate of 0 or above 1 (the schema's bounds), but below
    0.02 there is room to widen."""
    table = summary([0.0, 0.5, 1.0], [9.0, 5.0, 1.0]).rename(
        columns={"rate": "reps.commission.rate"}
    )
    path = ["reps.commission.rate"]
    assert edge_notes(table, path, "company_profit", make_scenario()) == []
    table["mean"] = [1.0, 5.0, 9.0]
    assert edge_notes(table, path, "company_profit", make_scenario()) == []
    table["reps.commission.rate"] = [0.02, 0.5, 0.9]
    assert len(edge_notes(table, path, "company_profit", make_scenario())) == 1


def test_the_schema_limits_of_a_setting_by_its_dotted_path(make_scenario) -> None:
    scenario = make_scenario()
    assert setting_limits(scenario, "reps.commission.rate") == (0.0, 1.0)
    assert setting_limits(scenario, "reps.headcount")[0] == 0.0
    first = scenario.market.segments[0].name
    assert setting_limits(scenario, f"market.segments.{first}.volume") == setting_limits(
        scenario, "market.segments.0.volume"
    )
    assert setting_limits(scenario, "pricing.list_price") == (None, None)  # > 0: no least
    assert setting_limits(scenario, "strategy") == (None, None)
    assert setting_limits(scenario, "no.such.key") == (None, None)
