"""`channelsim compare`: the same seeds for every scenario, paired differences, clear refusals."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from conftest import SCENARIOS, SMALL
from scipy import stats as scipy_stats

from channelsim.cli import main
from channelsim.experiments import comparison, stats
from channelsim.experiments import replicates as experiment
from channelsim.model.kpis import KPIS
from channelsim.scenario.loading import deep_merge, load_scenarios
from channelsim.storage import results
from channelsim.storage.results import INCOMPLETE

SEED = 11
REPLICATES = 3
NAMES = ("small_parallel", "small_direct", "small_rep_only")


def write_scenario(folder: Path, stem: str, **overrides) -> Path:
    """A small scenario file named `stem`.yaml; its `name:` is the stem unless overridden."""
    path = folder / f"{stem}.yaml"
    path.write_text(yaml.safe_dump(deep_merge(SMALL, {"name": stem, **overrides})))
    return path


@pytest.fixture(scope="module")
def scenario_files(tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("scenarios")
    return [
        write_scenario(folder, NAMES[0]),
        write_scenario(folder, NAMES[1], strategy="direct"),
        write_scenario(folder, NAMES[2], engagement={"large_accounts": "rep_only"}),
    ]


def run_cli(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def compared(scenario_files, tmp_path_factory):
    """One comparison of three small scenarios through the command line, in one process."""
    out = tmp_path_factory.mktemp("compare") / "out"
    result = run_cli(
        "compare", *scenario_files, "-n", REPLICATES, "--seed", SEED, "--out", out, "--quiet"
    )
    assert result.exit_code == 0, result.output
    return result, out


@pytest.fixture(scope="module")
def compared_two_workers(scenario_files, tmp_path_factory) -> Path:
    """The same comparison in two worker processes, with the second scenario as baseline,
    its tables written the way `compare` writes them."""
    scenarios = load_scenarios(scenario_files)
    job = comparison.run_comparison(scenarios, REPLICATES, SEED, baseline=NAMES[1], workers=2)
    out = tmp_path_factory.mktemp("two_workers")
    results.write_csv(out / "kpis.csv", job.kpis)
    results.write_parquet(out / "timeseries.parquet", job.weekly)
    results.write_csv(out / "differences.csv", job.differences)
    return out


def read(out: Path, name: str) -> pd.DataFrame:
    return pd.read_parquet(out / name) if name.endswith(".parquet") else pd.read_csv(out / name)


# --- the results folder -------------------------------------------------------------------


def test_compare_writes_every_file_and_marks_the_folder_complete(compared):
    _, out = compared
    for name in ("manifest.json", "kpis.csv", "timeseries.parquet", "summary.csv"):
        assert (out / name).is_file(), name
    assert (out / "differences.csv").is_file()
    assert list((out / "charts").glob("*.png"))
    assert not (out / INCOMPLETE).exists()


def test_the_manifest_records_scenarios_seeds_versions_and_command(compared):
    _, out = compared
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert manifest["kind"] == "compare"
    assert [s["name"] for s in manifest["scenarios"]] == list(NAMES)
    assert manifest["scenarios"][1]["strategy"] == "direct"
    assert manifest["seeds"] == experiment.replicate_seeds(SEED, REPLICATES)
    assert manifest["baseline"] == NAMES[0]
    assert {"numpy", "scipy", "mesa", "channelsim"} <= set(manifest["versions"])
    assert manifest["command"].startswith("channelsim")  # sys.argv, here pytest's


def test_every_scenario_runs_on_the_same_replicate_seeds(compared):
    _, out = compared
    kpis = read(out, "kpis.csv")
    assert list(dict.fromkeys(kpis["scenario"])) == list(NAMES)
    seeds = experiment.replicate_seeds(SEED, REPLICATES)
    for name in NAMES:
        rows = kpis[kpis["scenario"] == name].sort_values("replicate")
        assert rows["seed"].tolist() == seeds
    assert set(KPIS) <= set(kpis.columns)


def test_weekly_series_are_labelled_by_scenario_and_replicate(compared):
    _, out = compared
    weekly = read(out, "timeseries.parquet")
    runs = weekly.groupby(["scenario", "replicate"]).size()
    assert len(runs) == len(NAMES) * REPLICATES
    assert (runs == SMALL["weeks"]).all()


# --- statistics ---------------------------------------------------------------------------


def test_summary_is_the_mean_of_each_scenarios_replicates(compared):
    _, out = compared
    kpis, summary = read(out, "kpis.csv"), read(out, "summary.csv")
    expected = kpis.groupby("scenario")["revenue"].mean()
    got = summary[summary["kpi"] == "revenue"].set_index("scenario")["mean"]
    pd.testing.assert_series_equal(got.sort_index(), expected.sort_index(), check_names=False)


def test_confidence_intervals_bracket_the_mean(compared):
    _, out = compared
    summary = read(out, "summary.csv").dropna(subset=["ci_low"])
    assert len(summary) > len(NAMES) * 10
    assert (summary["ci_low"] <= summary["mean"]).all()
    assert (summary["mean"] <= summary["ci_high"]).all()
    assert (summary["n"] == REPLICATES).all()
    differences = read(out, "differences.csv").dropna(subset=["ci_low"])
    assert (differences["ci_low"] <= differences["mean_diff"]).all()
    assert (differences["mean_diff"] <= differences["ci_high"]).all()


def test_the_baseline_against_itself_differs_by_exactly_zero(compared):
    _, out = compared
    differences = read(out, "differences.csv")
    own = differences[differences["scenario"] == NAMES[0]].dropna(subset=["mean_diff"])
    assert len(own) > 10
    assert (own[["mean_diff", "ci_low", "ci_high"]] == 0).all().all()
    assert (own["p_value"] == 1).all()


def test_differences_are_means_of_replicate_by_replicate_differences(compared):
    _, out = compared
    kpis, differences = read(out, "kpis.csv"), read(out, "differences.csv")
    wide = kpis.pivot(index="replicate", columns="scenario", values="company_profit")
    row = differences[
        (differences["scenario"] == NAMES[1]) & (differences["kpi"] == "company_profit")
    ]
    paired = scipy_stats.ttest_rel(wide[NAMES[1]], wide[NAMES[0]])
    assert row["mean_diff"].item() == pytest.approx((wide[NAMES[1]] - wide[NAMES[0]]).mean())
    assert row["p_value"].item() == pytest.approx(paired.pvalue)
    assert (differences["baseline"] == NAMES[0]).all()


def test_common_random_numbers_make_paired_intervals_narrower_than_unpaired():
    """Replicate i of the bundled direct and parallel strategies meets the same market, so
    the customers each keeps move together and the paired interval of the difference is
    narrower than Welch's interval for two independent samples."""
    scenarios = load_scenarios(
        [SCENARIOS / "direct.yaml", SCENARIOS / "parallel.yaml"], ["weeks=52"]
    )
    job = comparison.run_comparison(scenarios, replicates=5)
    wide = job.kpis.pivot(index="replicate", columns="scenario", values="customers_active")
    row = job.differences.set_index(["scenario", "kpi"]).loc[("parallel", "customers_active")]
    paired_width = row["ci_high"] - row["ci_low"]
    welch = scipy_stats.ttest_ind(wide["parallel"], wide["direct"], equal_var=False)
    welch_width = np.diff(welch.confidence_interval(0.95)).item()
    assert paired_width < welch_width
    assert row["mean_diff"] == pytest.approx(wide["parallel"].mean() - wide["direct"].mean())


