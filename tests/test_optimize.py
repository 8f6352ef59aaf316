"""`channelsim optimize`: levers, reproducibility, resume, constraints, best.yaml, the CLI.

The scenarios are the textbook markets of scenarios/validation (1,000 or 400 customers, 4
weeks: a run takes a few milliseconds), so a whole study takes seconds.
"""

from __future__ import annotations

import math
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from click.testing import CliRunner

import channelsim
from channelsim.cli import main
from channelsim.errors import ChannelsimError
from channelsim.experiments import optimize as optimizing
from channelsim.experiments import optimize_run, study
from channelsim.experiments.designs import Param
from channelsim.experiments.optimize import OptimizeError
from channelsim.output import optimize_results
from channelsim.storage.results import ResultsDir

VALIDATION = Path(__file__).resolve().parents[1] / "scenarios" / "validation"
LOGIT = {"weeks": 4, "market.segments.0.customers": 400}
PRICES = {"pricing.flattened_price": "0.3:0.8:11", "pricing.list_price": "0.3:0.8:11"}


@pytest.fixture
def logit() -> channelsim.Scenario:
    """Dealer and online channel with logit noise: a noisy two-lever problem."""
    return channelsim.load_scenario(VALIDATION / "logit.yaml", LOGIT)


@pytest.fixture
def integrated() -> channelsim.Scenario:
    """One seller, deterministic demand N (1 - p) per week: profit peaks at p = 0.6."""
    return channelsim.load_scenario(
        VALIDATION / "integrated.yaml", {"pricing.policy.list_price": "fixed"}
    )


# --- parsing -----------------------------------------------------------------------------


def test_objectives_and_constraints_are_parsed_or_refused_with_the_reason():
    assert optimizing.parse_objective("company_profit:max").direction == "maximize"
    assert optimizing.parse_objective("conflicts:min").direction == "minimize"
    c = optimizing.parse_constraint("market_share >= 0.2")
    assert (c.kpi, c.op, c.bound) == ("market_share", ">=", 0.2)
    assert c.violation(0.25, 0.2) < 0 < c.violation(0.15, 0.2)
    assert optimizing.parse_constraint("dealers_exited<=start").bound is None
    with pytest.raises(OptimizeError, match="did you mean company_profit"):
        optimizing.parse_objective("company_proft:max")
    with pytest.raises(OptimizeError, match="KPI:max or KPI:min"):
        optimizing.parse_objective("company_profit:up")
    with pytest.raises(OptimizeError, match="KPI>=X or KPI<=X"):
        optimizing.parse_constraint("market_share > 0.2")


def test_numeric_levels_are_ordered_and_words_are_categories():
    levels = study.Lever(Param("x", values=(0.3, 0.1, 0.2)))
    assert levels.levels == (0.1, 0.2, 0.3)
    assert levels.value(2) == 0.3
    assert levels.distribution().high == 2  # an index, so TPE sees the order
    words = study.Lever(Param("engagement.large_accounts", values=("open", "rep_only")))
    assert words.levels is None and words.at_edge("open") is None
    ranged = study.Lever(Param("p", low=0.0, high=1.0))
    assert (ranged.at_edge(0.015), ranged.at_edge(0.5), ranged.at_edge(0.99)) == (
        "low",
        None,
        "high",
    )
    logged = study.Lever(Param("p", low=1.0, high=100.0, scale="log"))
    assert logged.at_edge(1.05) == "low" and logged.at_edge(10.0) is None


def test_bad_levers_stop_before_any_run(integrated):
    with pytest.raises(ChannelsimError, match="reps.comission"):
        optimizing.build(integrated, {"reps.comission.rate": "0:0.1"}, ["company_profit:max"])
    with pytest.raises(OptimizeError, match="at least two values"):
        optimizing.build(integrated, {"pricing.list_price": "0.5,0.5"}, ["company_profit:max"])
    with pytest.raises(OptimizeError, match="--objective"):
        optimizing.build(integrated, {"pricing.list_price": "0.3:0.9"}, [])


# --- reproducibility and resume ------------------------------------------------------------


