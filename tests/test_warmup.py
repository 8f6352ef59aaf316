"""The warm-up: `warmup_weeks` (default one and a half purchase cycles) are simulated first
and left out of every KPI; the weekly series keeps them, numbered below zero."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from conftest import SMALL

from channelsim.cli import main
from channelsim.experiments import warmup
from channelsim.model.channel_model import ChannelModel
from channelsim.model.metrics import FLOWS
from channelsim.output import display
from channelsim.scenario.loading import deep_merge, validate


def scenario(**changes):
    return validate(deep_merge(SMALL, changes))


def test_the_default_warm_up_is_one_and_a_half_purchase_cycles() -> None:
    raw = {k: v for k, v in SMALL.items() if k != "warmup_weeks"}
    cycle = max(s["cycle_weeks"] for s in SMALL["market"]["segments"])
    assert validate(raw).warmup() == 39 == 1.5 * cycle
    assert scenario(warmup_weeks=5).warmup() == 5


def test_kpis_cover_only_the_weeks_after_the_warm_up() -> None:
    warm = ChannelModel(scenario(warmup_weeks=13, weeks=20), seed=4).run()
    long = ChannelModel(scenario(warmup_weeks=0, weeks=33), seed=4).run()
    weeks = warm.weekly["week"]
    assert weeks[0] == -13 and weeks[-1] == 19
    # The same randomness: the warm-up run's weeks are the long run's, shifted by 13.
    for name in FLOWS:
        np.testing.assert_array_equal(warm.weekly[name], long.weekly[name], err_msg=name)
    measured = weeks >= 0
    for name in ("revenue", "units", "conflicts", "rep_quits", "company_revenue"):
        assert warm.kpis[name] == pytest.approx(warm.weekly[name][measured].sum()), name
        assert warm.kpis[name] <= long.kpis[name], name
    assert warm.kpis["revenue"] < long.kpis["revenue"]  # the warm-up's sales are left out
    assert warm.kpis["reps_active"] == warm.weekly["reps_active"][-1]
    attrition = warm.kpis["rep_quits"] / (warm.weekly["reps_active"][measured].mean() * 20 / 52)
    assert warm.kpis["rep_attrition"] == pytest.approx(attrition)


def test_run_writes_warm_up_weeks_below_zero_and_leaves_them_out(tmp_path) -> None:
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump({**SMALL, "warmup_weeks": 4}))
    out = tmp_path / "out"
    args = ["run", str(path), "-n", "1", "--weeks", "6", "--out", str(out), "--quiet"]
    assert CliRunner().invoke(main, args).exit_code == 0
    weekly = pd.read_parquet(out / "timeseries.parquet")
    assert sorted(weekly["week"].unique()) == list(range(-4, 6))
    kpis = pd.read_csv(out / "kpis.csv")
    assert kpis["units"].iloc[0] == pytest.approx(weekly.loc[weekly["week"] >= 0, "units"].sum())


# --- losses in the warm-up are said, since the KPIs leave them out ------------------------

HARSH = {  # conflicts that drive the dealers out within weeks
    "weeks": 10,
    "warmup_weeks": 26,
    "pricing": {"rep_max_discount": 0.3},
    "dealers": {
        "conflict_sensitivity": 0.6,
        "exit": {"patience_weeks": 4, "dissatisfaction_threshold": 0.3},
    },
}


def weekly_of(exits: list[int], dissatisfied: list[int], dealers: int = 20) -> pd.DataFrame:
    """One replicate's weekly rows: a warm-up of len(exits) weeks, then two measured weeks."""
    weeks = range(-len(exits), 2)
    left = np.cumsum(exits + [0, 0])
    return pd.DataFrame(
        {
            "replicate": 0,
            "week": list(weeks),
            "dealers_exited": exits + [0, 0],
            "dealers_exited_dissatisfied": dissatisfied + [0, 0],
            "dealers_active": dealers - left,
        }
    )


@pytest.mark.parametrize(
    "exits, dissatisfied, said",
    [
        ([0, 0, 0], [0, 0, 0], False),
        ([0, 1, 0], [0, 1, 0], True),  # one dealer lost to conflicts
        ([0, 0, 0] * 10, [0] * 30, False),
        ([0, 1, 0], [0, 0, 0], True),  # 1 of 20 dealers: 5%
        ([1] + [0] * 29, [0] * 30, True),
    ],
)
def test_dealer_losses_in_the_warm_up_are_said_when_they_matter(
    exits: list[int], dissatisfied: list[int], said: bool
) -> None:
    notes = notes_of(weekly_of(exits, dissatisfied))
    assert bool(notes) == said
    if said:
        assert f"during the {len(exits)}-week warm-up" in notes[0]


def notes_of(weekly: pd.DataFrame) -> list[str]:
    return display.warmup_notes(warmup.warmup_losses(weekly))


def test_a_small_share_of_ordinary_exits_is_not_worth_a_note() -> None:
    assert notes_of(weekly_of([0, 1, 0], [0, 0, 0], dealers=100)) == []


def test_each_scenario_is_told_with_its_own_warm_up_and_numbers_read_plainly() -> None:
    long = weekly_of([1500] + [0] * 39, [1200] + [0] * 39, dealers=3000).assign(scenario="a")
    short = weekly_of([0, 2, 0], [0, 2, 0]).assign(scenario="b")
    notes = notes_of(pd.concat([long, short], ignore_index=True))
    assert notes[0].startswith("a: during the 40-week warm-up")
    assert "1,500 dealers left, 1,200 of them dissatisfied by conflicts" in notes[0]
    assert notes[1].startswith("b: during the 3-week warm-up")


def test_a_comparison_says_which_scenario_lost_its_dealers_in_the_warm_up(tmp_path) -> None:
    """The channel that conflicts destroy in the warm-up shows no exits in the KPIs; the
    command says where they went (over 3 replicates: the effect, not a seed's luck)."""
    harsh, calm = tmp_path / "harsh.yaml", tmp_path / "calm.yaml"
    harsh.write_text(yaml.safe_dump(deep_merge(SMALL, {**HARSH, "name": "harsh"})))
    calm.write_text(  # a longer warm-up: each note gives its scenario's own
        yaml.safe_dump(deep_merge(SMALL, {"weeks": 10, "warmup_weeks": 40, "name": "calm"}))
    )
    out = tmp_path / "out"
    args = ["compare", str(calm), str(harsh), "-n", "3", "-q", "--no-charts", "--report"]
    result = CliRunner().invoke(main, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    notes = [line for line in result.stdout.splitlines() if line.startswith("Note: ")]
    assert len(notes) == 1 and notes[0].startswith("Note: harsh: during the 26-week warm-up")
    assert "dissatisfied by conflicts" in notes[0]
    kpis = pd.read_csv(out / "kpis.csv").groupby("scenario")["dealers_exited"].sum()
    assert kpis["harsh"] == 0  # what the note is for: the KPIs show none of those exits
    assert "harsh: during the 26-week warm-up" in (out / "report.html").read_text()


def test_a_run_says_it_and_keeps_it_in_its_manifest(tmp_path) -> None:
    import json

    path = tmp_path / "harsh.yaml"
    path.write_text(yaml.safe_dump(deep_merge(SMALL, HARSH)))
    out = tmp_path / "out"
    args = ["run", str(path), "-n", "3", "-q", "--no-charts", "--out", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    (note,) = [line for line in result.stdout.splitlines() if line.startswith("Note: ")]
    assert note.startswith("Note: during the 26-week warm-up")
    assert json.loads((out / "manifest.json").read_text())["warmup_notes"] == [note[6:]]