def test_paired_difference_of_a_constant_shift_is_exact():
    base = np.array([3.0, 9.0, 4.0, 12.0])
    assert stats.paired_difference(base + 5, base) == (5.0, 5.0, 5.0, 0.0, 4)


def test_paired_difference_drops_pairs_with_a_missing_value():
    mean, low, high, p, n = stats.paired_difference([1.0, np.nan, 4.0, 6.0], [0.0, 1.0, 2.0, 2.5])
    assert n == 3
    assert mean == pytest.approx(np.mean([1.0, 2.0, 3.5]))
    assert low < mean < high
    assert 0 < p < 1


def test_paired_interval_uses_the_pairs_shared_noise():
    rng = np.random.default_rng(5)
    luck = rng.normal(0, 10, 20)
    base, other = luck, luck + 1 + rng.normal(0, 0.5, 20)
    _, low, high, p, _ = stats.paired_difference(other, base)
    welch = scipy_stats.ttest_ind(other, base, equal_var=False).confidence_interval()
    assert high - low < (welch.high - welch.low) / 5
    assert low > 0 and p < 0.05


# --- the printed table --------------------------------------------------------------------


def test_the_printed_table_has_scenarios_as_columns_and_a_row_per_kpi(compared):
    result, out = compared
    lines = result.output.splitlines()
    header = next(line for line in lines if line.startswith("KPI"))
    assert header.split()[1:] == ["unit", NAMES[0], "(baseline)", NAMES[1], NAMES[2]]
    rows = {line.split()[0]: line for line in lines if line.split() and line.split()[0] in KPIS}
    assert set(rows) == set(read(out, "summary.csv")["kpi"])
    assert "±" in rows["revenue"]
    assert any("* = differs from" in line for line in lines)


