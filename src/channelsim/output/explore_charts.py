"""Figures of an exploration. Every function takes tables and returns a Figure.

The outcomes table has a row per sample, scenario and KPI (`mean` over replicates, `regret`);
the robustness table a row per KPI and scenario with `p_beats_OTHER` columns; the PRIM
tables are `prim.PrimResult.trajectories()` and `.limits()`. Each scenario keeps the colour
`charts.scenario_colours` gives it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle

from channelsim.output.charts import _scale, kpi_unit, scenario_colours
from channelsim.output.figures import margins, spacing, text_width

if TYPE_CHECKING:
    from channelsim.experiments.explore import Analysis

NEIGHBOURS = 5
GRID = 60


def kpi_distribution(
    outcomes: pd.DataFrame, kpis: Sequence[str], scenarios: Sequence[str]
) -> Figure:
    """Each KPI's outcome over the sampled points, per scenario (box: quartiles; dots: points)."""
    colours = scenario_colours(scenarios)
    fig = Figure(figsize=(max(4.2 * len(kpis), 6.5), 3.8))  # at least the title's width
    axes = fig.subplots(1, len(kpis), squeeze=False)[0]
    for ax, kpi in zip(axes, kpis, strict=True):
        frame = outcomes[outcomes["kpi"] == kpi]
        data = [frame.loc[frame["scenario"] == s, "mean"].to_numpy(dtype=float) for s in scenarios]
        factor, unit = _scale(np.concatenate(data), kpi_unit(kpi))
        parts = ax.boxplot([d / factor for d in data], patch_artist=True, showfliers=False)
        for patch, name in zip(parts["boxes"], scenarios, strict=True):
            patch.set_facecolor(colours[name])
            patch.set_alpha(0.35)
        rng = np.random.default_rng(0)  # only spreads the dots sideways
        for i, (values, name) in enumerate(zip(data, scenarios, strict=True), start=1):
            ax.scatter(i + rng.uniform(-0.12, 0.12, len(values)), values / factor, s=9,
                       color=colours[name], alpha=0.8)  # fmt: skip
        ax.set_xticks(range(1, len(scenarios) + 1), list(scenarios))
        ax.set_title(kpi)
        ax.set_ylabel(unit)
    fig.suptitle("Outcome over the uncertain inputs (one dot per sampled point)")
    margins(
        fig,
        left=0.8,
        right=0.2,
        bottom=0.45,
        top=0.7,
        wspace=spacing(fig, len(kpis), 0.8, 0.2, 0.85),
    )
    return fig


def regret_chart(outcomes: pd.DataFrame, kpi: str, scenarios: Sequence[str]) -> Figure:
    """Regret (shortfall to the best scenario at each point) per scenario; diamond: mean."""
    colours = scenario_colours(scenarios)
    frame = outcomes[outcomes["kpi"] == kpi]
    data = [frame.loc[frame["scenario"] == s, "regret"].to_numpy(dtype=float) for s in scenarios]
    factor, unit = _scale(np.concatenate(data), kpi_unit(kpi))
    fig = Figure(figsize=(5.5, 3.8))
    ax = fig.subplots()
    parts = ax.boxplot([d / factor for d in data], patch_artist=True, whis=(0, 100))
    for patch, name in zip(parts["boxes"], scenarios, strict=True):
        patch.set_facecolor(colours[name])
        patch.set_alpha(0.5)
    ax.scatter(range(1, len(data) + 1), [d.mean() / factor for d in data], marker="D",
               color="black", zorder=3, label="mean regret")  # fmt: skip
    ax.set_xticks(range(1, len(scenarios) + 1), list(scenarios))
    ax.set_ylabel(f"regret in {kpi}, {unit}")
    ax.set_title("Regret: the shortfall to the best scenario at each point")
    ax.legend(fontsize=8)
    margins(fig, left=0.8, right=0.2, bottom=0.45, top=0.35)
    return fig


