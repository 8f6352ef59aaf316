"""Figures of a sweep. Every function takes DataFrames and returns a Figure.

Runs tables have one row per (point, replicate) with a column per swept parameter (its
dotted path), `status` and every KPI; sensitivity tables are the long tables of
`channelsim.experiments.sensitivity.analyse`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from channelsim.experiments.stats import mean_ci
from channelsim.output.display import number
from channelsim.output.figures import margins, spacing, subplots, text_width
from channelsim.output.units import kpi_unit
from channelsim.storage.results import safe_name

HEADLINE = ("company_profit", "revenue", "market_share", "channel_margin")
MAX_HUES = 8


def headline_kpis(columns: Sequence[str]) -> list[str]:
    """The KPIs charted after every sweep, those present in the table."""
    return [k for k in HEADLINE if k in columns]


def _numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def _ok(runs: pd.DataFrame) -> pd.DataFrame:
    return runs[runs["status"] == "ok"] if "status" in runs else runs


def _panels(count: int, width: float, height: float) -> tuple[Figure, list]:
    cols = min(count, 2)
    rows = math.ceil(count / cols)
    fig, axes = subplots(rows, cols, width * cols, height * rows)
    flat = [ax for row in axes for ax in row]
    for ax in flat[count:]:
        ax.set_visible(False)
    return fig, flat[:count]


def kpi_vs_param(runs: pd.DataFrame, kpis: Sequence[str], x: str, hue: str | None = None) -> Figure:
    """Mean KPI with its 95% CI band against one parameter, a line per value of `hue`.

    One panel per KPI. Runs that share (hue, x) are pooled, so other swept parameters
    are averaged over.
    """
    ok = _ok(runs)
    levels = list(dict.fromkeys(ok[x].sort_values()))
    numeric = _numeric(ok[x])
    position = {v: (float(v) if numeric else i) for i, v in enumerate(levels)}
    fig, axes = _panels(len(kpis), 6, 3.8)
    for ax, kpi in zip(axes, kpis, strict=True):
        groups = ok.groupby(hue, sort=True) if hue else [(None, ok)]
        for name, frame in groups:
            cells = sorted(
                (position[v], *mean_ci(f[kpi].to_numpy())[:4]) for v, f in frame.groupby(x)
            )
            xs, means, _, lows, highs = (np.array(c, dtype=float) for c in zip(*cells, strict=True))
            (line,) = ax.plot(xs, means, marker="o", label=f"{hue} = {name}" if hue else kpi)
            ax.fill_between(xs, lows, highs, color=line.get_color(), alpha=0.2)
        if not numeric:
            ax.set_xticks(list(position.values()), [str(v) for v in levels])
        ax.set_xlabel(x)
        ax.set_ylabel(kpi_unit(kpi))
        ax.ticklabel_format(axis="y", style="plain", useOffset=False)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _pos: number(value)))
        ax.set_title(kpi)
        if hue:
            ax.legend(fontsize=7)
    fig.suptitle(f"KPIs against {x}: mean and 95% CI over runs")
    margins(fig, left=0.9, right=0.2, bottom=0.55, top=0.65, wspace=0.3, hspace=0.45)
    return fig


def kpi_heatmap(runs: pd.DataFrame, kpis: Sequence[str], x: str, y: str) -> Figure:
    """Mean KPI over a grid of two parameters, one panel per KPI (others averaged over)."""
    ok = _ok(runs)
    shape = (ok[x].nunique(), ok[y].nunique())
    fig, axes = _panels(len(kpis), 1.1 * shape[0] + 3.5, 0.55 * shape[1] + 2.2)
    for ax, kpi in zip(axes, kpis, strict=True):
        table = ok.pivot_table(index=y, columns=x, values=kpi, aggfunc="mean")
        values = table.to_numpy()
        image = ax.imshow(values, aspect="auto", cmap="viridis", origin="lower")
        ax.set_xticks(range(table.shape[1]), [str(v) for v in table.columns], rotation=30)
        ax.set_yticks(range(table.shape[0]), [str(v) for v in table.index])
        if table.size <= 144:
            middle = np.nanmean(values)
            for (i, j), value in np.ndenumerate(values):
                colour = "black" if value > middle else "white"
                ax.text(j, i, number(value), ha="center", va="center", fontsize=7, color=colour)
        ax.set_xlabel(x)
        ax.set_ylabel(y)
        ax.set_title(kpi)
        fig.colorbar(image, ax=ax)
    fig.suptitle("Mean over replicates")
    left = text_width(ok[y].unique()) + 0.5  # the tick labels and the axis label
    gap = spacing(fig, min(len(kpis), 2), left, 0.2, left + 0.6)  # and the colour bar's
    margins(fig, left=left, right=0.2, bottom=1.0, top=0.65, wspace=gap, hspace=0.9)
    return fig


def sensitivity_bars(table: pd.DataFrame, kpis: Sequence[str]) -> Figure:
    """Tornado chart per KPI: parameters ranked by ST (Sobol) or mu* (Morris), with CIs."""
    kpis = [k for k in kpis if k in set(table["kpi"])]
    params = table["parameter"].nunique()
    fig, axes = _panels(len(kpis), 5.5, 0.5 * params + 1.8)
    sobol = "ST" in table.columns
    for ax, kpi in zip(axes, kpis, strict=True):
        frame = table[table["kpi"] == kpi]
        key = "ST" if sobol else "mu_star"
        frame = frame.sort_values(key, na_position="first")
        ys = np.arange(len(frame))
        if sobol:
            ax.barh(ys + 0.2, frame["ST"], 0.4, xerr=frame["ST_conf"], label="total (ST)")
            ax.barh(ys - 0.2, frame["S1"], 0.4, xerr=frame["S1_conf"], label="first order (S1)")
            ax.axvline(0, color="black", linewidth=0.8)
        else:
            ax.barh(ys, frame["mu_star"], 0.6, xerr=frame["mu_star_conf"], label="mu*")
            ax.plot(frame["sigma"], ys, "k|", markersize=12, label="sigma")
        ax.set_yticks(ys, list(frame["parameter"]))
        ax.set_title(kpi)
        ax.legend(fontsize=7, loc="lower right")
    method = "Sobol indices" if sobol else "Morris screening"
    fig.suptitle(f"{method} of the replicate means (whiskers: 95% bootstrap CIs)")
    left = text_width(table["parameter"].unique()) + 0.2
    gap = spacing(fig, min(len(kpis), 2), left, 0.2, left + 0.3)
    margins(fig, left=left, right=0.2, bottom=0.45, top=0.7, wspace=gap, hspace=0.6)
    return fig


def scatter_matrix(runs: pd.DataFrame, params: Sequence[str], kpi: str) -> Figure:
    """Pairs of parameters coloured by the point's mean KPI; the diagonal is KPI vs parameter."""
    ok = _ok(runs)
    points = ok.groupby("point").agg({**{p: "first" for p in params}, kpi: "mean"})
    coded, labels = {}, {}
    for p in params:
        if _numeric(points[p]):
            coded[p] = points[p]
        else:
            categories = points[p].astype(str).astype("category")
            coded[p] = categories.cat.codes
            labels[p] = list(categories.cat.categories)
    n = len(params)
    fig, axes = subplots(n, n, 2.6 * n + 1.5, 2.4 * n + 0.8)
    colour = points[kpi].to_numpy()
    image = None
    for i, row_param in enumerate(params):
        for j, col_param in enumerate(params):
            ax = axes[i][j]
            if i == j:
                ax.scatter(coded[col_param], colour, s=8, color="#444444")
                ax.set_title(f"y: {kpi}", fontsize=7)
            else:
                image = ax.scatter(
                    coded[col_param], coded[row_param], c=colour, s=10, cmap="viridis"
                )
                if row_param in labels:
                    names = labels[row_param] if j == 0 else [""] * len(labels[row_param])
                    ax.set_yticks(range(len(names)), names)
            if col_param in labels:
                ax.set_xticks(range(len(labels[col_param])), labels[col_param], rotation=20)
            if j == 0:
                ax.set_ylabel(row_param if i else kpi, fontsize=7)
            if i == n - 1:
                ax.set_xlabel(col_param, fontsize=7)
            ax.tick_params(labelsize=6)
    fig.subplots_adjust(hspace=0.4, wspace=0.3)
    if image is not None:
        fig.colorbar(image, ax=axes, label=f"{kpi} (mean over replicates)", shrink=0.8)
    fig.suptitle(f"Design points coloured by {kpi}")
    return fig