def test_same_trials_in_process_and_in_local_processes_for_the_same_batch(logit, tmp_path):
    runs = dict(trials=4, replicates=2, seed=5, confirm=2, batch=2)
    here = channelsim.optimize(  # in this process, study in SQLite
        logit, PRICES, "company_profit:max", workers=1, out=tmp_path / "o", **runs
    )
    there = channelsim.optimize(  # two worker processes, study in memory
        logit, PRICES, "company_profit:max", workers=2, **runs
    )
    pd.testing.assert_frame_equal(here.trials, there.trials, check_exact=True)
    pd.testing.assert_frame_equal(here.confirmation, there.confirmation, check_exact=True)
    assert here.trials["company_profit"].nunique() > 1  # the levers did move profit


def test_an_interrupted_study_resumes_to_the_trials_of_an_uninterrupted_one(logit, tmp_path):
    runs = dict(trials=7, replicates=1, seed=2, confirm=0, batch=3)
    whole = channelsim.optimize(logit, PRICES, "company_profit:max", out=tmp_path / "a", **runs)

    def stop_after_four(done: int, total: int, best: str) -> None:
        if done == 4:  # in the middle of the second batch: trials 4 and 5 are running
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        channelsim.optimize(
            logit, PRICES, "company_profit:max", out=tmp_path / "b", on_progress=stop_after_four,
            **runs,
        )  # fmt: skip
    assert not ResultsDir(tmp_path / "b").is_complete
    again = channelsim.optimize(
        logit, PRICES, "company_profit:max", out=tmp_path / "b", resume=True, **runs
    )
    pd.testing.assert_frame_equal(whole.trials, again.trials, check_exact=True)
    assert ResultsDir(tmp_path / "b").is_complete


def _complete_trials(database: Path) -> int:
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=1) as db:
            return db.execute("SELECT COUNT(*) FROM trials WHERE state = 'COMPLETE'").fetchone()[0]
    except sqlite3.Error:  # not created yet
        return 0


def test_a_killed_optimisation_resumes_losing_no_finished_trial(integrated, tmp_path):
    out = tmp_path / "killed"
    args = [
        "optimize", str(VALIDATION / "integrated.yaml"), "--set", "pricing.policy.list_price=fixed",
        "--param", "pricing.list_price=0.3:0.9:61", "--objective", "company_profit:max",
        "--trials", "16", "--replicates", "1", "--seed", "3", "--confirm", "0", "-q",
        "--out", str(out),
    ]  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "-c", "from channelsim.cli import main; main()", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while _complete_trials(out / "study.db") < 6 and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    assert process.wait() == -signal.SIGKILL
    saved = _complete_trials(out / "study.db")
    assert 6 <= saved < 16
    resumed = CliRunner().invoke(main, [*args, "--resume"])
    assert resumed.exit_code == 0, resumed.output
    whole = channelsim.optimize(
        integrated, {"pricing.list_price": "0.3:0.9:61"}, "company_profit:max",
        trials=16, replicates=1, seed=3, confirm=0,
    )  # fmt: skip
    again = pd.read_parquet(out / "trials.parquet")
    pd.testing.assert_frame_equal(whole.trials, again, check_exact=True)


def test_resume_refuses_another_definition_and_a_finished_study(logit, tmp_path):
    runs = dict(trials=3, replicates=1, seed=2, confirm=0, out=tmp_path / "s")
    channelsim.optimize(logit, PRICES, "company_profit:max", **runs)
    with pytest.raises(OptimizeError, match="holds an optimisation"):
        channelsim.optimize(logit, PRICES, "company_profit:max", **runs)
    with pytest.raises(OptimizeError, match=r"definition differs .*objectives"):
        channelsim.optimize(logit, PRICES, "revenue:max", resume=True, **runs)
    with pytest.raises(OptimizeError, match="finished"):
        channelsim.optimize(logit, PRICES, "company_profit:max", resume=True, **runs)
    more = channelsim.optimize(
        logit, PRICES, "company_profit:max", resume=True, **{**runs, "trials": 5}
    )
    assert list(more.trials["trial"]) == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("study", ["older", "not a database"])