def win_matrix(robustness: pd.DataFrame, kpi: str, scenarios: Sequence[str]) -> Figure:
    """P(row scenario beats column scenario) over the sampled points, paired per point."""
    rows = robustness[robustness["kpi"] == kpi].set_index("scenario")
    n = len(scenarios)
    grid = np.full((n, n), np.nan)
    for i, a in enumerate(scenarios):
        for j, b in enumerate(scenarios):
            if a != b:
                grid[i, j] = rows.loc[a, f"p_beats_{b}"]
    fig = Figure(figsize=(1.3 * n + 2.5, 1.1 * n + 1.5))
    ax = fig.subplots()
    image = ax.imshow(grid, cmap="RdYlGn", vmin=0, vmax=1)
    for i in range(n):
        for j in range(n):
            if i != j:
                ax.text(j, i, f"{grid[i, j]:.0%}", ha="center", va="center", fontsize=10)
    ax.set_xticks(range(n), list(scenarios))
    ax.set_yticks(range(n), list(scenarios))
    ax.set_xlabel("... beats this scenario")
    ax.set_ylabel("this scenario ...")
    ax.set_title(f"How often one beats another ({kpi})")
    fig.colorbar(image, ax=ax, label="share of sampled points")
    margins(fig, left=text_width(scenarios) + 0.5, right=0.1, bottom=0.65, top=0.35)
    return fig


def prim_tradeoff(trajectory: pd.DataFrame) -> Figure:
    """PRIM's peeling trajectory of each box: coverage against density; ring: chosen box."""
    fig = Figure(figsize=(5.5, 4.2))
    ax = fig.subplots()
    if trajectory.empty:
        ax.text(0.5, 0.5, "no box found", ha="center", va="center", transform=ax.transAxes)
    else:
        points = ax.scatter(trajectory["coverage"], trajectory["density"],
                            c=trajectory["restricted"], cmap="viridis", s=22)  # fmt: skip
        chosen = trajectory[trajectory["chosen"]]
        ax.scatter(chosen["coverage"], chosen["density"], s=140, facecolors="none",
                   edgecolors="red", linewidths=2, label="chosen box (before pasting)")  # fmt: skip
        most = int(trajectory["restricted"].max())
        fig.colorbar(points, ax=ax, label="inputs restricted", ticks=range(most + 1))
        ax.legend(fontsize=8, loc="lower left")
    ax.set_xlim(0, 1.05)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("coverage (share of the condition's points inside the box)")
    ax.set_ylabel("density (share of the box's points with the condition)")
    ax.set_title("PRIM: coverage against density along the peeling")
    margins(fig, left=0.6, right=0.1, bottom=0.5, top=0.35)
    return fig


def prim_box(
    points: pd.DataFrame, boxes: pd.DataFrame, x: str, y: str | None, condition: str
) -> Figure:
    """The sampled points over two inputs (or one), marked where the condition holds, and
    PRIM's first box."""
    fig = Figure(figsize=(6, 4.8))
    ax = fig.subplots()
    held = points["condition"].to_numpy(dtype=bool)
    if y is None:  # one uncertain input: the condition (0 or 1) against it
        y = "condition holds"
        points = points.assign(**{y: held.astype(float)})
    ax.scatter(points.loc[~held, x], points.loc[~held, y], s=16, color="#bbbbbb", label="no")
    ax.scatter(points.loc[held, x], points.loc[held, y], s=18, color="#d62728", label="yes")
    first = boxes[boxes["box"] == 1].set_index("input")
    if len(first):
        lows = [first.loc[c, "low"] if c in first.index else points[c].min() for c in (x, y)]
        highs = [first.loc[c, "high"] if c in first.index else points[c].max() for c in (x, y)]
        ax.add_patch(Rectangle((lows[0], lows[1]), highs[0] - lows[0], highs[1] - lows[1],
                               fill=False, edgecolor="black", linewidth=2,
                               label="PRIM box 1"))  # fmt: skip
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.set_title(f"Where {condition}", fontsize=10)
    ax.legend(fontsize=8, title="condition holds")
    margins(fig, left=0.8, right=0.2, bottom=0.5, top=0.35)
    return fig


