"""The sweep's report flags a best point on the edge of the swept range: the optimum may
lie outside what was tried."""

from __future__ import annotations

import pandas as pd
import yaml
from click.testing import CliRunner
from conftest import SMALL

from channelsim.cli import main
from channelsim.output.sweep_text import edge_notes


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
