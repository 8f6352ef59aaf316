"""Quarterly sales forecasts by reps: what they forecast, its bias, and how it is scored
(docs/model.md, 3.15)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def bias(quota_method: str, sandbagging: float, optimism: float) -> float:
    """Relative bias of a rep's forecast: under negotiated quotas a low forecast buys a low
    quota (sandbagging, -sandbagging); otherwise reps are optimistic (+optimism)."""
    return -sandbagging if quota_method == "negotiated" else optimism


def forecast(
    run_rate: ArrayLike,
    pipeline_then: ArrayLike,
    pipeline_now: ArrayLike,
    relative_bias: float,
    noise: ArrayLike,
    z: ArrayLike,
) -> NDArray:
    """F = max(0, R - P_then + P_now) (1 + b) max(0, 1 + noise z).

    R: last quarter's credited sales; P: the stage-weighted pipeline at the last forecast and
    now (what the pipeline gained since); b: the bias; noise: the rep's forecast error
    (smaller for skilled reps); z: a standard-normal draw per rep.
    """
    base = np.maximum(
        0.0,
        np.asarray(run_rate, float) - np.asarray(pipeline_then, float) + np.asarray(pipeline_now),
    )
    error = np.maximum(0.0, 1.0 + np.asarray(noise, float) * np.asarray(z, float))
    return base * (1.0 + relative_bias) * error


def absolute_percentage_errors(forecasts: ArrayLike, realised: ArrayLike) -> NDArray:
    """|F - R| / R for each forecast whose realised sales are positive (others are dropped)."""
    f, r = np.asarray(forecasts, float), np.asarray(realised, float)
    ok = r > 0
    return np.abs(f[ok] - r[ok]) / r[ok]


def blend_quota(quota: ArrayLike, forecasts: ArrayLike, weight: float) -> NDArray:
    """A data-driven quota that listens to the rep's forecast: (1 - w) Q + w F."""
    return (1.0 - weight) * np.asarray(quota, float) + weight * np.asarray(forecasts, float)
