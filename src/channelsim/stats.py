"""Statistics over replicates: means with t confidence intervals."""

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