def test_a_star_marks_each_significant_difference_and_nothing_else(compared):
    result, out = compared
    differences = read(out, "differences.csv")
    significant = differences[differences["p_value"] < 0.05].groupby("kpi").size()
    assert significant.sum() > 0
    for line in result.output.splitlines():
        words = line.split()
        if words and words[0] in KPIS:
            assert words.count("*") == significant.get(words[0], 0), line


# --- workers and baseline -----------------------------------------------------------------


def test_two_workers_give_the_same_files_as_one(compared, compared_two_workers):
    _, one = compared
    for name in ("kpis.csv", "timeseries.parquet"):
        assert (one / name).read_bytes() == (compared_two_workers / name).read_bytes(), name


def test_baseline_option_chooses_the_reference_scenario(compared_two_workers):
    differences = read(compared_two_workers, "differences.csv")
    assert (differences["baseline"] == NAMES[1]).all()
    own = differences[differences["scenario"] == NAMES[1]].dropna(subset=["mean_diff"])
    assert (own["mean_diff"] == 0).all()
    other = differences[differences["scenario"] == NAMES[0]]
    assert (other["mean_diff"].abs() > 0).any()


# --- refusals -----------------------------------------------------------------------------


def test_two_scenarios_with_the_same_name_are_refused(tmp_path):
    first = write_scenario(tmp_path, "first", name="same")
    second = write_scenario(tmp_path, "second", name="same", strategy="direct")
    result = run_cli("compare", first, second, "--out", tmp_path / "out", "--quiet")
    assert result.exit_code == 2
    assert "'same'" in result.output and "second.yaml" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_an_unknown_baseline_is_refused(scenario_files, tmp_path):
    result = run_cli("compare", *scenario_files, "--baseline", "nope", "--out", tmp_path / "o")
    assert result.exit_code == 2
    assert "--baseline 'nope'" in result.output and NAMES[0] in result.output
    assert not (tmp_path / "o").exists()


def test_a_misspelt_baseline_gets_a_did_you_mean(scenario_files, tmp_path):
    result = run_cli(
        "compare", *scenario_files, "--baseline", "small_drect", "--out", tmp_path / "o"
    )
    assert result.exit_code == 2
    assert result.output.strip().endswith("did you mean 'small_direct'?")


def test_one_scenario_is_not_a_comparison(scenario_files, tmp_path):
    result = run_cli("compare", scenario_files[0], "--out", tmp_path / "o")
    assert result.exit_code == 2
    assert "at least two" in result.output


def test_a_bad_override_names_the_key(scenario_files, tmp_path):
    result = run_cli("compare", *scenario_files, "--set", "reps.capacty=3", "--out", tmp_path)
    assert result.exit_code == 2
    assert "reps.capacty" in result.output and "capacity" in result.output


def test_the_bundled_strategies_differ_only_in_the_channels_and_the_headcount_they_mean():
    """A fair comparison: direct, intermediary and parallel share every setting but the
    strategy, and intermediary's smaller rep force, which its file says is part of it."""
    from channelsim.api import load_scenario
    from channelsim.scenario.differences import differing_settings

    names = ("direct", "intermediary", "parallel")
    loaded = [load_scenario(SCENARIOS / f"{n}.yaml") for n in names]
    differing = differing_settings([s.model_dump(mode="json") for s in loaded])
    assert set(differing) == {"strategy", "reps.headcount"}  # name and description aside
    assert differing["reps.headcount"] == [30, 10, 30]
    assert "headcount is part of the strategy" in loaded[1].description
