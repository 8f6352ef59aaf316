"""Calibration figures from the result tables (fit.csv, profiles); each returns a Figure."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from channelsim.output.figures import margins, spacing, subplots

OBSERVED, SIMULATED = "#444444", "#1f77b4"


def _grid(n: int, width: float = 3.2, height: float = 2.6) -> tuple[Figure, np.ndarray]:
    cols = min(n, 3)
    rows = math.ceil(n / cols)
    fig, axes = subplots(rows, cols, max(width * cols, 4.8), height * rows)  # the title's width
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, axes.flat


def _layout(fig: Figure, cols: int, top: float = 0.55) -> None:
    """Room for tick labels, a y label and a title in each panel, and the figure's title."""
    gap = spacing(fig, cols, 0.8, 0.2, 0.85)
    margins(fig, left=0.8, right=0.2, bottom=0.5, top=top, wspace=gap, hspace=0.55)


def fit_totals(fit: pd.DataFrame) -> Figure:
    """Observed (+-2 se) against simulated (95% interval of the mean), one panel per total."""
    totals = fit[fit["period"] == "run"]
    fig, axes = _grid(max(len(totals), 1))
    for ax, (_, row) in zip(axes, totals.iterrows(), strict=False):
        ax.errorbar(
            [0],
            [row["observed"]],
            yerr=[2 * row["se"]],
            fmt="o",
            color=OBSERVED,
            capsize=4,
            label="observed ± 2 se",
        )
        ax.errorbar(
            [1],
            [row["simulated"]],
            yerr=[[row["simulated"] - row["ci_low"]], [row["ci_high"] - row["simulated"]]],
            fmt="s",
            color=SIMULATED,
            capsize=4,
            label="simulated (95% CI)",
        )
        ax.set_xticks([0, 1], ["observed", "simulated"])
        ax.set_xlim(-0.6, 1.6)
        ax.set_title(f"{row['kpi']} (z = {row['z']:+.2f})", fontsize=9)
        ax.tick_params(labelsize=8)
    fig.suptitle("Targets: observed and simulated at the estimate", fontsize=10)
    _layout(fig, min(max(len(totals), 1), 3))
    return fig


def fit_series(fit: pd.DataFrame) -> Figure | None:
    """Each observed series over its periods with the simulated one; None without series."""
    series = fit[fit["period"] != "run"]
    if series.empty:
        return None
    names = list(dict.fromkeys(series["kpi"].str.replace(r"\[.*\]$", "", regex=True)))
    fig, axes = _grid(len(names), width=4.2)
    base = series["kpi"].str.replace(r"\[.*\]$", "", regex=True)
    for ax, name in zip(axes, names, strict=False):
        part = series[base == name]
        x = part["index"].to_numpy()
        ax.errorbar(
            x,
            part["observed"],
            yerr=2 * part["se"],
            fmt="o",
            color=OBSERVED,
            capsize=3,
            label="observed ± 2 se",
        )
        ax.plot(x, part["simulated"], color=SIMULATED, marker="s", label="simulated")
        ax.fill_between(x, part["ci_low"], part["ci_high"], color=SIMULATED, alpha=0.2)
        ax.set_xticks(x)
        ax.set_xlabel(part["period"].iloc[0])
        ax.set_title(name, fontsize=9)
        ax.tick_params(labelsize=8)
    axes[0].legend(fontsize=7)
    _layout(fig, min(len(names), 3), top=0.35)
    return fig


def loss_profiles(profiles: pd.DataFrame, parameters: pd.DataFrame, threshold: float) -> Figure:
    """Loss above its minimum against each parameter, with the threshold and the interval."""
    fig, axes = _grid(len(parameters), width=3.6)
    for ax, (_, p) in zip(axes, parameters.iterrows(), strict=False):
        prof = profiles[profiles["parameter"] == p["parameter"]].sort_values("value")
        ax.plot(prof["value"], prof["delta"].clip(upper=threshold * 6), marker=".", color=SIMULATED)
        ax.axhline(threshold, color="#d62728", linestyle="--", linewidth=1)
        ax.axvspan(p["ci_low"], p["ci_high"], color=SIMULATED, alpha=0.15)
        ax.axvline(p["estimate"], color=OBSERVED, linewidth=1)
        state = "" if p["identified"] else " (not identified)"
        ax.set_title(f"{p['parameter']}{state}", fontsize=9)
        ax.set_ylabel("loss - min", fontsize=8)
        ax.tick_params(labelsize=8)
    fig.suptitle(f"Loss profiles; dashed: chi2 threshold {threshold:.2f}", fontsize=10)
    _layout(fig, min(len(parameters), 3))
    return fig


def calibration_charts(
    fit: pd.DataFrame, profiles: pd.DataFrame, parameters: pd.DataFrame, threshold: float
) -> dict[str, Figure]:
    figures = {
        "fit_totals": fit_totals(fit),
        "loss_profiles": loss_profiles(profiles, parameters, threshold),
    }
    series = fit_series(fit)
    if series is not None:
        figures["fit_series"] = series
    return figures