def test_a_study_file_that_cannot_be_continued_is_refused_before_the_folder_changes(
    logit, tmp_path, study
):
    import optuna

    from channelsim.experiments.study import StudyError
    from channelsim.storage.results import ResultsDir

    runs = dict(replicates=1, seed=2, confirm=0, out=tmp_path / "s")
    channelsim.optimize(logit, PRICES, "company_profit:max", trials=2, **runs)
    db = tmp_path / "s" / "study.db"
    for leftover in tmp_path.glob("s/study.db*"):
        leftover.unlink()
    if study == "older":  # a study under another name, as an older channelsim wrote
        optuna.create_study(storage=f"sqlite:///{db}", study_name="calibration")
    else:
        db.write_bytes(b"not a database " * 100)
    with pytest.raises(StudyError, match=f"{db}: .*choose another --out"):
        channelsim.optimize(logit, PRICES, "company_profit:max", trials=4, resume=True, **runs)
    assert ResultsDir(tmp_path / "s").is_complete  # still the finished optimisation it was
    if study == "older":
        assert optuna.get_all_study_names(f"sqlite:///{db}") == ["calibration"]  # untouched
    else:
        assert db.read_bytes() == b"not a database " * 100


# --- what the search finds -------------------------------------------------------------------


def test_a_binding_constraint_keeps_the_best_on_its_side(integrated):
    # 4 weeks x 1,000 (1 - p) units >= 2,000 needs p <= 0.5, below the unconstrained 0.6.
    found = channelsim.optimize(
        integrated,
        {"pricing.list_price": "0.3:0.9:121"},
        "company_profit:max",
        constraints=["units>=2000"],
        trials=30,
        replicates=1,
        seed=1,
        confirm=0,
    )
    trials = found.trials
    assert (trials["feasible"] == (trials["units"] >= 2000)).all()
    assert (~trials["feasible"]).any()  # the sampler did try the other side
    best = found.best.iloc[0]
    assert 0.45 <= best["pricing.list_price"] <= 0.5
    feasible = trials[trials["feasible"]]
    assert best["company_profit"] == feasible["company_profit"].max()


def test_a_best_value_at_a_bound_is_flagged(integrated):
    found = channelsim.optimize(
        integrated,
        {"pricing.list_price": "0.3:0.5:101"},  # the optimum 0.6 lies beyond the range
        "company_profit:max",
        trials=20,
        replicates=1,
        seed=1,
        confirm=0,
    )
    assert found.best.iloc[0]["pricing.list_price"] >= 0.49
    assert any("pricing.list_price" in n and "widen it" in n for n in found.notes)


def test_confirmation_reports_intervals_and_paired_differences_to_the_start(logit):
    found = channelsim.optimize(
        logit, PRICES, "company_profit:max", trials=8, replicates=2, seed=3, confirm=4
    )
    table = found.confirmation.set_index(["candidate", "kpi"])
    start = table.loc[("start", "company_profit")]
    best = table.loc[(f"trial {found.best.iloc[0]['trial']}", "company_profit")]
    assert start["n"] == best["n"] == 4
    assert best["ci_low"] <= best["mean"] <= best["ci_high"]
    assert best["diff_to_start"] == pytest.approx(best["mean"] - start["mean"])
    assert best["search_mean"] == found.best.iloc[0]["company_profit"]


def test_the_winners_curse_is_named_and_told_apart_from_the_luck_of_the_seeds(integrated):
    definition = optimizing.build(
        integrated, {"pricing.list_price": "0.3:0.9"}, ["company_profit:max"], replicates=3
    )
    row = dict(kpi="company_profit", candidate="trial 7", trial=7, search_mean=110.0, n=12)
    start = dict(kpi="company_profit", candidate="start", trial=-1, n=12, ci_low=0, ci_high=0)
    short = {**row, "mean": 100.0, "ci_low": 95.0, "ci_high": 105.0}
    steady = {**start, "search_mean": 50.0, "mean": 50.0}
    [note] = optimize_run.winners_curse_notes(definition, pd.DataFrame([steady, short]))
    assert "winner's curse" in note and "outside the 95% interval" in note
    assert "about 10.0 of it is the selection of a lucky trial" in note
    unlucky = {**start, "search_mean": 50.0, "mean": 39.0}  # the start lost as much
    [note] = optimize_run.winners_curse_notes(definition, pd.DataFrame([unlucky, short]))
    assert "the luck of the search seeds" in note
    held = {**row, "mean": 111.0, "ci_low": 106.0, "ci_high": 116.0}
    assert optimize_run.winners_curse_notes(definition, pd.DataFrame([steady, held])) == []


