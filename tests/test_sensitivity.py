"""Sensitivity indices: SALib's numbers on the replicate means, and known answers on the model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from SALib.analyze import morris as salib_morris
from SALib.analyze import sobol as salib_sobol

from channelsim import api
from channelsim.cli import main
from channelsim.experiments import sensitivity
from channelsim.experiments.designs import Param, make_design
from channelsim.experiments.sweep import SweepError, define, plan

X1 = Param("x1", low=0.0, high=1.0)
X2 = Param("x2", low=0.0, high=1.0)


def synthetic_runs(design, replicates=2, noise=0.0) -> pd.DataFrame:
    """Runs of y = 4 x1 + x2^2 (+ noise) at every design point, in the sweep's runs layout."""
    points = design.points()
    rng = np.random.default_rng(0)
    rows = []
    for point, row in points.iterrows():
        for replicate in range(replicates):
            y = 4 * row["x1"] + row["x2"] ** 2 + noise * rng.standard_normal()
            rows.append({"point": point, "replicate": replicate, "status": "ok", "y": y})
    return pd.DataFrame(rows)


def test_sobol_indices_are_salib_on_the_replicate_means():
    design = make_design([X1, X2], "sobol", 64, seed=1)
    runs = synthetic_runs(design, noise=0.3)
    table = sensitivity.analyse(runs, design.describe(), ["y"], seed=1)
    means = runs.groupby("point")["y"].mean().to_numpy()
    expected = salib_sobol.analyze(
        design.problem, means, calc_second_order=False, num_resamples=200, seed=1
    )
    np.testing.assert_allclose(table["S1"], expected["S1"])
    np.testing.assert_allclose(table["ST_conf"], expected["ST_conf"])
    assert list(table["parameter"]) == ["x1", "x2"]
    x1, x2 = table.set_index("parameter")["ST"]
    assert x1 > 0.8 > 0.2 > x2  # 4 x1 dominates x2^2


def test_morris_indices_are_salib_on_the_replicate_means():
    design = make_design([X1, X2], "morris", 20, seed=2)
    runs = synthetic_runs(design)
    table = sensitivity.analyse(runs, design.describe(), ["y"], seed=2)
    means = runs.groupby("point")["y"].mean().to_numpy()
    expected = salib_morris.analyze(
        design.problem, design.matrix, means, num_resamples=200, num_levels=4, seed=2
    )
    np.testing.assert_allclose(table["mu_star"], expected["mu_star"])
    np.testing.assert_allclose(table["sigma"], expected["sigma"])
    assert table.set_index("parameter")["mu_star"]["x1"] == pytest.approx(4.0)


def test_a_constant_kpi_gets_no_index_rather_than_nonsense():
    design = make_design([X1, X2], "sobol", 8, seed=1)
    runs = synthetic_runs(design).assign(flat=1.0)
    table = sensitivity.analyse(runs, design.describe(), ["flat"], seed=1)
    assert table[["S1", "ST"]].isna().all().all()


def test_a_point_without_any_result_is_refused():
    design = make_design([X1, X2], "sobol", 8, seed=1)
    runs = synthetic_runs(design)
    runs.loc[runs["point"] == 3, "status"] = "failed"
    with pytest.raises(SweepError, match=r"point\(s\) 3 have only failed runs"):
        sensitivity.analyse(runs, design.describe(), ["y"], seed=1)


def test_a_grid_has_no_sensitivity_indices():
    design = make_design([Param("x1", values=(0, 1)), Param("x2", values=(0, 1))], "grid", None, 0)
    with pytest.raises(SweepError, match="need a sobol or morris design"):
        sensitivity.analyse(synthetic_runs(design), design.describe(), ["y"], seed=1)


# --- the model: a lever it ignores against one that matters ------------------------------


@pytest.fixture
def scenario_file(tmp_path, make_scenario) -> Path:
    """Telesales and online are off, so their levers cannot change any KPI."""
    path = tmp_path / "small.yaml"
    scenario = make_scenario(weeks=13, telesales={"enabled": False}, online={"enabled": False})
    path.write_text(yaml.safe_dump(scenario.model_dump(mode="json")))
    return path


LEVERS = ["pricing.list_price=70:130", "telesales.agents=int:1:20", "online.discount=0:0.3"]


def test_sobol_sweep_finds_the_price_and_not_the_ignored_levers(tmp_path, scenario_file):
    definition = define(
        scenario_file, LEVERS, "sobol", samples=8, replicates=1, seed=4, common_seeds=True
    )
    result = api.run_sweep_plan(plan(definition), tmp_path / "out")
    table = pd.read_csv(tmp_path / "out" / "sensitivity.csv")
    assert (tmp_path / "out" / "charts" / "sensitivity.png").is_file()
    for kpi in ("revenue", "company_profit", "market_share"):
        rows = table[table["kpi"] == kpi].set_index("parameter")
        assert rows.loc["pricing.list_price", "ST"] > 0.5
        for ignored in ("telesales.agents", "online.discount"):
            assert rows.loc[ignored, "ST"] == pytest.approx(0, abs=1e-9)
            assert rows.loc[ignored, "S1"] == pytest.approx(0, abs=1e-9)
    assert result.sensitivity is not None


def test_morris_sweep_and_the_sensitivity_command(tmp_path, scenario_file):
    out = tmp_path / "out"
    params = [arg for lever in LEVERS for arg in ("--param", lever)]
    sweep = CliRunner().invoke(
        main,
        ["sweep", str(scenario_file), *params, "--design", "morris", "--samples", "4",
         "--replicates", "1", "--common-seeds", "--out", str(out), "--quiet"],
    )  # fmt: skip
    assert sweep.exit_code == 0, sweep.output
    (out / "sensitivity.csv").unlink()
    again = CliRunner().invoke(main, ["sensitivity", str(out)])
    assert again.exit_code == 0, again.output
    assert "company_profit (mu_star): pricing.list_price" in again.output
    table = pd.read_csv(out / "sensitivity.csv").set_index(["kpi", "parameter"])
    price = table.loc[("revenue", "pricing.list_price"), "mu_star"]
    assert price > 0
    assert table.loc[("revenue", "telesales.agents"), "mu_star"] == pytest.approx(0, abs=1e-9)
    assert table.loc[("revenue", "online.discount"), "mu_star"] == pytest.approx(0, abs=1e-9)


def test_sensitivity_command_explains_a_folder_it_cannot_use(tmp_path):
    result = CliRunner().invoke(main, ["sensitivity", str(tmp_path)])
    assert result.exit_code == 2
    assert "no manifest.json" in result.output
