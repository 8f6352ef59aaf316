"""`explore`: a known answer by construction, the runs stored as a sweep's, the command."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from conftest import SMALL

import channelsim
from channelsim.cli import main
from channelsim.experiments import explore, sweep_run
from channelsim.experiments.designs import Param, lhs
from channelsim.experiments.replicates import RunSpec, run_spec
from channelsim.model.metrics import KPIS
from channelsim.scenario.loading import deep_merge, scenario_with, validate

FLIP = 1.2  # "bold" beats "steady" below this price sensitivity, loses above it


def constructed_runs(samples: int = 200, replicates: int = 2) -> pd.DataFrame:
    """Two strategies whose winner flips at sensitivity = FLIP, plus an input that does
    nothing. Replicate noise is common to both at a point, as common random numbers make it."""
    design = lhs([Param("sensitivity", low=0.0, high=2.0), Param("irrelevant", low=0, high=1)],
                 samples, seed=4)  # fmt: skip
    points = design.points()
    noise = np.random.default_rng(9).normal(0, 5, (samples, replicates))
    rows = []
    for i, (s, irrelevant) in enumerate(points.itertuples(index=False)):
        for r in range(replicates):
            profit = {"steady": 100.0, "bold": 100.0 + 50.0 * (FLIP - s)}
            for name, value in profit.items():
                rows.append({"sample": i, "scenario": name, "replicate": r, "status": "ok",
                             "sensitivity": s, "irrelevant": irrelevant,
                             "company_profit": value + noise[i, r]})  # fmt: skip
    return pd.DataFrame(rows)


def test_a_known_answer_the_decision_the_threshold_and_an_irrelevant_input():
    runs = constructed_runs()
    chosen = explore.options(["steady", "bold"], ["company_profit"], "mean")
    a = explore.analyse(runs, ["sensitivity", "irrelevant"], ["steady", "bold"], chosen)
    # bold's mean over sensitivity ~ U(0, 2) is 100 + 50 x (1.2 - 1) = 110 > 100
    assert a.decision.scenario == "bold"
    assert a.condition == "bold is not the best on company_profit"
    holds = a.holds.to_numpy()
    sensitivity = runs.drop_duplicates("sample")["sensitivity"].to_numpy()
    assert (holds == (sensitivity > FLIP)).all()
    box = a.boxes.set_index("input")
    assert list(box.index) == ["sensitivity"]  # no limit on the irrelevant input
    spacing = 2.0 / 200  # one LHS stratum
    assert abs(box.loc["sensitivity", "low"] - FLIP) <= 5 * spacing  # one peel: 5% of ~80
    assert box.loc["sensitivity", "high"] == pytest.approx(sensitivity.max())
    assert box.loc["sensitivity", "p_low"] < 1e-10
    importance = a.importance.set_index("input")["importance"]
    assert importance["sensitivity"] == 1.0 and importance["irrelevant"] < 0.2
    robust = a.robustness.set_index("scenario")
    assert robust.loc["bold", "p_best"] == pytest.approx((sensitivity < FLIP).mean())
    # regret of steady where bold wins: 50 x (1.2 - s), worst at the smallest s
    assert robust.loc["steady", "regret_max"] == pytest.approx(50 * (FLIP - sensitivity.min()))


def test_a_named_condition_is_explained_the_same_way():
    runs = constructed_runs()
    chosen = explore.options(["steady", "bold"], ["company_profit"], "minimax_regret",
                             "company_profit[bold] < company_profit[steady]")  # fmt: skip
    a = explore.analyse(runs, ["sensitivity", "irrelevant"], ["steady", "bold"], chosen)
    assert a.condition == "company_profit[bold] < company_profit[steady]"
    assert list(a.boxes["input"]) == ["sensitivity"]


def test_sobol_samples_are_a_scrambled_net_of_a_power_of_two_points():
    params = [Param("a", low=0.0, high=1.0), Param("b", low=10.0, high=20.0)]
    points = explore.sample_design(params, "sobol", 8, seed=1).points()
    assert len(points) == 8 and points["b"].between(10, 20).all()
    # a (0, 3, 2)-net: each eighth of each input's range holds exactly one point
    assert sorted((points["a"] * 8).astype(int)) == list(range(8))
    assert sorted(((points["b"] - 10) / 10 * 8).astype(int)) == list(range(8))
    with pytest.raises(explore.ExploreError, match="power of 2"):
        explore.sample_design(params, "sobol", 6, seed=1)


# --- through the model ---------------------------------------------------------------------

# Two strategies that differ only in costs that change nothing else: "lean" pays its 6 reps
# 100 a week less and runs 2 telesales agents who make no calls, "lavish" pays more and
# runs 1 agent. Reps never quit (base_rate 0), so with the same seeds every sale is the
# same and company profit differs by exactly weeks x (6 x 100 - agent cost): lean wins
# while an agent costs less than 600 a week. The dealer markup changes both alike.
COSTS = {"weeks": 4, "reps": {"attrition": {"base_rate": 0.0}},
         "telesales": {"enabled": True, "calls_per_agent": 0}}  # fmt: skip
FLIP_COST = 600.0


def cost_scenarios():
    lean = {"name": "lean", "reps": {"base_salary": 500}, "telesales": {"agents": 2}}
    lavish = {"name": "lavish", "reps": {"base_salary": 600}, "telesales": {"agents": 1}}
    return [
        validate(deep_merge(SMALL, deep_merge(COSTS, s)), source="test") for s in (lean, lavish)
    ]


def test_a_known_answer_through_the_model():
    found = channelsim.explore(
        cost_scenarios(),
        {"telesales.cost_per_agent_week": "0:1500", "dealers.markup": "0.1:0.4"},
        samples=64, replicates=1, seed=2, decide="mean",
    )  # fmt: skip
    profit = found.outcomes[found.outcomes["kpi"] == "company_profit"]
    wide = profit.pivot(index="sample", columns="scenario", values="mean")
    cost = profit.drop_duplicates("sample").set_index("sample")["telesales.cost_per_agent_week"]
    assert np.allclose(wide["lean"] - wide["lavish"], 4 * (FLIP_COST - cost))  # same sales (CRN)
    # lean's mean is 4 x (600 - mean cost ~ 750) lower: the mean rule picks lavish
    assert found.recommended == "lavish"
    assert found.condition == "lavish is not the best on company_profit"  # cost < 600
    box = found.boxes.set_index("input")
    assert list(box.index) == ["telesales.cost_per_agent_week"]  # the markup gets no limit
    high = box.loc["telesales.cost_per_agent_week", "high"]
    between = cost[(cost > min(high, FLIP_COST)) & (cost < max(high, FLIP_COST))]
    assert len(between) <= 2  # within PRIM's resolution: one peel is 5% of the box
    assert found.where[0].startswith("Box 1: lavish is not the best on company_profit when ")
    importance = found.importance.set_index("input")
    assert importance.loc["telesales.cost_per_agent_week", "importance"] == 1.0
    assert importance.loc["dealers.markup", "importance"] < 0.3
    assert importance.loc["dealers.markup", "p_value"] > 0.05


@pytest.fixture(scope="module")
def scenario_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("scenarios")
    paths = []
    for strategy in ("direct", "parallel"):
        raw = deep_merge(SMALL, {"name": strategy, "strategy": strategy, "weeks": 4})
        path = folder / f"{strategy}.yaml"
        path.write_text(yaml.safe_dump(raw), encoding="utf-8")
        paths.append(path)
    return paths


def invoke(*args: object):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def explored(scenario_files, tmp_path_factory) -> tuple[Path, object]:
    out = tmp_path_factory.mktemp("explore") / "out"
    result = invoke("explore", *scenario_files, "--uncertain", "dealers.reach=0.1:0.6",
                    "--samples", 4, "--replicates", 2, "--seed", 3, "--out", out, "--report",
                    "-q")  # fmt: skip
    assert result.exit_code == 0, result.output
    return out, result


def test_every_scenario_runs_at_every_point_with_the_same_seeds(explored) -> None:
    out, _ = explored
    runs = pd.concat(pd.read_parquet(p) for p in sorted((out / "runs").glob("*.parquet")))
    assert len(runs) == 2 * 4 * 2 and set(runs["scenario"]) == {"direct", "parallel"}
    seeds = runs.pivot_table(index=["sample", "replicate"], columns="scenario", values="seed")
    assert (seeds["direct"] == seeds["parallel"]).all()  # common random numbers
    assert seeds["direct"].nunique() == 8  # but every sample has its own
    row = runs[(runs["scenario"] == "parallel")].iloc[0]
    base = validate(deep_merge(SMALL, {"name": "parallel", "strategy": "parallel", "weeks": 4}),
                    source="test")  # fmt: skip
    alone = run_spec(RunSpec(scenario_with(base, {"dealers.reach": row["dealers.reach"]}),
                             int(row["seed"])))  # fmt: skip
    assert alone.kpis["company_profit"] == row["company_profit"]  # the same run as `run` makes


def test_the_folder_holds_the_tables_charts_and_report(explored) -> None:
    out, result = explored
    robust = pd.read_csv(out / "robustness.csv")
    for column in ("scenario", "kpi", "mean", "p05", "p50", "p95", "p_best", "regret_mean",
                   "regret_max", "p_beats_direct", "p_beats_parallel"):  # fmt: skip
        assert column in robust.columns
    boxes = pd.read_csv(out / "boxes.csv")
    assert set(boxes.columns) >= {"box", "input", "low", "high", "coverage", "density", "p_low"}
    charts = {p.stem for p in (out / "charts").glob("*.png")}
    assert charts == {"kpi_distribution", "regret", "win_probability", "prim_tradeoff",
                      "prim_box", "decision_map"}  # fmt: skip
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and not (out / "INCOMPLETE").exists()
    chosen = manifest["decision"]["scenario"]
    assert f"Recommended: {chosen}" in result.output
    html = (out / "report.html").read_text()
    assert f"Recommended: {chosen}" in html and "<script" not in html


def test_resuming_a_finished_exploration_only_analyses_it_again(explored, scenario_files) -> None:
    out, _ = explored
    before = pd.read_csv(out / "outcomes.csv")
    result = invoke("explore", *scenario_files, "--uncertain", "dealers.reach=0.1:0.6",
                    "--samples", 4, "--replicates", 2, "--seed", 3, "--out", out, "--resume",
                    "--decide", "percentile:10", "-q")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "resumed: 16 runs were already saved; ran 0" in result.output
    assert "percentile:10" in result.output
    pd.testing.assert_frame_equal(pd.read_csv(out / "outcomes.csv"), before)


def test_an_explore_file_and_the_python_api_give_the_same_outcomes(
    explored, scenario_files, tmp_path
) -> None:
    out, _ = explored
    spec = tmp_path / "explore.yaml"
    spec.write_text(yaml.safe_dump({
        "scenarios": [str(p) for p in scenario_files],
        "uncertain": {"dealers.reach": "0.1:0.6"},
        "samples": 4, "replicates": 2, "seed": 3,
    }), encoding="utf-8")  # fmt: skip
    result = invoke("explore", spec, "--out", tmp_path / "file", "-q")
    assert result.exit_code == 0, result.output
    expected = pd.read_csv(out / "outcomes.csv")
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "file" / "outcomes.csv"), expected)
    scenarios = [channelsim.load_scenario(p) for p in scenario_files]
    # on two local processes, bit for bit the runs of the in-process command
    api = channelsim.explore(
        scenarios, {"dealers.reach": "0.1:0.6"}, samples=4, replicates=2, seed=3, workers=2
    )
    assert (
        api.recommended == json.loads((out / "manifest.json").read_text())["decision"]["scenario"]
    )
    saved = sweep_run.read_runs(out)
    assert api.runs[list(KPIS)].equals(saved[list(KPIS)])


def test_resuming_with_another_definition_is_refused(explored, scenario_files) -> None:
    out, _ = explored
    other = "dealers.reach=0.1:0.7"
    result = invoke("explore", *scenario_files, "--uncertain", other, "--samples", 4,
                    "--replicates", 2, "--seed", 3, "--out", out, "--resume")  # fmt: skip
    assert result.exit_code == 2 and "cannot resume" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--uncertain", "dealers.reach"], "expected PATH=LO:HI"),
        (["--uncertain", "dealers.reach=0.1,0.3"], "expected a range LO:HI"),
        (["--uncertain", "dealers.reach=0.1:0.6", "--find", "company_profit[x] < 1"],
         "no scenario 'x'"),
        (["--uncertain", "dealers.reach=0.1:0.6", "--kpi", "profit"], "no KPI 'profit'"),
        (["--uncertain", "dealers.reach=0.1:0.6", "--decide", "best"], "--decide"),
        (["--uncertain", "dealers.reach=0.1:5"], "sample"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_and_exit_2(scenario_files, tmp_path, args, message) -> None:
    result = invoke("explore", *scenario_files, *args, "--samples", 4, "--out", tmp_path / "o")
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert not (tmp_path / "o").exists()


def test_a_plain_sweep_is_unchanged_by_per_point_scenarios(tmp_path) -> None:
    base = validate(deep_merge(SMALL, {"weeks": 4}), source="test")
    out = tmp_path / "sweep"
    done = channelsim.sweep(base, {"dealers.markup": "0.1:0.3:2"}, replicates=1, seed=5, out=out)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "sweep"
    assert (
        manifest["seed_derivation"]
        == "SeedSequence(seed, spawn_key=(point, replicate)), top 63 bits"
    )
    for _, row in done.runs.iterrows():
        settings = {"dealers.markup": row["dealers.markup"]}
        alone = run_spec(RunSpec(scenario_with(base, settings), int(row["seed"])))
        assert alone.kpis["company_profit"] == row["company_profit"]


def test_a_kpi_undefined_somewhere_stops_before_completing_and_resume_fixes_it(
    scenario_files, tmp_path
) -> None:
    args = [*scenario_files, "--uncertain", "dealers.reach=0.1:0.6", "--samples", 2,
            "--replicates", 1, "--out", tmp_path / "o", "-q"]  # fmt: skip
    result = invoke("explore", *args, "--kpi", "loss_ratio")  # insurance only: NaN here
    assert result.exit_code == 2 and "--kpi loss_ratio: undefined" in result.output
    assert (tmp_path / "o" / "INCOMPLETE").exists()  # the runs are kept, the folder says so
    result = invoke("explore", *args, "--resume")
    assert result.exit_code == 0 and "ran 0" in result.output
    assert not (tmp_path / "o" / "INCOMPLETE").exists()


def test_the_report_escapes_what_users_wrote(tmp_path) -> None:
    from channelsim.output.explore_report import build_report

    runs = constructed_runs(samples=40, replicates=1)
    runs["scenario"] = runs["scenario"].replace({"bold": "<b>bold</b>"})
    names = ["steady", "<b>bold</b>"]
    find = "company_profit[<b>bold</b>] < company_profit[steady]"
    chosen = explore.options(names, ["company_profit"], "mean", find)
    a = explore.analyse(runs, ["sensitivity", "irrelevant"], names, chosen)
    done = explore.ExploreResult(tmp_path, runs, a, chosen, ["sensitivity", "irrelevant"],
                                 names, 0, 40, runs.iloc[:0], "in-process")  # fmt: skip
    manifest = {
        "command": "channelsim explore <i>x</i>",
        "seed_derivation": "",
        "definition": {"uncertain": {"sensitivity": {"low": 0, "high": 2, "scale": "linear"}},
                       "samples": 40, "design": "lhs", "replicates": 1, "seed": 4},
    }  # fmt: skip
    html = build_report(done, manifest)
    assert "<b>" not in html and "<i>" not in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html and "<script" not in html


def test_an_exploration_chooses_its_workers_like_a_sweep(
    explored, scenario_files, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without --workers: one process for a short exploration, every core for a long one;
    the runs are the same either way."""
    from channelsim.experiments import resources

    out, _ = explored
    args = ["explore", *scenario_files, "--uncertain", "dealers.reach=0.1:0.6"]
    args += ["--samples", 4, "--replicates", 2, "--seed", 3, "-q"]
    result = invoke(*args, "--out", tmp_path / "short")
    assert result.exit_code == 0, result.output
    sessions = json.loads((tmp_path / "short" / "manifest.json").read_text())["sessions"]
    assert sessions[0]["executor"] == "in-process"
    monkeypatch.setattr(resources, "PARALLEL_WORTHWHILE", 1)  # every run is "long"
    monkeypatch.setattr(resources, "usable_cpus", lambda: 2)
    result = invoke(*args, "--out", tmp_path / "long")
    assert result.exit_code == 0, result.output
    sessions = json.loads((tmp_path / "long" / "manifest.json").read_text())["sessions"]
    assert sessions[0]["executor"] != "in-process"
    saved, long = sweep_run.read_runs(out), sweep_run.read_runs(tmp_path / "long")
    assert long[list(KPIS)].equals(saved[list(KPIS)])


def test_an_unknown_uncertain_path_is_refused_before_the_plan_is_said(scenario_files) -> None:
    result = invoke("explore", *scenario_files, "--uncertain", "dealers.rech=0.1:0.5")
    assert result.exit_code == 2 and result.stdout == ""
    assert "--uncertain dealers.rech: unknown key 'rech'; did you mean dealers.reach?" in (
        result.stderr
    )
