"""Sweeps: parsing specs and sweep files, checking every point first, the output tables."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from conftest import SMALL

from channelsim import api
from channelsim.cli import main
from channelsim.experiments import stats, sweep_run
from channelsim.experiments.sweep import (
    SweepError,
    define,
    parse_param,
    parse_spec,
    plan,
    run_seeds,
)
from channelsim.model.kpis import KPIS
from channelsim.scenario.loading import deep_merge
from channelsim.storage import results

# --- SPEC forms -------------------------------------------------------------------------


def test_evenly_spaced_values_keep_whole_numbers_whole():
    assert parse_spec("reps.headcount", "10:30:3").values == (10, 20, 30)
    assert parse_spec("reps.commission.rate", "0.02:0.1:5").values == (
        0.02, 0.04, 0.06, 0.08, 0.1,
    )  # fmt: skip
    assert parse_spec("reps.headcount", "10:15:3").values == (10.0, 12.5, 15.0)


def test_a_list_reads_numbers_and_words():
    assert parse_spec("engagement.large_accounts", "open,rep_only").values == ("open", "rep_only")
    assert parse_spec("reps.capacity", "10, 20.5").values == (10, 20.5)
    assert parse_spec("online.enabled", "true,false").values == (True, False)
    assert parse_spec("reps.capacity", [10, 20]).values == (10, 20)


def test_ranges_with_scales():
    rate = parse_spec("reps.commission.rate", "0.02:0.1")
    assert (rate.low, rate.high, rate.scale, rate.is_range) == (0.02, 0.1, "linear", True)
    assert parse_spec("reps.headcount", "int:5:40").scale == "int"
    assert parse_spec("dealers.markup", "log:0.05:0.5").scale == "log"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("0.1:0.02", "needs a < b"),
        ("log:0:1", "log:a:b needs a > 0"),
        ("int:1.5:4", "needs whole numbers"),
        ("1:2:x", "n in a:b:n must be a whole number"),
        ("1:2:0", "must be >= 1"),
        ("a:b", "'a' is not a number"),
        ("1,,2", "empty item"),
        ("1:2:3:4", "expected a:b:n"),
        ("log:3", "needs a range a:b"),
    ],
)
def test_bad_specs_are_explained(spec, message):
    with pytest.raises(SweepError, match=message):
        parse_spec("reps.capacity", spec)


def test_the_run_seed_cannot_be_swept():
    with pytest.raises(SweepError, match="seed: cannot be swept"):
        parse_spec("seed", "1,2")


def test_param_needs_path_and_spec():
    assert parse_param("reps.capacity=10:20:3") == ("reps.capacity", "10:20:3")
    with pytest.raises(SweepError, match="expected PATH=SPEC"):
        parse_param("reps.capacity")


# --- definitions and sweep files ---------------------------------------------------------


@pytest.fixture
def scenario_file(tmp_path, make_scenario) -> Path:
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(make_scenario(weeks=13).model_dump(mode="json")))
    return path


def test_a_sweep_file_names_its_scenario_relative_to_itself(tmp_path, scenario_file):
    folder = tmp_path / "sweeps"
    folder.mkdir()
    sweep_file = folder / "s.yaml"
    sweep_file.write_text(
        "scenario: ../small.yaml\n"
        "replicates: 2\nseed: 11\n"
        "set: {reps.capacity: 9}\n"
        "params:\n"
        "  reps.commission.rate: 0.02:0.1:3\n"
        "  engagement.large_accounts: [open, rep_only]\n"
    )
    definition = define(sweep_file)
    assert definition.scenario.reps.capacity == 9
    assert [p.path for p in definition.params] == [
        "reps.commission.rate",
        "engagement.large_accounts",
    ]
    assert (definition.replicates, definition.seed, definition.design) == (2, 11, "grid")
    assert plan(definition).runs == 3 * 2 * 2


def test_command_line_options_win_over_the_sweep_file(tmp_path, scenario_file):
    sweep_file = tmp_path / "s.yaml"
    sweep_file.write_text('scenario: small.yaml\nreplicates: 2\nparams: {reps.capacity: "10,20"}\n')
    definition = define(
        sweep_file, params=["reps.capacity=5,6,7"], replicates=4, overrides=["weeks=13"]
    )
    assert definition.params[0].values == (5, 6, 7)
    assert definition.replicates == 4
    assert definition.scenario.weeks == 13


def test_a_typo_in_a_sweep_file_is_named(tmp_path, scenario_file):
    sweep_file = tmp_path / "s.yaml"
    sweep_file.write_text('scenario: small.yaml\nreplicate: 2\nparams: {reps.capacity: "10,20"}\n')
    with pytest.raises(SweepError, match=r"s.yaml: replicate: unknown key"):
        define(sweep_file)


def test_a_lever_cannot_be_both_swept_and_fixed(scenario_file):
    with pytest.raises(SweepError, match="reps.capacity: both swept"):
        define(scenario_file, params=["reps.capacity=1,2"], overrides=["reps.capacity=3"])


def test_defaults_come_from_the_scenario(scenario_file, make_scenario):
    definition = define(scenario_file, params=["reps.capacity=10,20"])
    base = make_scenario()
    assert (definition.replicates, definition.seed) == (base.replicates, base.seed)


# --- checking every design point up front ----------------------------------------------------


def test_an_unknown_path_is_refused_before_any_point_is_made(scenario_file):
    with pytest.raises(SweepError, match=r"--param reps.comission.rate: unknown key.*commission"):
        define(scenario_file, params=["reps.comission.rate=0.1,0.2"])


def test_the_cli_refuses_an_unknown_path_before_it_says_what_it_will_run(scenario_file):
    result = CliRunner().invoke(main, ["sweep", str(scenario_file), "--param", "reps.x=1,2"])
    assert result.exit_code == 2 and result.stdout == ""
    assert "--param reps.x: unknown key 'x'" in result.stderr


def test_a_bad_value_names_the_design_point(scenario_file):
    definition = define(scenario_file, params=["reps.commission.rate=0.5,1.5"])
    with pytest.raises(SweepError, match=r"design point 1 \(reps.commission.rate=1.5\)"):
        plan(definition)


def test_a_cross_field_rule_is_checked_per_combination(scenario_file):
    definition = define(
        scenario_file, params=["pricing.list_price=60,120", "pricing.price_floor=0,80"]
    )
    with pytest.raises(SweepError, match="design point 1 .*price_floor"):
        plan(definition)


def test_cli_bad_param_exits_2_without_creating_the_folder(tmp_path, scenario_file):
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["sweep", str(scenario_file), "--param", "reps.capacity=-5,10", "--out", str(out)]
    )
    assert result.exit_code == 2
    assert "design point 0" in result.output and "reps.capacity" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


# --- seeds ---------------------------------------------------------------------------------


def test_run_seeds_come_from_seed_sequence_per_point_and_replicate():
    seeds = run_seeds(123, points=3, replicates=2)
    child = np.random.SeedSequence(123).spawn(3)[2].spawn(2)[1]
    assert seeds[2, 1] == int(child.generate_state(1, np.uint64)[0] >> np.uint64(1))
    assert len(set(seeds.ravel().tolist())) == 6
    assert (seeds >= 0).all()


# --- running ---------------------------------------------------------------------------------


GRID = ["reps.commission.rate=0.02:0.1:3", "engagement.large_accounts=open,rep_only"]


def small_plan(scenario_file, **options):
    return plan(define(scenario_file, params=options.pop("params", GRID), replicates=2, seed=5))


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """One finished 6-point x 2-replicate sweep, shared by the tests that only read it."""
    folder = tmp_path_factory.mktemp("finished")
    path = folder / "small.yaml"
    path.write_text(yaml.safe_dump(deep_merge(SMALL, {"weeks": 13})))
    the_plan = small_plan(path)
    out = folder / "out"
    result = api.run_sweep_plan(the_plan, out, command="channelsim sweep test")
    return the_plan, result, out, path


def test_runs_table_has_a_row_per_point_and_replicate_and_a_column_per_path(finished):
    the_plan, result, _, _ = finished
    runs = result.runs
    assert len(runs) == 6 * 2
    assert list(runs.columns[:7]) == [
        "point", "replicate", "seed", "reps.commission.rate", "engagement.large_accounts",
        "status", "error",
    ]  # fmt: skip
    assert list(runs.columns[7:]) == list(KPIS)
    assert (runs["status"] == "ok").all()
    assert runs["seed"].tolist() == the_plan.seeds.ravel().tolist()
    rule = runs.set_index(["point", "replicate"])["engagement.large_accounts"]
    assert rule[(1, 0)] == "rep_only" and rule[(4, 1)] == "open"


def test_folder_holds_manifest_points_runs_summary_and_charts(finished):
    _, _, out, _ = finished
    assert results.ResultsDir(out).is_complete
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["command"] == "channelsim sweep test"
    assert manifest["definition"]["params"]["engagement.large_accounts"] == {
        "values": ["open", "rep_only"]
    }
    assert len(manifest["seeds"]) == 6 and len(manifest["seeds"][0]) == 2
    assert {"numpy", "SALib", "dask"} <= set(manifest["versions"])
    points = pd.read_csv(out / "points.csv")
    assert list(points.columns) == ["point", "reps.commission.rate", "engagement.large_accounts"]
    assert len(points) == 6
    summary = pd.read_parquet(out / "summary.parquet")
    assert len(summary) == 6 * len(KPIS)
    assert {"point", "kpi", "mean", "ci_low", "ci_high", "n", "failed"} <= set(summary.columns)
    assert {p.name for p in (out / "charts").glob("*.png")} == {
        "kpis_vs_reps_commission_rate.png",
        "heatmap_reps_commission_rate_engagement_large_accounts.png",
    }


def test_a_sweep_without_charts_has_the_same_tables_and_no_charts_folder(finished, tmp_path):
    the_plan, result, _, path = finished
    out = tmp_path / "plain"
    plain = api.run_sweep_plan(small_plan(path), out, charts=False)
    assert not (out / "charts").exists()
    assert "charts/" not in json.loads((out / "manifest.json").read_text())["files"]
    pd.testing.assert_frame_equal(plain.runs, result.runs)
    pd.testing.assert_frame_equal(plain.summary, result.summary)


def test_summary_mean_is_the_mean_of_the_point_runs(finished):
    _, result, _, _ = finished
    runs, summary = result.runs, result.summary
    profit = summary[(summary["kpi"] == "company_profit") & (summary["point"] == 3)].iloc[0]
    point_runs = runs[runs["point"] == 3]["company_profit"]
    mean, sd, low, high, n = stats.mean_ci(point_runs.to_numpy())
    assert (profit["mean"], profit["std"]) == (pytest.approx(mean), pytest.approx(sd))
    assert (profit["ci_low"], profit["ci_high"]) == (pytest.approx(low), pytest.approx(high))
    assert profit["ci_low"] < profit["mean"] < profit["ci_high"]
    assert profit["n"] == n == 2


def test_a_finished_folder_is_not_overwritten(finished):
    the_plan, _, out, _ = finished
    with pytest.raises(SweepError, match="holds a finished sweep"):
        sweep_run.run_sweep(the_plan, out)


def test_same_definition_same_tables_whatever_the_chunking(tmp_path, finished):
    the_plan, first, _, path = finished
    again = sweep_run.run_sweep(small_plan(path), tmp_path / "again", chunk=5)
    pd.testing.assert_frame_equal(first.runs, again.runs, check_exact=True)
    pd.testing.assert_frame_equal(first.summary, again.summary, check_exact=True)


# --- failures ---------------------------------------------------------------------------------


@pytest.fixture
def point_two_fails(monkeypatch):
    """Make every run of design point 2 raise, as a model bug at one corner would."""
    real = sweep_run.run_spec

    def flaky(spec):
        if (
            spec.scenario.reps.commission.rate == 0.06
            and spec.scenario.engagement.large_accounts == "open"
        ):
            raise ZeroDivisionError("division by zero in a corner of the design")
        return real(spec)

    monkeypatch.setattr(sweep_run, "run_spec", flaky)


def test_a_failed_run_is_recorded_and_the_sweep_goes_on(tmp_path, scenario_file, point_two_fails):
    result = sweep_run.run_sweep(small_plan(scenario_file), tmp_path / "out")
    runs = result.runs
    failed = runs[runs["status"] == "failed"]
    assert failed["point"].tolist() == [2, 2]
    assert failed["error"].str.contains("ZeroDivisionError: division by zero").all()
    assert failed["seed"].tolist() == result.runs[runs["point"] == 2]["seed"].tolist()
    assert failed["company_profit"].isna().all()
    assert (runs[runs["point"] != 2]["status"] == "ok").all()
    summary = result.summary
    assert (summary[summary["point"] == 2]["failed"] == 2).all()
    assert (summary[summary["point"] == 2]["n"] == 0).all()
    assert results.ResultsDir(tmp_path / "out").is_complete
    assert json.loads((tmp_path / "out" / "manifest.json").read_text())["failed_runs"] == 2


def test_cli_reports_failed_runs(tmp_path, scenario_file, point_two_fails):
    result = CliRunner().invoke(
        main,
        ["sweep", str(scenario_file), "--param", "reps.commission.rate=0.02:0.1:3",
         "--param", "engagement.large_accounts=open,rep_only", "--replicates", "2",
         "--out", str(tmp_path / "out"), "--quiet"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "FAILED runs: 2" in result.output
    assert "point 2 replicate 0 seed" in result.output and "ZeroDivisionError" in result.output


def test_fail_fast_stops_at_the_first_failure_and_resume_finishes(
    tmp_path, scenario_file, point_two_fails
):
    out = tmp_path / "out"
    with pytest.raises(sweep_run.SweepStopped, match=r"point 2, replicate 0.*--fail-fast"):
        sweep_run.run_sweep(small_plan(scenario_file), out, fail_fast=True, chunk=1)
    assert not results.ResultsDir(out).is_complete
    saved = sweep_run.read_runs(out)
    assert saved["point"].max() == 2 and len(saved) == 5  # runs 0-4; stopped at run 4 (2, 0)
    result = sweep_run.run_sweep(small_plan(scenario_file), out, resume=True)
    assert result.done_before == 5 and result.ran == 7
    assert len(result.runs) == 12
    assert (result.runs["status"] == "failed").sum() == 2


def test_cli_fail_fast_exits_1_with_the_failed_run(tmp_path, scenario_file, point_two_fails):
    result = CliRunner().invoke(
        main,
        ["sweep", str(scenario_file), "--param", "reps.commission.rate=0.02:0.1:3",
         "--param", "engagement.large_accounts=open,rep_only", "--replicates", "2",
         "--out", str(tmp_path / "out"), "--quiet", "--fail-fast", "--chunk-size", "2"],
    )  # fmt: skip
    assert result.exit_code == 1
    assert "stopped: run (point 2, replicate 0" in result.output
    assert "--resume" in result.output


# --- the command line ---------------------------------------------------------------------


def test_cli_sweep_shows_progress_and_the_best_points(tmp_path, scenario_file):
    result = CliRunner().invoke(
        main,
        ["sweep", str(scenario_file), "--param", "reps.capacity=8,16", "--replicates", "2",
         "--out", str(tmp_path / "out")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "grid design, 2 points x 2 replicates = 4 runs" in result.output
    assert "4/4" in result.output and "run/s" in result.output
    assert "Design points by mean company_profit" in result.output
    assert f"Results in {tmp_path / 'out'}" in result.output


def test_cli_refuses_workers_with_a_scheduler(scenario_file):
    result = CliRunner().invoke(
        main,
        ["sweep", str(scenario_file), "--param", "reps.capacity=8,16", "--workers", "2",
         "--scheduler", "tcp://127.0.0.1:1"],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "either --workers" in result.output


def test_cli_unreachable_scheduler_is_a_clear_error(tmp_path, scenario_file):
    result = CliRunner().invoke(
        main,
        ["sweep", str(scenario_file), "--param", "reps.capacity=8,16",
         "--scheduler", "tcp://127.0.0.1:1", "--out", str(tmp_path / "out")],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "no Dask scheduler reachable" in result.output
    assert not (tmp_path / "out").exists()


def test_bundled_example_sweep_file_is_valid():
    root = Path(__file__).resolve().parents[1]
    files = sorted((root / "scenarios" / "sweeps").glob("*.yaml"))
    assert files
    for path in files:
        assert plan(define(path)).runs > 0


def test_chart_set_follows_the_design():
    from channelsim.output import sweep_charts

    runs = pd.DataFrame(
        {
            "point": [0, 1, 2, 3],
            "reps.capacity": [10.0, 12.5, 15.0, 20.0],
            "engagement.large_accounts": ["open", "rep_only", "open", "rep_only"],
            "status": ["ok"] * 4,
            **{kpi: [1.0, 2.0, 3.0, 5.0] for kpi in sweep_charts.HEADLINE},
        }
    )
    params = ["reps.capacity", "engagement.large_accounts"]
    lhs = sweep_charts.sweep_figures(runs, params, "lhs")
    assert list(lhs) == ["scatter_matrix_company_profit"]
    assert len(lhs["scatter_matrix_company_profit"].axes) == 2 * 2 + 1  # and the colour bar
    grid = sweep_charts.sweep_figures(runs, params, "grid")
    assert list(grid) == [
        "kpis_vs_reps_capacity",
        "heatmap_reps_capacity_engagement_large_accounts",
    ]
