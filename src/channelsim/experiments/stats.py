"""Statistics over replicates: every interval channelsim reports is computed here.

Means get a t interval of the mean, paired differences a paired t interval. Both are cut
to what the KPI can be (`bounds`: a share in [0, 1], a count >= 0, reps in post <= the
headcount): the true mean lies within those bounds, so cutting never lowers an interval's
coverage, and no table or chart shows an impossible value. A bound never cuts off a value
that was observed (it is widened to the observed range first), so a bound that is wrong
for some scenario cannot hide data.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import special

METHOD = (
    "t intervals of the mean over replicates; differences: paired t intervals "
    "(as scipy.stats.ttest_rel computes them) on replicates run with the same seeds; "
    "every interval cut to the KPI's possible range (shares in [0, 1], counts >= 0, reps in "
    "post <= headcount)"
)
UNBOUNDED = (-np.inf, np.inf)


def t_half_width(sd: ArrayLike, n: ArrayLike, level: float = 0.95) -> NDArray[np.float64]:
    """Half-width of the t interval of a mean; NaN where fewer than two values."""
    sd = np.asarray(sd, dtype=float)
    n = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        # The t quantile (what scipy.stats.t.ppf computes), without importing scipy.stats.
        half = special.stdtrit(n - 1, 0.5 + level / 2) * sd / np.sqrt(n)
    return np.where(n >= 2, half, np.nan)


def cut(
    low: ArrayLike, high: ArrayLike, lowest: ArrayLike, highest: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """An interval cut to [lowest, highest] (NaN ends stay NaN)."""
    low, high = np.asarray(low, dtype=float), np.asarray(high, dtype=float)
    lowest, highest = np.asarray(lowest, dtype=float), np.asarray(highest, dtype=float)
    return np.clip(low, lowest, highest), np.clip(high, lowest, highest)


def mean_ci(
    values: Sequence[float] | np.ndarray,
    level: float = 0.95,
    bounds: tuple[float, float] = UNBOUNDED,
) -> tuple[float, float, float, float, int]:
    """Mean, standard deviation and the (cut) t interval of the mean; NaN-aware."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = x.size
    if n == 0:
        return (np.nan, np.nan, np.nan, np.nan, 0)
    mean = float(x.mean())
    if n == 1:
        return (mean, np.nan, np.nan, np.nan, 1)
    sd = float(x.std(ddof=1))
    half = float(t_half_width(sd, n, level))
    low, high = cut(mean - half, mean + half, min(bounds[0], x.min()), max(bounds[1], x.max()))
    return (mean, sd, float(low), float(high), n)


