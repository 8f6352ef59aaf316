"""What conflicts cost, in money, beside the answer: the model books the sales and channel
margin that move to reps in conflicts they win and the dealers who leave dissatisfied;
`compare` prints the settings that differ and a cost-of-conflict table, and the report
shows both right after the answer, and every pair when there are more than two scenarios."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner
from conftest import SMALL

import channelsim
from channelsim.cli import main
from channelsim.scenario.loading import deep_merge, validate

# Reps may discount to 60, below the dealers' floor (their cost, 77): reps win conflicts.
REPS_WIN = {"pricing": {"rep_max_discount": 0.4}, "weeks": 26}


def kpis(changes: dict, seeds: int = 3):
    sc = validate(deep_merge(SMALL, deep_merge(REPS_WIN, changes)))
    return channelsim.run(sc, replicates=seeds, seed=5).kpis


def test_conflicts_won_by_reps_move_sales_and_channel_margin_to_reps() -> None:
    table = kpis({})
    assert (table["conflicts"] > 0).all()
    moved = table["conflict_revenue_to_reps"]
    assert (moved > 0).all() and (moved <= table["revenue_direct"]).all()
    # margin moved = the channel's normal unit margin (77 * 1.25 - 70) on units sold at 60 or more
    unit_margin = 70 * 1.1 * 1.25 - 70
    assert (table["conflict_margin_to_reps"] <= moved / 60 * unit_margin + 1e-6).all()
    assert (table["conflict_margin_to_reps"] > 0).all()
    # each customer won in a conflict moved at least one unit at no less than the rep's floor
    customers = table["conflict_customers_to_reps"]
    assert (customers > 0).all() and (customers <= table["conflicts"]).all()
    assert (moved >= customers * 60 - 1e-6).all()


def test_without_conflicts_nothing_moves() -> None:
    table = kpis({"engagement": {"large_accounts": "rep_assists_dealer"}})
    moved = ["conflict_customers_to_reps", "conflict_revenue_to_reps", "conflict_margin_to_reps"]
    assert (table[["conflicts", *moved]] == 0).all().all()


def test_dissatisfied_exits_are_some_of_the_exits_and_rise_with_sensitivity() -> None:
    calm = kpis({"dealers": {"conflict_sensitivity": 0.0}}, seeds=3)
    touchy = kpis(
        {"dealers": {"conflict_sensitivity": 0.9, "exit": {"patience_weeks": 2}}}, seeds=3
    )
    assert (calm["dealers_exited_dissatisfied"] == 0).all()
    assert (touchy["dealers_exited_dissatisfied"] <= touchy["dealers_exited"]).all()
    assert touchy["dealers_exited_dissatisfied"].mean() > 0


@pytest.fixture(scope="module")
def three(tmp_path_factory) -> tuple[Path, object]:
    folder = tmp_path_factory.mktemp("three")
    files = []
    for name, changes in (
        ("par", {}),
        ("dir", {"strategy": "direct"}),
        ("assist", {"engagement": {"large_accounts": "rep_assists_dealer"}}),
    ):
        path = folder / f"{name}.yaml"
        path.write_text(yaml.safe_dump(deep_merge(SMALL, {"name": name, **REPS_WIN, **changes})))
        files.append(str(path))
    out = folder / "out"
    args = ["compare", *files, "-n", "2", "--weeks", "8", "--out", str(out), "--quiet", "--report"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return out, result


def test_compare_prints_the_settings_that_differ_before_the_kpi_table(three) -> None:
    _, result = three
    lines = result.stdout.splitlines()
    settings = lines.index("Settings that differ (dotted paths, as --set takes them):")
    table = next(i for i, line in enumerate(lines) if line.startswith("KPI "))
    assert settings < table
    between = "\n".join(lines[settings:table])
    assert "strategy" in between and "engagement.large_accounts" in between
    assert "rep_assists_dealer" in between


def test_compare_prints_a_cost_of_conflict_table_in_money(three) -> None:
    _, result = three
    lines = result.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("cost of conflict"))
    block = lines[start : start + 7]
    assert block[0].split()[-3:] == ["par", "dir", "assist"]
    assert any(
        line.startswith("price given away by undercutting") and " money " in line for line in block
    )
    assert any(line.startswith("sales that moved from dealers to reps") for line in block)


def test_the_report_puts_settings_and_cost_of_conflict_before_the_results(three) -> None:
    out, _ = three
    page = (out / "report.html").read_text(encoding="utf-8")
    order = [
        ">The answer",
        ">Settings that differ",
        ">What conflicts cost",
        ">Results per scenario",
    ]
    positions = [page.index(h) for h in order]
    assert positions == sorted(positions)
    assert "rep_assists_dealer" in page[positions[1] : positions[2]]


def test_with_three_scenarios_the_report_shows_every_pair(three) -> None:
    out, _ = three
    page = (out / "report.html").read_text(encoding="utf-8")
    section = page[page.index(">Each pair of scenarios") : page.index(">Charts")]
    assert "Against par" in section and "Against dir" in section
    assert "assist − dir" in section and "dir − par" in section and "assist − par" in section
    import pandas as pd

    pairs = pd.read_csv(out / "pairwise.csv")
    assert set(zip(pairs["scenario"], pairs["baseline"], strict=True)) == {
        ("dir", "par"),
        ("assist", "par"),
        ("assist", "dir"),
    }
    row = pairs[(pairs["scenario"] == "assist") & (pairs["baseline"] == "dir")]
    kpi = row.set_index("kpi").loc["revenue"]
    kp = pd.read_csv(out / "kpis.csv")
    by = kp.pivot(index="replicate", columns="scenario", values="revenue")
    assert kpi["mean_diff"] == pytest.approx(np.mean(by["assist"] - by["dir"]))


def test_exits_are_priced_at_zero_where_conflicts_cannot_drive_a_dealer_out() -> None:
    for changes in (
        {"dealers": {"conflict_sensitivity": 0.0, "exit": {"patience_weeks": 2}}},
        {"dealers": {"conflict_sensitivity": 0.9, "exit": {"enabled": False}}},
        {"engagement": {"large_accounts": "rep_assists_dealer"}},
    ):
        table = kpis(changes)
        assert (table["conflict_exit_margin_at_risk"] == 0).all(), changes


def test_touchier_dealers_put_more_company_margin_at_risk_by_leaving() -> None:
    def at_risk(sensitivity: float):
        changes = {"dealers": {"conflict_sensitivity": sensitivity, "exit": {"patience_weeks": 2}}}
        return kpis(changes, seeds=4)

    mild, touchy = at_risk(0.3), at_risk(0.6)
    assert (touchy["dealers_exited_dissatisfied"] > 0).all()
    # Each exit carries the company margin of a working dealer: money, not a count.
    per_exit = touchy["conflict_exit_margin_at_risk"] / touchy["dealers_exited_dissatisfied"]
    assert (per_exit > 100).all()
    assert (
        touchy["conflict_exit_margin_at_risk"].mean()
        > 1.5 * mild["conflict_exit_margin_at_risk"].mean()
    )
