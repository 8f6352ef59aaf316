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
from channelsim.model.channel_model import ChannelModel
from channelsim.model.metrics import FLOWS
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
