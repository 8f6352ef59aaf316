"""Figures of an optimisation. Every function takes tables and returns a Figure.

The trials table has one row per trial: `trial`, `state`, a column per lever (its dotted
path), the objective KPIs (replicate means) and `feasible`; `start` maps KPIs to the mean of
the scenario as given on the same seeds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from channelsim.output.display import number
from channelsim.output.figures import margins, spacing, subplots, text_width
from channelsim.storage.results import safe_name

Goal = tuple[str, str]  # (KPI, "maximize" | "minimize")
FEASIBLE, INFEASIBLE, BEST, START = "#1f77b4", "#bbbbbb", "#d62728", "#2ca02c"


def _complete(trials: pd.DataFrame) -> pd.DataFrame:
    return trials[trials["state"] == "COMPLETE"]


def _axis_numbers(ax) -> None:
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: number(v)))


def history(trials: pd.DataFrame, goal: Goal, start: float | None = None) -> Figure:
    """Each trial's objective (grey: infeasible) and the best feasible value so far."""
    kpi, direction = goal
    done = _complete(trials).sort_values("trial")
    fig, [[ax]] = subplots(1, 1, 7, 4)
    ok = done[done["feasible"]]
    bad = done[~done["feasible"]]
    if len(bad):
        ax.scatter(bad["trial"], bad[kpi], s=14, color=INFEASIBLE, label="trial (infeasible)")
    ax.scatter(ok["trial"], ok[kpi], s=14, color=FEASIBLE, label="trial")
    if len(ok):
        values = ok[kpi].to_numpy(dtype=float)
        best = (
            np.maximum.accumulate(values)
            if direction == "maximize"
            else np.minimum.accumulate(values)
        )
        ax.step(ok["trial"], best, where="post", color=BEST, label="best so far")
    if start is not None and math.isfinite(start):
        ax.axhline(start, color=START, linestyle="--", linewidth=1, label="scenario as given")
    ax.set_xlabel("trial")
    ax.set_ylabel(f"{kpi} (mean of replicates)")
    ax.set_title(f"Optimisation history: {kpi} ({'max' if direction == 'maximize' else 'min'})")
    _axis_numbers(ax)
    ax.legend(fontsize=8)
    margins(fig, left=1.0, right=0.2, bottom=0.55, top=0.4)
    return fig


def importance(table: pd.DataFrame) -> Figure:
    """fANOVA importance of each lever, one panel per objective."""
    kpis = list(dict.fromkeys(table["kpi"]))
    left = text_width(table["parameter"].unique()) + 0.2  # room for the levers' names
    height = 0.5 * table["parameter"].nunique() + 1.8
    fig, axes = subplots(1, len(kpis), (left + 3.8) * len(kpis), height)
    for ax, kpi in zip(axes[0], kpis, strict=True):
        rows = table[table["kpi"] == kpi].sort_values("importance")
        ax.barh(rows["parameter"], rows["importance"], color=FEASIBLE)
        ax.set_xlim(0, 1)
        ax.set_xlabel("share of the objective's variance over the trials")
        ax.set_title(f"Parameter importance: {kpi}")
    gap = spacing(fig, len(kpis), left, 0.3, left + 0.3)
    margins(fig, left=left, right=0.3, bottom=0.55, top=0.35, wspace=gap)
    return fig


def pareto_front(
    trials: pd.DataFrame, x: Goal, y: Goal, front: Sequence[int], start: dict[str, float]
) -> Figure:
    """Two objectives of every trial, the Pareto set joined up, the start marked."""
    done = _complete(trials)
    fig, [[ax]] = subplots(1, 1, 6.5, 5)
    ok, bad = done[done["feasible"]], done[~done["feasible"]]
    if len(bad):
        ax.scatter(bad[x[0]], bad[y[0]], s=14, color=INFEASIBLE, label="trial (infeasible)")
    ax.scatter(ok[x[0]], ok[y[0]], s=14, color=FEASIBLE, label="trial")
    best = done[done["trial"].isin(front)].sort_values(x[0])
    ax.plot(best[x[0]], best[y[0]], "o-", color=BEST, markersize=5, label="Pareto set")
    if x[0] in start and y[0] in start:
        ax.scatter(
            [start[x[0]]],
            [start[y[0]]],
            marker="*",
            s=160,
            color=START,
            zorder=5,
            label="scenario as given",
        )
    ax.set_xlabel(f"{x[0]} ({'max' if x[1] == 'maximize' else 'min'})")
    ax.set_ylabel(f"{y[0]} ({'max' if y[1] == 'maximize' else 'min'})")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: number(v)))
    _axis_numbers(ax)
    ax.set_title("Trade-off between the objectives")
    ax.legend(fontsize=8)
    margins(fig, left=1.0, right=0.3, bottom=0.55, top=0.4)
    return fig


def objective_vs_params(
    trials: pd.DataFrame,
    params: Sequence[str],
    goal: Goal,
    best: Sequence[int],
    start: float | None,
) -> Figure:
    """The objective against each lever, one panel per lever; the best trial(s) in red."""
    kpi = goal[0]
    done = _complete(trials)
    fig, axes = subplots(1, len(params), 4.2 * len(params), 3.8, sharey=True)
    for ax, path in zip(axes[0], params, strict=True):
        ok, bad = done[done["feasible"]], done[~done["feasible"]]
        marked = done[done["trial"].isin(best)]
        for frame, colour in ((bad, INFEASIBLE), (ok, FEASIBLE), (marked, BEST)):
            ax.scatter(
                frame[path].astype(str) if frame[path].dtype == object else frame[path],
                frame[kpi],
                s=14,
                color=colour,
            )
        if start is not None and math.isfinite(start):
            ax.axhline(start, color=START, linestyle="--", linewidth=1)
        ax.set_xlabel(path)
    axes[0][0].set_ylabel(f"{kpi} (mean of replicates)")
    _axis_numbers(axes[0][0])
    fig.suptitle(f"{kpi} against each lever (red: best; dashed: scenario as given)")
    margins(fig, left=1.0, right=0.2, bottom=0.55, top=0.45, wspace=0.08)
    return fig


def optimize_figures(
    trials: pd.DataFrame,
    params: Sequence[str],
    goals: Sequence[Goal],
    best: Sequence[int],
    start: dict[str, float],
    importances: pd.DataFrame,
) -> dict[str, Figure]:
    """Every chart of an optimisation folder, by file name."""
    if _complete(trials).empty:
        return {}
    figures: dict[str, Figure] = {}
    for goal in goals:
        name = safe_name(goal[0])
        figures[f"history_{name}"] = history(trials, goal, start.get(goal[0]))
        figures[f"{name}_vs_levers"] = objective_vs_params(
            trials, params, goal, best, start.get(goal[0])
        )
    if len(goals) >= 2:
        figures["pareto_front"] = pareto_front(trials, goals[0], goals[1], best, start)
    if not importances.empty:
        figures["importance"] = importance(importances)
    return figures
