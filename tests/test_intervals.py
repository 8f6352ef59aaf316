"""Intervals never leave what is possible: shares stay in [0, 1], counts at or above zero,
reps in post at or below the headcount; cutting an interval never hides an observed value.
Every interval comes from experiments/stats.py, the sweep's summary included."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import SMALL
from hypothesis import assume, given
from hypothesis import strategies as st

from channelsim.experiments import stats
from channelsim.experiments.bounds import kpi_bounds
from channelsim.experiments.sweep_run import summarise
from channelsim.scenario.loading import deep_merge, validate

SCENARIO = validate(deep_merge(SMALL, {"reps": {"headcount": 6}}))


def test_bounds_follow_the_scenario() -> None:
    bounds = kpi_bounds(SCENARIO)
    assert bounds["reps_active"] == (0.0, 6.0)
    assert bounds["market_share"] == (0.0, 1.0)
    assert bounds["units"] == (0.0, np.inf)
    assert bounds["company_profit"] == (-np.inf, np.inf)
    assert bounds["dealers_active"] == (0.0, 4.0)


def test_a_t_interval_near_a_bound_is_cut_at_the_bound() -> None:
    reps = [6, 6, 6, 4]  # the plain t interval reaches 7.5
    mean, _, low, high, _ = stats.mean_ci(reps, bounds=(0.0, 6.0))
    plain = stats.mean_ci(reps)
    assert plain[3] > 6 and high == 6.0 and low == pytest.approx(plain[2])
    share = stats.mean_ci([0.0, 0.0, 0.02], bounds=(0.0, 1.0))
    assert share[2] == 0.0 < share[3]


def test_a_wrong_bound_never_cuts_off_an_observed_value() -> None:
    _, _, low, high, _ = stats.mean_ci([-5.0, 1.0, 2.0], bounds=(0.0, 1.0))
    assert low <= -5.0 and high >= 2.0


def test_summaries_of_a_comparison_stay_within_bounds() -> None:
    rng = np.random.default_rng(1)
    kpis = pd.DataFrame(
        {
            "scenario": ["a"] * 5 + ["b"] * 5,
            "replicate": list(range(5)) * 2,
            "reps_active": np.r_[[6, 6, 5, 6, 6], [3, 4, 3, 3, 4]].astype(float),
            "market_share": np.r_[rng.uniform(0.98, 1.0, 5), rng.uniform(0, 0.01, 5)],
        }
    )
    bounds = pd.DataFrame(
        [
            {"scenario": s, "kpi": k, "low": lo, "high": hi}
            for s in "ab"
            for k, (lo, hi) in (("reps_active", (0, 6)), ("market_share", (0, 1)))
        ]
    )
    summary = stats.summarise_kpis(
        kpis, ["reps_active", "market_share"], ["scenario"], bounds=bounds
    )
    assert (summary["ci_high"] <= summary["kpi"].map({"reps_active": 6, "market_share": 1})).all()
    assert (summary["ci_low"] >= 0).all()
    diffs = stats.paired_differences(kpis, ["reps_active", "market_share"], "a", bounds=bounds)
    share = diffs.set_index(["scenario", "kpi"]).loc[("b", "market_share")]
    assert share["ci_low"] >= -1 and share["ci_high"] <= 1


def test_summarise_kpis_matches_mean_ci_group_by_group() -> None:
    rng = np.random.default_rng(2)
    kpis = pd.DataFrame({"g": np.repeat([0, 1, 2], 4), "x": rng.normal(size=12)})
    kpis.loc[5, "x"] = np.nan
    table = stats.summarise_kpis(kpis, ["x"], ["g"]).set_index("g")
    for g, frame in kpis.groupby("g"):
        expected = stats.mean_ci(frame["x"].to_numpy())
        row = table.loc[g]
        got = (row["mean"], row["std"], row["ci_low"], row["ci_high"], row["n"])
        assert got == pytest.approx(expected)


def test_the_sweep_summary_uses_the_same_intervals() -> None:
    from channelsim.model.metrics import KPIS

    rng = np.random.default_rng(3)
    runs = pd.DataFrame(
        {
            "point": np.repeat([0, 1], 3),
            "replicate": [0, 1, 2] * 2,
            "status": "ok",
            "x": [1, 2, 3, 4, 5, 6],
            **{k: rng.uniform(size=6) for k in KPIS},
        }
    )
    runs.loc[0, "status"] = "failed"
    bounds = pd.DataFrame({"kpi": ["market_share"], "low": [0.0], "high": [1.0]})
    table = summarise(runs, ["x"], bounds=bounds).set_index(["point", "kpi"])
    ok = runs[runs["status"] == "ok"]
    for point in (0, 1):
        values = ok.loc[ok["point"] == point, "market_share"].to_numpy()
        expected = stats.mean_ci(values, bounds=(0.0, 1.0))
        row = table.loc[(point, "market_share")]
        assert (row["mean"], row["ci_low"], row["ci_high"], row["n"]) == pytest.approx(
            (expected[0], expected[2], expected[3], expected[4])
        )
    assert table.loc[(0, "market_share"), "failed"] == 1


def test_compare_writes_no_interval_outside_what_is_possible(tmp_path) -> None:
    import yaml
    from click.testing import CliRunner

    from channelsim.cli import main

    files = []
    for name, strategy in (("p", "parallel"), ("d", "direct")):
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump({**SMALL, "name": name, "strategy": strategy}))
        files.append(str(path))
    out = tmp_path / "out"
    args = ["compare", *files, "-n", "2", "--weeks", "8", "--out", str(out), "--quiet"]
    assert CliRunner().invoke(main, args).exit_code == 0
    summary = pd.read_csv(out / "summary.csv")
    bounds = kpi_bounds(validate(SMALL))
    low = summary["kpi"].map(lambda k: bounds[k][0])
    high = summary["kpi"].map(lambda k: bounds[k][1])
    has = summary["ci_low"].notna()
    assert (summary.loc[has, "ci_low"] >= low[has]).all()
    assert (summary.loc[has, "ci_high"] <= high[has]).all()


@given(
    n=st.integers(2, 60),
    scale=st.floats(1e-3, 1e7),
    shift=st.floats(-3, 3),
    level=st.sampled_from([0.8, 0.9, 0.95, 0.99]),
    seed=st.integers(0, 2**32 - 1),
    whole=st.booleans(),
)
def test_the_paired_interval_and_p_value_are_scipys_to_the_bit(
    n: int, scale: float, shift: float, level: float, seed: int, whole: bool
) -> None:
    """Computed without importing scipy.stats, and still its numbers exactly."""
    from scipy import stats as scipy_stats

    rng = np.random.default_rng(seed)
    baseline = rng.normal(0, scale, n)
    values = baseline + rng.normal(shift * scale, scale * rng.uniform(0.01, 1), n)
    if whole:  # counts: ties and exact zeros among the differences
        values, baseline = np.round(values), np.round(baseline)
    d = values - baseline
    assume(not np.all(d == d[0]))  # no spread: paired_difference answers before the test
    expected = scipy_stats.ttest_rel(values, baseline)
    interval = expected.confidence_interval(confidence_level=level)
    low, high, p = stats.paired_t(d, level)
    assert (low, high, p) == (interval.low, interval.high, expected.pvalue)