# --- the folder and the command ----------------------------------------------------------------


def test_the_folder_holds_trials_best_yaml_charts_and_compare_runs_on_it_at_once(tmp_path):
    scenario = VALIDATION / "dual_channel.yaml"
    out = tmp_path / "opt"
    runner = CliRunner()
    result = runner.invoke(
        main,
        ["optimize", str(scenario), "--param", "pricing.flattened_price=0.3:0.8:11",
         "--param", "pricing.list_price=0.3:0.8:11", "--objective", "company_profit:max",
         "--trials", "8", "--replicates", "1", "--confirm", "2", "--out", str(out), "-q",
         "--report"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Best trial" in result.output and "Confirmed on 2 fresh seeds" in result.output
    assert ResultsDir(out).is_complete
    for name in ("trials.parquet", "best.yaml", "confirm.csv", "study.db", "report.html"):
        assert (out / name).is_file(), name
    assert {p.name for p in (out / "charts").iterdir()} >= {
        "history_company_profit.png",
        "company_profit_vs_levers.png",
        "importance.png",
    }
    trials = pd.read_parquet(out / "trials.parquet")
    best = trials.loc[trials["company_profit"].idxmax()]
    text = (out / "best.yaml").read_text()
    assert "extends: ../../" in text or "extends: ../" in text
    loaded = channelsim.load_scenario(out / "best.yaml")
    assert loaded.pricing.list_price == best["pricing.list_price"]
    assert loaded.pricing.flattened_price == best["pricing.flattened_price"]

    compared = runner.invoke(
        main,
        ["compare", str(scenario), str(out / "best.yaml"), "--replicates", "1",
         "--out", str(tmp_path / "cmp"), "-q"],
    )  # fmt: skip
    assert compared.exit_code == 0, compared.output
    summary = pd.read_csv(tmp_path / "cmp" / "summary.csv")
    profit = summary[(summary["kpi"] == "company_profit")].set_index("scenario")["mean"]
    # compare runs the scenario's seed, as the optimiser did: the same number comes back
    assert profit["dual_channel-best"] == pytest.approx(best["company_profit"], rel=1e-12)


def test_several_objectives_write_the_pareto_set(integrated, tmp_path):
    found = channelsim.optimize(
        integrated,
        {"pricing.list_price": "0.3:0.9:61"},
        ["company_profit:max", "units:max"],
        trials=12,
        replicates=1,
        seed=1,
        confirm=1,
        out=tmp_path / "mo",
    )
    pareto = pd.read_csv(tmp_path / "mo" / "pareto.csv")
    assert sorted(pareto["trial"]) == sorted(found.best["trial"])
    assert (tmp_path / "mo" / "charts" / "pareto_front.png").is_file()
    assert channelsim.load_scenario(tmp_path / "mo" / "best.yaml").name == "integrated-best"


def test_bad_input_is_one_line_and_exit_2(tmp_path):
    scenario = str(VALIDATION / "integrated.yaml")
    runner = CliRunner()
    for args, message in [
        (["--param", "pricing.list_price=0.3:0.9", "--objective", "profit:max"], "unknown KPI"),
        (["--param", "pricing.list_price=0.9:0.3", "--objective", "units:max"], "a < b"),
        (["--param", "pricing.list_price=0.3:0.9", "--objective", "units:max",
          "--constraint", "units=>3"], "KPI>=X"),
    ]:  # fmt: skip
        result = runner.invoke(main, ["optimize", scenario, *args, "--out", str(tmp_path / "x")])
        assert result.exit_code == 2, result.output
        assert message in result.output and "Traceback" not in result.output
        assert not (tmp_path / "x").exists()


def test_ctrl_c_stops_with_exit_130_and_says_how_to_resume(monkeypatch, tmp_path):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(optimize_results, "run", interrupted)
    result = CliRunner().invoke(
        main,
        ["optimize", str(VALIDATION / "integrated.yaml"), "--param", "pricing.list_price=0.3:0.9",
         "--objective", "units:max", "--out", str(tmp_path / "o")],
    )  # fmt: skip
    assert result.exit_code == 130
    assert "--resume" in result.output


def test_workers_auto_is_refused_with_its_reason_since_the_batch_follows_the_count(tmp_path):
    args = ["optimize", str(VALIDATION / "integrated.yaml"), "--param"]
    args += ["pricing.list_price=0.3:0.9", "--objective", "units:max", "--workers", "auto"]
    result = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "Invalid value for '--workers': 'auto' is not offered: the default batch of " in (
        result.output
    )
    assert " trials x " not in result.output  # said before anything is read or planned
    assert "Traceback" not in result.output and not (tmp_path / "o").exists()
    with pytest.raises(OptimizeError, match="give a number"):
        channelsim.optimize(
            VALIDATION / "integrated.yaml", {"pricing.list_price": "0.3:0.9"}, "units:max",
            workers="auto",
        )  # fmt: skip


def test_an_optimiser_file_names_its_scenario_relative_to_itself(tmp_path):
    spec = tmp_path / "opt.yaml"
    relative = os.path.relpath(VALIDATION / "integrated.yaml", tmp_path)
    spec.write_text(
        f"scenario: {relative}\n"
        "params: {pricing.list_price: '0.3:0.9:61'}\n"
        "objectives: company_profit:max\n"
        "constraints: ['units>=start']\n"
        "trials: 7\nreplicates: 1\nseed: 4\n"
        "set: {pricing.policy.list_price: fixed}\n"
    )
    definition = optimizing.define(spec)
    assert definition.scenario.name == "integrated"
    assert definition.trials == 7 and definition.confirm == 4
    assert definition.constraints[0].bound is None
    assert definition.scenario.pricing.policy.list_price == "fixed"
    spec.write_text(spec.read_text() + "trails: 3\n")
    with pytest.raises(OptimizeError, match="trails: unknown key"):
        optimizing.define(spec)


def test_the_bundled_optimiser_file_is_the_documented_example():
    definition = optimizing.define(VALIDATION.parent / "optimize" / "markup_and_price.yaml")
    assert [p.path for p in definition.params] == ["dealers.markup", "pricing.list_price"]
    assert [o.text for o in definition.objectives] == ["company_profit:max"]
    assert [c.text for c in definition.constraints] == ["market_share>=start"]
    assert (definition.trials, definition.replicates, definition.seed) == (40, 3, 1)
    assert definition.scenario.weeks == 52 and definition.confirm == 12


def test_a_start_bound_is_the_scenario_as_given(integrated):
    found = channelsim.optimize(
        channelsim.load_scenario(
            VALIDATION / "integrated.yaml",
            {"pricing.policy.list_price": "fixed", "pricing.list_price": 0.7},
        ),
        {"pricing.list_price": "0.3:0.9:61"},
        "company_profit:max",
        constraints=["units>=start"],  # at least the units sold at 0.7
        trials=15,
        replicates=1,
        seed=1,
        confirm=0,
    )
    assert found.start["units"] == pytest.approx(4 * 300, abs=4)
    assert (found.trials["feasible"] == (found.trials["units"] >= found.start["units"])).all()
    assert math.isclose(found.best.iloc[0]["pricing.list_price"], 0.6, abs_tol=0.03)


def test_a_best_at_a_bound_of_the_schema_is_not_told_to_widen(make_scenario):
    """A commission of 0 cannot go lower (the schema says >= 0); a capacity of 5 can."""
    definition = SimpleNamespace(scenario=make_scenario(), objectives=["company_profit:max"])
    space = [
        study.Lever(Param("reps.commission.rate", low=0.0, high=0.2)),
        study.Lever(Param("reps.capacity", low=5.0, high=20.0)),
    ]
    table = pd.DataFrame({"trial": [0], "reps.commission.rate": [0.0], "reps.capacity": [5.0]})
    notes = optimize_run.edge_notes(definition, space, table, [0])  # type: ignore[arg-type]
    assert len(notes) == 1 and notes[0].startswith("reps.capacity = 5 is at the edge")
