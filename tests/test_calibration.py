"""Calibration: observed targets, parameter ranges, recovery of known values, the folder."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

import channelsim
from channelsim.cli import main
from channelsim.errors import InputError
from channelsim.experiments import calibration
from channelsim.experiments import study as studies
from channelsim.experiments.executors import InProcess, LocalProcesses
from channelsim.experiments.replicates import replicate_seeds

ROOT = Path(__file__).resolve().parents[1]
PARALLEL = ROOT / "scenarios" / "parallel.yaml"
SMALL = {
    "weeks": 26,
    "warmup_weeks": 0,  # the recovery tests are about the fit, not the start-up transient
    "market.segments.large_accounts.customers": 10,
    "market.segments.smes.customers": 60,
    "market.segments.individuals.customers": 120,
    "reps.headcount": 6,
    "dealers.per_region": 2,
}
TINY = {
    **SMALL,
    "weeks": 8,
    "market.segments.smes.customers": 20,
    "market.segments.individuals.customers": 40,
}
TRUTH = {"market.choice.scale": 8.0, "dealers.reach": 0.3}
RANGES = {"market.choice.scale": "1:30", "dealers.reach": "0.05:0.9"}
KPIS = ["market_share", "revenue_dealer", "revenue_direct", "avg_price_index"]


@pytest.fixture(scope="module")
def small() -> channelsim.Scenario:
    return channelsim.load_scenario(PARALLEL, SMALL)


@pytest.fixture(scope="module")
def tiny() -> channelsim.Scenario:
    """For tests of the machinery rather than of what is recovered."""
    return channelsim.load_scenario(PARALLEL, TINY)


@pytest.fixture(scope="module")
def observed(small: channelsim.Scenario) -> dict:
    """KPI means of 8 replicates at known values (seeds the calibration does not use) and
    their standard errors."""
    truth = channelsim.run(small.with_overrides(TRUTH), replicates=8, seed=999)
    s = truth.summary.set_index("kpi")
    se = s["std"] / np.sqrt(8)
    return {"targets": {k: {"value": float(s.loc[k, "mean"]), "se": float(se[k])} for k in KPIS}}


@pytest.fixture(scope="module")
def recovered(small: channelsim.Scenario, observed: dict, tmp_path_factory) -> tuple:
    out = tmp_path_factory.mktemp("cal") / "fit"
    result = channelsim.calibrate(
        small, observed, RANGES, trials=16, replicates=3, seed=3, profile_points=5, out=out
    )
    return result, out


def test_known_values_are_recovered_within_their_intervals(recovered: tuple) -> None:
    result, _ = recovered
    table = result.parameters.set_index("parameter")
    for path, value in TRUTH.items():
        row = table.loc[path]
        assert row["ci_low"] <= value <= row["ci_high"], (path, row.to_dict())
        assert row["identified"], path
        low, high = (float(x) for x in RANGES[path].split(":"))
        assert row["ci_high"] - row["ci_low"] < 0.8 * (high - low)  # narrower than the range


def test_the_fit_table_compares_every_target(recovered: tuple, observed: dict) -> None:
    fit = recovered[0].fit.set_index("kpi")
    assert list(fit.index) == KPIS
    for kpi, target in observed["targets"].items():
        assert fit.loc[kpi, "observed"] == target["value"]
        assert fit.loc[kpi, "ci_low"] <= fit.loc[kpi, "simulated"] <= fit.loc[kpi, "ci_high"]
    assert (fit["z"].abs() < 3).all()


def test_the_folder_holds_a_loadable_calibrated_scenario(recovered: tuple, small) -> None:
    result, out = recovered
    for name in ("parameters.csv", "fit.csv", "trials.parquet", "profiles.csv", "report.html"):
        assert (out / name).is_file(), name
    assert (out / "charts" / "fit_totals.png").is_file()
    assert (out / "charts" / "loss_profiles.png").is_file()
    assert not (out / "INCOMPLETE").exists()
    assert json.loads((out / "manifest.json").read_text())["status"] == "complete"
    # A Scenario object (no file) gives a calibrated.yaml that holds the whole scenario.
    fitted = channelsim.load_scenario(out / "calibrated.yaml")
    assert fitted.market.choice.scale == pytest.approx(result.estimate["market.choice.scale"])
    assert fitted.dealers.reach == pytest.approx(result.estimate["dealers.reach"])
    trials = pd.read_parquet(out / "trials.parquet")
    assert len(trials) == 16 and trials["loss"].notna().all()


def test_calibrated_yaml_extends_the_input_file_by_a_relative_path(tmp_path: Path) -> None:
    scenario = tmp_path / "in" / "s.yaml"
    scenario.parent.mkdir()
    scenario.write_text(yaml.safe_dump({"extends": str(PARALLEL), **_nested(TINY)}))
    target = {"targets": {"market_share": {"value": 0.6, "se": 0.05}}}
    out = tmp_path / "deep" / "out"
    result = channelsim.calibrate(
        scenario,
        target,
        {"dealers.reach": "0.1:0.6"},
        trials=4,
        replicates=2,
        batch=4,
        profile_points=3,
        out=out,
    )
    text = yaml.safe_load((out / "calibrated.yaml").read_text())
    assert text["extends"] == "../../in/s.yaml"
    assert text["dealers"] == {"reach": result.estimate["dealers.reach"]}
    fitted = channelsim.load_scenario(out / "calibrated.yaml")
    assert fitted.dealers.reach == result.estimate["dealers.reach"]
    assert fitted.weeks == 8


def test_a_parameter_the_targets_do_not_depend_on_is_not_identified(tiny) -> None:
    # Telesales is off in this scenario, so its team size cannot move any KPI.
    target = {"targets": {"market_share": {"value": 0.68, "se": 0.03}}}
    result = channelsim.calibrate(
        tiny,
        target,
        {"telesales.agents": "1:20"},
        trials=4,
        replicates=2,
        batch=4,
        profile_points=4,
    )
    row = result.parameters.iloc[0]
    assert not row["identified"]
    assert (row["ci_low"], row["ci_high"]) == (1, 20)


def test_resuming_gives_the_trials_of_an_uninterrupted_calibration(tiny, tmp_path) -> None:
    target = {"targets": {"market_share": {"value": 0.68, "se": 0.03}}}
    args = dict(replicates=2, batch=4, seed=5, profile_points=3)
    straight = channelsim.calibrate(
        tiny, target, {"dealers.reach": "0.05:0.9"}, trials=8, out=tmp_path / "a", **args
    )
    channelsim.calibrate(
        tiny, target, {"dealers.reach": "0.05:0.9"}, trials=4, out=tmp_path / "b", **args
    )
    resumed = channelsim.calibrate(
        tiny,
        target,
        {"dealers.reach": "0.05:0.9"},
        trials=8,
        out=tmp_path / "b",
        resume=True,
        **args,
    )
    pd.testing.assert_frame_equal(straight.trials, resumed.trials)
    assert straight.estimate == resumed.estimate


def test_common_random_numbers_whatever_the_executor(tiny) -> None:
    obs = calibration.observed_from({"targets": {"units": {"value": 1.0, "se": 1.0}}})
    params = [calibration.parse_param("dealers.reach=0.1:0.5", tiny)]
    seeds = replicate_seeds(1, 2)
    points = [[0.2], [0.4]]
    here = calibration.evaluate(tiny, params, points, seeds, obs.targets, InProcess())
    there = calibration.evaluate(tiny, params, points, seeds, obs.targets, LocalProcesses(2))
    for a, b in zip(here, there, strict=True):
        assert np.array_equal(a.mean, b.mean)
    assert here[0].mean[0] < here[1].mean[0]  # more dealer reach sells more units here


def test_series_targets_are_compared_period_by_period(small) -> None:
    warmed = small.with_overrides({"warmup_weeks": 13})  # weeks -13..-1 are not observed
    run = channelsim.run(warmed, replicates=1, seed=2)
    weekly = run.weekly
    assert weekly["week"].min() == -13
    q1 = float(weekly.loc[weekly["week"].between(0, 12), "revenue_dealer"].sum())
    q2 = float(weekly.loc[(weekly["week"] >= 13) & (weekly["week"] < 26), "revenue_dealer"].sum())
    obs = calibration.observed_from(
        {"series": {"revenue_dealer": {"period": "quarter", "values": [1.0, 2.0], "se": 1.0}}}
    )
    assert [t.label for t in obs.targets] == [
        "revenue_dealer[quarter 1]",
        "revenue_dealer[quarter 2]",
    ]
    from channelsim.experiments.replicates import RunSpec, run_spec

    output = run_spec(RunSpec(warmed, run.seeds[0]))
    assert calibration.moments(output, obs.targets).tolist() == [q1, q2]


@pytest.mark.parametrize(
    "content, message",
    [
        (
            {"targets": {"market_shar": {"value": 0.3, "se": 0.1}}},
            "unknown KPI; did you mean 'market_share'",
        ),
        ({"targets": {"market_share": {"value": 0.3, "se": 0}}}, "targets.market_share.se"),
        ({"targets": {"market_share": {"value": 0.3}}}, "targets.market_share.se"),
        (
            {"series": {"units": {"period": "month", "values": [1], "se": 1}}},
            "period must be one of",
        ),
        ({"series": {"units": {"values": [1, 2], "se": [1]}}}, "se has 1 entries for 2 values"),
        ({}, "no targets"),
    ],
)
def test_bad_observed_files_get_one_clear_line(tmp_path: Path, content: dict, message: str) -> None:
    path = tmp_path / "observed.yaml"
    path.write_text(yaml.safe_dump(content))
    with pytest.raises(InputError, match=message) as info:
        calibration.read_observed(path)
    assert str(info.value).startswith(str(path))


@pytest.mark.parametrize(
    "text, message",
    [
        ("dealers.reach", "expected PATH=LO:HI"),
        ("dealers.reach=0.5:0.1", "expected LO < HI"),
        ("dealers.reach=a:b", "two numbers"),
        ("dealers.raech=0.1:0.5", "did you mean dealers.reach"),
        ("strategy=0:1", "not a number that can be fitted"),
        ("dealers.reach=0.1:1.5", "dealers.reach"),
        ("market.choice.scale=log:0:5", "log range needs LO > 0"),
    ],
)
def test_bad_parameter_ranges_are_refused(small, text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        calibration.parse_param(text, small)


def test_the_command_exits_2_on_a_bad_observed_file(tmp_path: Path) -> None:
    path = tmp_path / "observed.yaml"
    path.write_text("targets:\n  revenue: {value: 1, se: -1}\n")
    result = CliRunner().invoke(
        main,
        [
            "calibrate",
            str(PARALLEL),
            "--observed",
            str(path),
            "--param",
            "dealers.reach=0.1:0.5",
            "--out",
            str(tmp_path / "out"),
        ],
    )
    assert result.exit_code == 2
    assert "targets.revenue.se" in result.output
    assert "Traceback" not in result.output


def test_an_unreachable_scheduler_is_one_line_and_leaves_no_folder(tmp_path: Path) -> None:
    path = tmp_path / "observed.yaml"
    path.write_text("targets:\n  revenue: {value: 1.0e6, se: 1.0e4}\n")
    args = ["calibrate", str(PARALLEL), "--observed", str(path), "--param", "dealers.reach=0.1:0.5"]
    result = CliRunner().invoke(
        main, [*args, "--scheduler", "tcp://127.0.0.1:1", "--out", str(tmp_path / "out")]
    )
    assert result.exit_code == 2
    assert "no Dask scheduler reachable" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def _nested(flat: dict) -> dict:
    out: dict = {}
    raw = channelsim.load_scenario(PARALLEL).model_dump(mode="json")
    for dotted, value in flat.items():
        parts = dotted.split(".")
        if parts[0] == "market":  # list items by name: replace the whole list
            segments = out.setdefault("market", {}).setdefault(
                "segments", raw["market"]["segments"]
            )
            next(s for s in segments if s["name"] == parts[2])[parts[3]] = value
            continue
        node = out
        for key in parts[:-1]:
            node = node.setdefault(key, {})
        node[parts[-1]] = value
    return out


def test_a_trial_left_running_by_a_killed_calibration_is_run_on_resume(tiny, tmp_path) -> None:
    import optuna

    target = {"targets": {"market_share": {"value": 0.68, "se": 0.03}}}
    args = dict(replicates=2, batch=4, seed=5, profile_points=3, out=tmp_path / "c")
    channelsim.calibrate(tiny, target, {"dealers.reach": "0.05:0.9"}, trials=4, **args)
    study = optuna.load_study(
        study_name=studies.STUDY_NAME, storage=f"sqlite:///{tmp_path / 'c' / 'study.db'}"
    )
    study.enqueue_trial({"dealers.reach": 0.123})
    study.ask({"dealers.reach": optuna.distributions.FloatDistribution(0.05, 0.9)})
    resumed = channelsim.calibrate(
        tiny, target, {"dealers.reach": "0.05:0.9"}, trials=8, resume=True, **args
    )
    trials = resumed.trials
    assert len(trials) == 8 and set(trials["state"]) == {"complete"}
    assert trials.loc[trials["trial"] == 4, "dealers.reach"].item() == 0.123


@pytest.mark.parametrize("study", ["older", "not a database"])
def test_a_study_file_that_cannot_be_continued_is_refused_before_the_folder_changes(
    tiny, tmp_path: Path, study: str
) -> None:
    import optuna

    from channelsim.experiments.study import StudyError
    from channelsim.storage.results import ResultsDir

    target = {"targets": {"market_share": {"value": 0.68, "se": 0.03}}}
    args = dict(replicates=2, batch=2, seed=5, profile_points=3, out=tmp_path / "c")
    channelsim.calibrate(tiny, target, {"dealers.reach": "0.05:0.9"}, trials=2, **args)
    db = tmp_path / "c" / "study.db"
    for leftover in tmp_path.glob("c/study.db*"):
        leftover.unlink()
    if study == "older":  # the study name calibrations had before they ran on study.py
        optuna.create_study(storage=f"sqlite:///{db}", study_name="calibration")
    else:
        db.write_bytes(b"\x00" * 4096)
    with pytest.raises(StudyError, match=f"{db}: .*another --out"):
        channelsim.calibrate(
            tiny, target, {"dealers.reach": "0.05:0.9"}, trials=4, resume=True, **args
        )
    assert ResultsDir(tmp_path / "c").is_complete
    if study == "older":
        assert optuna.get_all_study_names(f"sqlite:///{db}") == ["calibration"]


def test_the_command_writes_the_folder_and_prints_the_estimates(tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text(yaml.safe_dump({"extends": str(PARALLEL), **_nested(TINY)}))
    observed = tmp_path / "observed.yaml"
    observed.write_text("targets:\n  market_share: {value: 0.6, se: 0.05}\n")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main,
        ["calibrate", str(scenario), "--observed", str(observed), "--param",
         "dealers.reach=0.1:0.6", "--trials", "4", "--replicates", "2", "--batch", "4",
         "--profile-points", "3", "--out", str(out), "-q", "--workers", "auto"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "dealers.reach" in result.output and "market_share" in result.output
    assert (out / "calibrated.yaml").is_file() and not (out / "INCOMPLETE").exists()
    assert json.loads((out / "manifest.json").read_text())["executor"] == "in-process"  # auto
    again = CliRunner().invoke(
        main, ["calibrate", str(scenario), "--observed", str(observed), "--param",
               "dealers.reach=0.1:0.6", "--out", str(out)]
    )  # fmt: skip
    assert again.exit_code == 2 and "not empty" in again.output


def test_a_target_the_scenario_does_not_define_is_named(tiny) -> None:
    target = {"targets": {"loss_ratio": {"value": 0.6, "se": 0.1}}}  # insurance is off
    with pytest.raises(InputError, match=r"targets \['loss_ratio'\] are not defined"):
        channelsim.calibrate(
            tiny, target, {"dealers.reach": "0.1:0.5"}, trials=2, replicates=2, batch=2
        )


def test_weeks_asked_must_agree_with_the_period_the_observed_kpis_cover(tmp_path: Path) -> None:
    path = tmp_path / "observed.yaml"
    path.write_text("weeks: 52\ntargets:\n  revenue: {value: 1.0e6, se: 1.0e4}\n")
    args = ["calibrate", str(PARALLEL), "--observed", str(path), "--param", "dealers.reach=0.1:0.5"]
    for extra in (["--weeks", "26"], ["--set", "weeks=26"]):
        result = CliRunner().invoke(main, [*args, *extra, "--out", str(tmp_path / "out")])
        assert result.exit_code == 2, result.output
        assert "weeks: 52 is the period the observed KPIs cover" in result.output
        assert not (tmp_path / "out").exists()


def test_too_many_period_values_say_how_many_and_the_weeks_they_need(tiny) -> None:
    obs = calibration.observed_from(
        {"series": {"revenue": {"period": "quarter", "values": [1.0] * 4, "se": 1.0}}}, "o.yaml"
    )
    short = tiny.with_overrides({"weeks": 26})
    with pytest.raises(calibration.CalibrationError) as caught:
        calibration._check_periods(short, list(obs.targets), obs.source)
    assert str(caught.value) == (
        "o.yaml: series.revenue: 4 quarter values, but 26 weeks hold 2 whole quarters; "
        "set weeks: to at least 52"
    )