def decision_map(
    outcomes: pd.DataFrame,
    kpi: str,
    maximise: bool,
    x: str,
    y: str | None,
    scenarios: Sequence[str],
) -> Figure:
    """The best scenario at each sampled point over two inputs (dots), and the winner among
    the nearest sampled points everywhere else (shading): the other inputs vary, so this is
    the projection of the map onto these two."""
    colours = scenario_colours(scenarios)
    frame = outcomes[outcomes["kpi"] == kpi]
    values = frame.pivot(index="sample", columns="scenario", values="mean")[list(scenarios)]
    signed = values if maximise else -values
    winner = signed.idxmax(axis=1)
    where = frame.drop_duplicates("sample").set_index("sample").loc[winner.index]
    xs = where[x].to_numpy(dtype=float)
    codes = np.array([list(scenarios).index(w) for w in winner])
    fig = Figure(figsize=(6, 4.8))
    ax = fig.subplots()
    if y is None:  # one uncertain input: the best outcome against it
        ys = (signed.max(axis=1) * (1 if maximise else -1)).to_numpy(dtype=float)
    else:
        ys = where[y].to_numpy(dtype=float)
        _nearest_winner(ax, xs, ys, codes, [colours[s] for s in scenarios])
    for k, name in enumerate(scenarios):
        ax.scatter(xs[codes == k], ys[codes == k], s=22, color=colours[name], edgecolors="white")
    ax.legend(handles=[Patch(color=colours[s], label=s) for s in scenarios], fontsize=8,
              title=f"best on {kpi}")  # fmt: skip
    ax.set_xlabel(x)
    ax.set_ylabel(y or f"{kpi} of the best scenario")
    ax.set_title("Decision map: which scenario is best where")
    margins(fig, left=0.8, right=0.2, bottom=0.5, top=0.35)
    return fig


def _nearest_winner(
    ax: Axes, xs: np.ndarray, ys: np.ndarray, codes: np.ndarray, colours: list[str]
) -> None:
    """Shade the plane by the most frequent winner among the nearest sampled points."""
    gx, gy = np.meshgrid(
        np.linspace(xs.min(), xs.max(), GRID), np.linspace(ys.min(), ys.max(), GRID)
    )
    span = np.array([np.ptp(xs) or 1.0, np.ptp(ys) or 1.0])
    distance = np.hypot((gx.ravel()[:, None] - xs) / span[0], (gy.ravel()[:, None] - ys) / span[1])
    nearest = np.argsort(distance, axis=1)[:, : min(NEIGHBOURS, len(xs))]
    votes = np.apply_along_axis(np.bincount, 1, codes[nearest], minlength=len(colours))
    rgb = np.array([to_rgb(c) for c in colours])
    ax.imshow(rgb[votes.argmax(axis=1)].reshape(GRID, GRID, 3), origin="lower", alpha=0.25,
              extent=(xs.min(), xs.max(), ys.min(), ys.max()), aspect="auto")  # fmt: skip


def explore_figures(
    analysis: Analysis, inputs: Sequence[str], scenarios: Sequence[str]
) -> dict[str, Figure]:
    """Every chart of an exploration, by file name."""
    primary = analysis.decision.kpi
    objective_kpis = list(analysis.robustness["kpi"].drop_duplicates())
    kpis = [k.removeprefix("min:") for k in objective_kpis]
    main = primary.removeprefix("min:")
    ranked = [i for i in analysis.importance["input"] if i in inputs] or list(inputs)
    pair = (ranked + [i for i in inputs if i not in ranked])[:2]
    x, y = pair[0], (pair[1] if len(pair) == 2 else None)
    points = analysis.outcomes.drop_duplicates("sample").set_index("sample")
    points = points.loc[analysis.holds.index, list(inputs)].assign(condition=analysis.holds)
    return {
        "kpi_distribution": kpi_distribution(analysis.outcomes, kpis[:3], scenarios),
        "regret": regret_chart(analysis.outcomes, main, scenarios),
        "win_probability": win_matrix(analysis.robustness, primary, scenarios),
        "prim_tradeoff": prim_tradeoff(analysis.trajectory),
        "prim_box": prim_box(points, analysis.boxes, x, y, analysis.condition),
        "decision_map": decision_map(
            analysis.outcomes, main, not primary.startswith("min:"), x, y, scenarios
        ),  # fmt: skip
    }
