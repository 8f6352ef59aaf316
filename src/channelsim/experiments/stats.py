"""Statistics over replicates: means with t confidence intervals, paired differences."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats


def mean_ci(
    values: Sequence[float] | np.ndarray, level: float = 0.95
) -> tuple[float, float, float, float, int]:
    """Mean, standard deviation and the t interval of the mean; NaN-aware."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = x.size
    if n == 0:
        return (np.nan, np.nan, np.nan, np.nan, 0)
    mean = float(x.mean())
    if n == 1:
        return (mean, np.nan, np.nan, np.nan, 1)
    sd = float(x.std(ddof=1))
    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * sd / np.sqrt(n))
    return (mean, sd, mean - half, mean + half, n)


def summarise_kpis(
    kpis: pd.DataFrame, kpi_names: Sequence[str], by: Sequence[str] = (), level: float = 0.95
) -> pd.DataFrame:
    """Long table: (group columns), kpi, mean, std, ci_low, ci_high, n."""
    rows = []
    groups = kpis.groupby(list(by), sort=False) if by else [((), kpis)]
    for key, frame in groups:
        key = key if isinstance(key, tuple) else (key,)
        for name in kpi_names:
            mean, sd, low, high, n = mean_ci(frame[name].to_numpy(), level)
            rows.append(
                {
                    **dict(zip(by, key, strict=True)),
                    "kpi": name,
                    "mean": mean,
                    "std": sd,
                    "ci_low": low,
                    "ci_high": high,
                    "n": n,
                }
            )
    return pd.DataFrame(rows)


def paired_difference(
    values: Sequence[float] | np.ndarray,
    baseline: Sequence[float] | np.ndarray,
    level: float = 0.95,
) -> tuple[float, float, float, float, int]:
    """Mean of `values - baseline` over pairs, its paired t interval and two-sided p-value.

    Pairs where either side is NaN are dropped. With common random numbers the pairs share
    their randomness, so the interval is narrower than one that ignores the pairing.
    Returns (mean_diff, ci_low, ci_high, p_value, n).
    """
    x = np.asarray(values, dtype=float)
    y = np.asarray(baseline, dtype=float)
    if x.shape != y.shape:
        raise ValueError(f"paired samples differ in length: {x.size} and {y.size}")
    keep = ~(np.isnan(x) | np.isnan(y))
    d = x[keep] - y[keep]
    n = d.size
    if n == 0:
        return (np.nan, np.nan, np.nan, np.nan, 0)
    mean = float(d.mean())
    if n == 1:
        return (mean, np.nan, np.nan, np.nan, 1)
    if np.all(d == d[0]):
        # No spread: the difference is known exactly (zero for a scenario against itself).
        return (mean, mean, mean, 1.0 if mean == 0 else 0.0, n)
    result = stats.ttest_rel(x[keep], y[keep])
    interval = result.confidence_interval(confidence_level=level)
    return (mean, float(interval.low), float(interval.high), float(result.pvalue), n)


def paired_differences(
    kpis: pd.DataFrame,
    kpi_names: Sequence[str],
    baseline: str,
    by: str = "scenario",
    pair_on: str = "replicate",
    level: float = 0.95,
) -> pd.DataFrame:
    """Long table of every group against `baseline`, paired on `pair_on` (the replicate).

    Columns: (by), baseline, kpi, mean_diff, ci_low, ci_high, p_value, n. The baseline's
    own rows are included (a difference of exactly zero), so every group has a row per KPI.
    """
    base = kpis[kpis[by] == baseline].set_index(pair_on)
    if base.empty:
        raise ValueError(f"no rows for baseline {baseline!r} in column {by!r}")
    rows = []
    for name, frame in kpis.groupby(by, sort=False):
        frame = frame.set_index(pair_on)
        common = frame.index.intersection(base.index)
        for kpi in kpi_names:
            mean, low, high, p, n = paired_difference(
                frame.loc[common, kpi].to_numpy(), base.loc[common, kpi].to_numpy(), level
            )
            rows.append(
                {
                    by: name,
                    "baseline": baseline,
                    "kpi": kpi,
                    "mean_diff": mean,
                    "ci_low": low,
                    "ci_high": high,
                    "p_value": p,
                    "n": n,
                }
            )
    return pd.DataFrame(rows)