def summarise_kpis(
    kpis: pd.DataFrame,
    kpi_names: Sequence[str],
    by: Sequence[str] = (),
    level: float = 0.95,
    bounds: pd.DataFrame | None = None,
    groups: pd.Index | None = None,
) -> pd.DataFrame:
    """Long table: (group columns), kpi, mean, std, ci_low, ci_high, n; all groups at once.

    `bounds` has columns (some of the group columns), kpi, low, high; KPIs it does not name
    are unbounded. `groups` lists the groups to report (default: those present, in order of
    appearance); a group without values gets NaN rows and n = 0.
    """
    by = list(by)
    names = list(kpi_names)
    frame = kpis[[*by, *names]] if by else kpis[names].assign(_all=0)
    keys = by or ["_all"]
    grouped = frame.groupby(keys, sort=False)[names]
    parts = {
        "mean": grouped.mean(),
        "std": grouped.std(ddof=1),
        "n": grouped.count(),
        "min": grouped.min(),
        "max": grouped.max(),
    }
    if groups is not None:
        parts = {k: v.reindex(groups) for k, v in parts.items()}
    long = pd.DataFrame({k: v.stack(future_stack=True) for k, v in parts.items()}).rename_axis(
        [*keys, "kpi"]
    )
    long = long.reset_index()
    long["n"] = long["n"].fillna(0).astype(int)
    if bounds is None:
        lowest, highest = np.full(len(long), -np.inf), np.full(len(long), np.inf)
    else:
        on = [c for c in keys if c in bounds.columns] + ["kpi"]
        merged = long[on].merge(bounds[[*on, "low", "high"]], on=on, how="left")
        lowest = merged["low"].fillna(-np.inf).to_numpy(dtype=float)
        highest = merged["high"].fillna(np.inf).to_numpy(dtype=float)
    half = t_half_width(long["std"], long["n"], level)
    mean = long["mean"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        lowest = np.fmin(lowest, long["min"].to_numpy(dtype=float))
        highest = np.fmax(highest, long["max"].to_numpy(dtype=float))
    long["ci_low"], long["ci_high"] = cut(mean - half, mean + half, lowest, highest)
    long["std"] = long["std"].where(long["n"] >= 2)
    columns = [*by, "kpi", "mean", "std", "ci_low", "ci_high", "n"]
    return long[columns].reset_index(drop=True)


def paired_difference(
    values: Sequence[float] | np.ndarray,
    baseline: Sequence[float] | np.ndarray,
    level: float = 0.95,
    bounds: tuple[float, float] = UNBOUNDED,
) -> tuple[float, float, float, float, int]:
    """Mean of `values - baseline` over pairs, its paired t interval and two-sided p-value.

    Pairs where either side is NaN are dropped. With common random numbers the pairs share
    their randomness, so the interval is narrower than one that ignores the pairing. The
    interval is cut to `bounds`, the possible range of the difference (a difference of
    shares lies in [-1, 1]). Returns (mean_diff, ci_low, ci_high, p_value, n).
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
    interval_low, interval_high, p_value = paired_t(d, level)
    lowest, highest = min(bounds[0], d.min()), max(bounds[1], d.max())
    low, high = cut(interval_low, interval_high, lowest, highest)
    return (mean, float(low), float(high), float(p_value), n)


def paired_t(d: np.ndarray, level: float) -> tuple[float, float, float]:
    """The paired t interval and two-sided p-value of the differences `d` (n >= 2).

    The arithmetic of `scipy.stats.ttest_rel(...).confidence_interval(level)`, step by
    step, which gives the same numbers to the bit (tests/test_intervals.py) without
    importing scipy.stats (a third of a second) or building its result objects.
    """
    n = d.size
    mean = np.mean(d)
    variance = np.mean((d - np.mean(d, keepdims=True)) ** 2) * (np.float64(n) / np.float64(n - 1))
    error = np.sqrt(variance / n)
    p_value = 2 * special.stdtr(np.float64(n - 1), -np.abs(mean / error))
    tail = (1 - np.float64(level)) / 2
    quantiles = special.stdtrit(n - 1, np.stack((tail, 1 - tail)))
    return quantiles[0] * error + mean, quantiles[1] * error + mean, p_value


def paired_differences(
    kpis: pd.DataFrame,
    kpi_names: Sequence[str],
    baseline: str,
    by: str = "scenario",
    pair_on: str = "replicate",
    level: float = 0.95,
    bounds: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Long table of every group against `baseline`, paired on `pair_on` (the replicate).

    Columns: (by), baseline, kpi, mean_diff, ci_low, ci_high, p_value, n. The baseline's
    own rows are included (a difference of exactly zero), so every group has a row per KPI.
    `bounds` (columns by, kpi, low, high) bounds each group's values: a difference can lie
    only between the lowest of one minus the highest of the other and the reverse.
    """
    base = kpis[kpis[by] == baseline].set_index(pair_on)
    if base.empty:
        raise ValueError(f"no rows for baseline {baseline!r} in column {by!r}")
    limits = {} if bounds is None else bounds.set_index([by, "kpi"])[["low", "high"]]
    rows = []
    for name, frame in kpis.groupby(by, sort=False):
        frame = frame.set_index(pair_on)
        common = frame.index.intersection(base.index)
        for kpi in kpi_names:
            mine = _limits(limits, name, kpi)
            theirs = _limits(limits, baseline, kpi)
            mean, low, high, p, n = paired_difference(
                frame.loc[common, kpi].to_numpy(),
                base.loc[common, kpi].to_numpy(),
                level,
                (mine[0] - theirs[1], mine[1] - theirs[0]),
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


def _limits(limits: pd.DataFrame | dict, name: object, kpi: str) -> tuple[float, float]:
    """(low, high) of a group's KPI, unbounded where the table has no row for it."""
    if isinstance(limits, dict) or (name, kpi) not in limits.index:
        return UNBOUNDED
    low, high = limits.loc[(name, kpi)]
    return float(low), float(high)