def sweep_figures(
    runs: pd.DataFrame,
    params: Sequence[str],
    design: str,
    sensitivity: pd.DataFrame | None = None,
) -> dict[str, Figure]:
    """The charts written to DIR/charts after a sweep, chosen by design."""
    kpis = headline_kpis(runs.columns)
    figures: dict[str, Figure] = {}
    if design == "grid":
        varied = [p for p in params if runs[p].nunique() > 1] or list(params)
        x = next((p for p in varied if _numeric(runs[p])), varied[0])
        others = [p for p in varied if p != x]
        hue = next((p for p in others if runs[p].nunique() <= MAX_HUES), None)
        figures[f"kpis_vs_{safe_name(x)}"] = kpi_vs_param(runs, kpis, x, hue)
        if others:
            name = f"heatmap_{safe_name(x)}_{safe_name(others[0])}"
            figures[name] = kpi_heatmap(runs, kpis, x, others[0])
    elif design == "lhs" and kpis:
        figures[f"scatter_matrix_{kpis[0]}"] = scatter_matrix(runs, params, kpis[0])
    if sensitivity is not None:
        figures.update(sensitivity_figures(sensitivity))
    return figures


def sensitivity_figures(table: pd.DataFrame) -> dict[str, Figure]:
    """The tornado chart of the headline KPIs."""
    kpis = headline_kpis(list(dict.fromkeys(table["kpi"])))
    return {"sensitivity": sensitivity_bars(table, kpis)} if kpis else {}
