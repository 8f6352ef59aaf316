"""Figures from tidy tables. Every function takes DataFrames and returns a Figure.

Weekly tables have columns (scenario), replicate, week and the metrics; KPI tables have one
row per run. Each scenario keeps one colour in every figure (`scenario_colours`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator

from channelsim.output.display import number
from channelsim.output.figures import legend_width, margins, spacing, subplots
from channelsim.output.rendering import Recipe, png_bytes
from channelsim.output.units import is_money, kpi_unit, measure, money
from channelsim.storage.results import atomic_write

CHANNEL_COLUMNS = {
    "revenue_direct": ("Reps (direct)", "#1f77b4"),
    "revenue_dealer": ("Dealers", "#ff7f0e"),
    "revenue_online": ("Online", "#2ca02c"),
    "revenue_telesales": ("Telesales", "#9467bd"),
}
MONEY_PARTS = {
    "company_profit": ("Company profit", "#1f77b4"),
    "cost_of_goods": ("Cost of goods", "#7f7f7f"),
    "rep_compensation": ("Rep pay", "#17becf"),
    "telesales_cost": ("Telesales & online cost", "#9467bd"),
    "claims": ("Claims", "#d62728"),
    "training_cost": ("Training & sales managers", "#2ca02c"),
    "ga_margin": ("General agents' margin", "#ff7f0e"),
    "dealer_margin": ("Dealers' margin", "#ffbb78"),
}
# KPIs drawn in the same part as a MONEY_PARTS column (absent in older results: counted as 0).
MONEY_PART_EXTRAS = {"telesales_cost": ("online_cost",), "training_cost": ("management_cost",)}


def money_part(kpis: pd.DataFrame, column: str) -> float:
    """Mean of one MONEY_PARTS column with the KPIs drawn in the same part (a KPI that older
    results lack counts as 0)."""
    columns = (column, *MONEY_PART_EXTRAS.get(column, ()))
    return float(sum(kpis[c].mean() for c in columns if c in kpis))


def scenario_colours(scenarios: Sequence[str]) -> dict[str, str]:
    """A fixed colour per scenario, in the order the scenarios were given."""
    palette = matplotlib.colormaps["tab10"].colors
    return {name: matplotlib.colors.to_hex(palette[i % 10]) for i, name in enumerate(scenarios)}


def _scenarios(frame: pd.DataFrame) -> list[str]:
    return list(dict.fromkeys(frame["scenario"])) if "scenario" in frame else [""]


def _per_scenario(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    return frame[frame["scenario"] == name] if "scenario" in frame else frame


def _weekly_mean(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    return frame.groupby("week")[list(columns)].mean()


def revenue_by_channel(weekly: pd.DataFrame, currency: str = "") -> Figure:
    """Stacked weekly revenue by channel (mean over replicates), one panel per scenario."""
    names = _scenarios(weekly)
    fig, axes = subplots(1, len(names), 5 * len(names), 3.8, sharey=True)
    for ax, name in zip(axes[0], names, strict=True):
        mean = _weekly_mean(_per_scenario(weekly, name), CHANNEL_COLUMNS)
        ax.stackplot(
            mean.index,
            [mean[c] / 1e3 for c in CHANNEL_COLUMNS],
            labels=[label for label, _ in CHANNEL_COLUMNS.values()],
            colors=[colour for _, colour in CHANNEL_COLUMNS.values()],
        )
        ax.set_title(name or "Revenue by channel")
        ax.set_xlabel("week")
        if not mean.to_numpy().any():
            no_data(ax, "no revenue in any week: nothing was sold")
        else:
            _mark_warmup(ax, weekly)
    axes[0][0].set_ylabel(f"revenue per week ({money(currency)} thousands)")
    _legend_beside(axes[0][-1])
    fig.suptitle("Revenue by channel over time (mean over replicates)")
    right = legend_width(label for label, _ in CHANNEL_COLUMNS.values()) + 0.1  # beside
    margins(fig, left=0.8, right=right, bottom=0.55, top=0.75, wspace=0.06)
    return fig


NO_DATA = "no data: this metric has no value in any week"


def no_data(ax, text: str = NO_DATA) -> None:
    """Say on the figure that a panel has nothing to draw, rather than leave it blank."""
    ax.text(
        0.5,
        0.5,
        text,
        transform=ax.transAxes,
        ha="center",
        va="center",
        fontsize=9,
        color="#555",
        wrap=True,
    )


def _mark_warmup(ax, weekly: pd.DataFrame) -> None:
    """Shade the warm-up weeks (numbered below 0): simulated, but in no KPI. The x label
    says so, where no line can run over it."""
    first = weekly["week"].min() if len(weekly) else 0
    if first < 0:
        ax.axvspan(first - 0.5, -0.5, color="#888", alpha=0.12, lw=0)
        ax.set_xlabel("week (shaded: warm-up, simulated but not in the KPIs)")


def _legend_beside(ax) -> None:
    """The scenarios' legend to the right of the plot, where it covers no line."""
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)


def _band(ax, frame: pd.DataFrame, column: str, colour: str, label: str, rolling: int = 1) -> bool:
    """Mean line and 5-95% band across replicates; False if the metric is empty every week."""
    # dropna=False keeps replicates whose metric is empty (NaN) in every week, e.g. the
    # price index of a run that sold nothing.
    table = frame.pivot_table(index="week", columns="replicate", values=column, dropna=False)
    if not np.isfinite(table.to_numpy(dtype=float)).any():
        return False
    if rolling > 1:
        table = table.rolling(rolling, min_periods=1).mean()
    ax.plot(table.index, table.mean(axis=1), color=colour, label=label)
    ax.fill_between(
        table.index,
        table.quantile(0.05, axis=1),
        table.quantile(0.95, axis=1),
        color=colour,
        alpha=0.2,
    )
    return True


def metric_over_time(
    weekly: pd.DataFrame, column: str, ylabel: str, title: str, rolling: int = 1
) -> Figure:
    """One metric per week: mean across replicates with a 5-95% band, a line per scenario."""
    names = _scenarios(weekly)
    colours = scenario_colours(names)
    fig, [[ax]] = subplots(1, 1, 7, 4)
    drawn = [
        _band(ax, _per_scenario(weekly, name), column, colours[name], name or column, rolling)
        for name in names
    ]
    ax.set_xlabel("week")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if any(drawn):
        _legend_beside(ax)
        _mark_warmup(ax, weekly)
    else:
        no_data(ax)
    right = legend_width(name or column for name in names) + 0.1  # the legend beside
    margins(fig, left=0.9, right=right, bottom=0.55, top=0.4)
    return fig


@dataclass(frozen=True)
class Panel:
    """One weekly metric in a panel: column, title, y label, rolling mean in weeks."""

    column: str
    title: str
    ylabel: str
    rolling: int = 1
    empty: str = NO_DATA


def weekly_panels(weekly: pd.DataFrame, panels: Sequence[Panel]) -> Figure:
    """Weekly metrics side by side: mean and 5-95% band across replicates, a line per scenario."""
    names = _scenarios(weekly)
    colours = scenario_colours(names)
    fig, axes = subplots(1, len(panels), 5.5 * len(panels), 4)
    for ax, panel in zip(axes[0], panels, strict=True):
        drawn = [
            _band(
                ax,
                _per_scenario(weekly, name),
                panel.column,
                colours[name],
                name or panel.column,
                panel.rolling,
            )
            for name in names
        ]
        ax.set_title(panel.title)
        ax.set_ylabel(panel.ylabel)
        ax.set_xlabel("week")
        if any(drawn):
            _legend_beside(ax)
            _mark_warmup(ax, weekly)
        else:
            no_data(ax, panel.empty)
    right = legend_width(name or p.column for name in names for p in panels) + 0.1
    gap = spacing(fig, len(panels), 0.9, right, right + 0.9)  # a legend, then the y labels
    margins(fig, left=0.9, right=right, bottom=0.55, top=0.4, wspace=gap)
    return fig


def customers_and_churn(weekly: pd.DataFrame) -> Figure:
    """Active customers and weekly churn."""
    return weekly_panels(
        weekly,
        [
            Panel("customers_active", "Customers buying from the company", "customers"),
            Panel(
                "churned_customers",
                "Customers lost to the competitor (4-week mean)",
                "customers per week",
                rolling=4,
            ),
        ],
    )


def conflicts_and_prices(weekly: pd.DataFrame) -> Figure:
    """Rep-dealer conflicts per week and the average price index."""
    return weekly_panels(
        weekly,
        [
            Panel("conflicts", "Rep-dealer conflicts (4-week mean)", "conflicts per week", 4),
            Panel(
                "avg_price_index",
                "Average price paid / list price (4-week mean)",
                "price index",
                4,
                empty="no data: nothing was sold in any week, so no price was paid",
            ),
        ],
    )


def where_the_money_goes(kpis: pd.DataFrame) -> Figure:
    """Each scenario's customer money split into company profit, costs and channel margins."""
    names = _scenarios(kpis)
    fig, [[ax]] = subplots(1, 1, max(8, 2.2 * len(names) + 3), 4.5)
    revenue = {name: _per_scenario(kpis, name)["revenue"].mean() for name in names}
    # A scenario that sold nothing has no customer money to split: no bar, a note instead.
    sold = [name for name in names if revenue[name] > 0]
    # Parts above zero stack up from 0; a loss (negative profit) hangs below 0, and the
    # parts above then add up to more than 100%: costs exceeded what customers paid.
    up, down = np.zeros(len(sold)), np.zeros(len(sold))
    for column, (label, colour) in MONEY_PARTS.items():
        values = []
        for name in sold:
            frame = _per_scenario(kpis, name)
            part = money_part(frame, column)
            values.append(part / revenue[name] * 100)
        values = np.asarray(values)
        ax.bar(sold, values, bottom=np.where(values >= 0, up, down), color=colour, label=label)
        up += np.where(values >= 0, values, 0.0)
        down += np.where(values < 0, values, 0.0)
    unsold = [name or "the run" for name in names if name not in sold]
    if not sold:
        ax.set_axis_off()
        no_data(ax, f"no sales, so no customer money to split: {', '.join(unsold)}")
    else:
        if unsold:
            ax.set_xlabel(f"no bar for {', '.join(unsold)}: no sales, no customer money")
        ax.axhline(100, color="black", linewidth=0.8)
        ax.axhline(0, color="black", linewidth=0.8)
        ax.set_ylim(min(-5.0, down.min() - 3), max(105.0, up.max() + 3))  # room above 100
        ax.set_ylabel("% of what customers paid (a loss below 0)")
        ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5))
    # Over the whole figure: the title is wider than the axes beside the legend.
    fig.suptitle("Where each unit of customer money goes (mean over replicates)")
    right = legend_width(label for label, _ in MONEY_PARTS.values()) + 0.1
    margins(fig, left=0.8, right=right, bottom=0.75 if unsold else 0.45, top=0.5)
    return fig


def run_recipes(kpis: pd.DataFrame, weekly: pd.DataFrame, currency: str = "") -> dict[str, Recipe]:
    """The standard set of charts for one or more scenarios, as recipes (`output.rendering`)."""
    return {
        "revenue_by_channel": partial(revenue_by_channel, weekly, currency),
        "customers_and_churn": partial(customers_and_churn, weekly),
        "conflicts_and_prices": partial(conflicts_and_prices, weekly),
        "where_the_money_goes": partial(where_the_money_goes, kpis),
    }


def save_figures(figures: dict[str, Figure], folder: Path) -> list[Path]:
    """Write each figure as PNG (atomically)."""
    paths = []
    for name, fig in figures.items():
        path = folder / f"{name}.png"
        atomic_write(path, lambda tmp, fig=fig: tmp.write_bytes(png_bytes(fig)))
        paths.append(path)
    return paths


# --- comparing scenarios ---------------------------------------------------------------

# KPIs shown together in one bar figure; names the model does not (yet) have are skipped.
KPI_GROUPS: dict[str, tuple[str, tuple[str, ...]]] = {
    "money": (
        "Money",
        (
            "revenue",
            "company_revenue",
            "company_profit",
            "channel_margin",
            "rep_compensation",
            "cost_of_goods",
            "telesales_cost",
            "online_cost",
            "claims",
            "revenue_direct",
            "revenue_dealer",
            "revenue_online",
            "revenue_telesales",
        ),
    ),
    "customers": (
        "Customers",
        (
            "market_share",
            "units",
            "customers_active",
            "new_customers",
            "repeat_purchase_rate",
            "churned_customers",
            "idle_customers",
            "customers_lost_rep_departure",
            "crm_share",
            "loss_ratio",
        ),
    ),
    "conflict": (
        "Rep-dealer conflict",
        (
            "conflicts",
            "conflict_price_erosion",
            "conflict_customers_to_reps",
            "conflict_revenue_to_reps",
            "conflict_margin_to_reps",
            "dealers_exited_dissatisfied",
            "conflict_exit_margin_at_risk",
            "avg_price_index",
        ),
    ),
    "sales_force": (
        "Sales force",
        (
            "reps_active",
            "rep_quits",
            "rep_attrition",
            "quota_attainment_mean",
            "pipeline_advance_rate",
            "revenue_telesales_share",
        ),
    ),
    "sales_management": (
        "Sales management",
        (
            "rep_skill_mean",
            "rep_attrition_high_skill",
            "coached_visits",
            "promotions",
            "forecast_accuracy",
            "forecast_bias",
            "training_cost",
            "management_cost",
            "career_pay",
        ),
    ),
    "dealers": (
        "General agents and dealers",
        ("ga_margin", "dealer_margin", "dealers_active", "dealers_exited", "dealer_profit_mean"),
    ),
}


def _scale(values: np.ndarray, unit: str) -> tuple[float, str]:
    """Divide big numbers by a thousand or a million so tick labels stay short; the label
    says so ('CNY millions')."""
    values = np.asarray(values, dtype=float)
    biggest = np.nanmax(np.abs(values)) if np.isfinite(values).any() else 0.0
    if biggest >= 1e6:
        return 1e6, f"{unit} millions"
    if biggest >= 1e4:
        return 1e3, f"{unit} thousands"
    return 1.0, unit


def _scenario_legend(fig: Figure, colours: dict[str, str]) -> None:
    handles = [Patch(color=colour, label=name) for name, colour in colours.items()]
    fig.legend(handles=handles, loc="upper right", fontsize=8, title="scenario")


def kpi_bars(summary: pd.DataFrame, kpis: Sequence[str], title: str, currency: str = "") -> Figure:
    """One small panel per KPI: the mean of each scenario with its 95% CI as an error bar.

    Panels have their own y axis because KPIs have different units; money panels all use
    one unit (the currency, in thousands or millions as the largest needs). KPIs that are
    zero or empty in every scenario are listed under the figure instead of drawn.
    """
    names = _scenarios(summary)
    colours = scenario_colours(names)
    shown, empty = [], []
    for kpi in kpis:
        means = summary.loc[summary["kpi"] == kpi, "mean"].to_numpy(dtype=float)
        (shown if np.nan_to_num(means).any() else empty).append(kpi)
    money_values = summary.loc[
        summary["kpi"].isin([k for k in shown if is_money(k)]), ["mean", "ci_low", "ci_high"]
    ].to_numpy(dtype=float)
    money_scale = _scale(money_values.ravel(), money(currency))
    cols = max(1, min(4, len(shown)))
    rows = max(1, -(-len(shown) // cols))
    fig, axes = subplots(rows, cols, 3.3 * cols + 1.6, 2.9 * rows + 0.9)
    for ax in axes.flat[len(shown) :]:
        ax.set_visible(False)
    for ax, kpi in zip(axes.flat, shown, strict=False):
        frame = summary[summary["kpi"] == kpi].set_index("scenario").reindex(names)
        _kpi_panel(ax, kpi, frame, colours, money_scale if is_money(kpi) else None, currency)
    fig.suptitle(f"{title}: mean per scenario with 95% confidence interval")
    _scenario_legend(fig, colours)
    if empty:
        fig.text(0.01, 0.01, "zero or empty in every scenario: " + ", ".join(empty), fontsize=7)
    margins(fig, left=0.75, right=1.5, bottom=0.9, top=0.75, wspace=0.45, hspace=0.75)
    return fig


def _kpi_panel(
    ax: Axes,
    kpi: str,
    frame: pd.DataFrame,
    colours: dict[str, str],
    scale: tuple[float, str] | None,
    currency: str,
) -> None:
    """One KPI's bars with their intervals, in `scale` (the money unit) or its own unit."""
    names = list(frame.index)
    mean = frame["mean"].to_numpy(dtype=float)
    low = frame["ci_low"].to_numpy(dtype=float)
    high = frame["ci_high"].to_numpy(dtype=float)
    factor, unit = scale or _scale(np.concatenate([mean, low, high]), kpi_unit(kpi, currency))
    errors = np.nan_to_num(np.vstack([mean - low, high - mean])) / factor
    # A scenario without a value (no sellers, no dealers) gets no bar, not a bar of 0.
    has = np.isfinite(mean)
    x = np.arange(len(names))
    ax.bar(
        x[has],
        mean[has] / factor,
        yerr=errors[:, has],
        capsize=4,
        color=[colours[n] for n, h in zip(names, has, strict=True) if h],
    )
    for i in x[~has]:
        ax.text(i, 0.03, "no value", transform=ax.get_xaxis_transform(), rotation=90,
                ha="center", va="bottom", fontsize=7, color="#666")  # fmt: skip
    ax.set_xlim(-0.6, len(names) - 0.4)
    ax.set_xticks(x, names, rotation=20, fontsize=7, ha="right")
    ax.set_title(kpi, fontsize=9)
    ax.set_ylabel(unit, fontsize=8)
    ax.tick_params(axis="y", labelsize=7)


def kpi_group_recipes(summary: pd.DataFrame, currency: str = "") -> dict[str, Recipe]:
    """A `kpi_bars` recipe per KPI group, skipping KPI names the summary does not have."""
    present = set(summary["kpi"])
    recipes = {}
    for key, (title, names) in KPI_GROUPS.items():
        kpis = [k for k in names if k in present]
        if kpis:
            recipes[f"kpis_{key}"] = partial(kpi_bars, summary, kpis, title, currency)
    return recipes


def reps_and_dealers(weekly: pd.DataFrame) -> Figure:
    """Reps in post and dealers trading each week."""
    return weekly_panels(
        weekly,
        [
            Panel("reps_active", "Reps in post", "reps"),
            Panel("dealers_active", "Dealers trading", "dealers"),
        ],
    )


def _far_from_zero(mean: float, low: float, high: float) -> bool:
    """A baseline a percentage can be taken of: positive, and its interval excludes zero
    (a percentage of a loss reads the wrong way round)."""
    return bool(np.isfinite(mean) and mean > 0 and low > 0)


def differences_to_baseline(
    differences: pd.DataFrame, summary: pd.DataFrame, currency: str = ""
) -> Figure:
    """Every KPI's paired difference to the baseline, in the KPI's own unit, with its CI.

    One row per KPI, each with its own axis and unit, so a count is never shown as an
    impossible percentage. Beside each row, the difference in % of the baseline's mean for
    money and counts whose baseline is far from zero (its interval excludes zero): at a
    glance which effects are large. KPIs that do not differ in any replicate, or have no
    value, are listed under the chart.
    """
    baseline = str(differences["baseline"].iloc[0])
    names = _scenarios(summary)
    colours = scenario_colours(names)
    others = [n for n in names if n != baseline]
    base = summary[summary["scenario"] == baseline].set_index("kpi")
    rows = differences[differences["scenario"].isin(others)]
    kpis, same, empty = [], [], []
    for kpi in dict.fromkeys(differences["kpi"]):
        values = rows.loc[rows["kpi"] == kpi, ["mean_diff", "ci_low", "ci_high"]]
        values = values.to_numpy(dtype=float)
        if not np.isfinite(values[:, 0]).any():
            empty.append(kpi)
        elif not np.nan_to_num(values).any():
            same.append(kpi)
        else:
            kpis.append(kpi)
    row_height = max(0.42, 0.17 * len(others))
    legend_rows = -(-len(others) // 3)
    height = row_height * max(len(kpis), 1) + 1.7 + 0.25 * legend_rows
    fig = Figure(figsize=(10, height))
    left, right = 2.4 / 10, 1 - 1.6 / 10
    fig.subplots_adjust(
        left=left,
        right=right,
        top=1 - (1.1 + 0.25 * legend_rows) / height,
        bottom=0.9 / height,
        hspace=0.9,
    )
    axes = fig.subplots(max(len(kpis), 1), 1, squeeze=False)[:, 0]
    offsets = (np.arange(len(others)) - (len(others) - 1) / 2) * 0.8 / max(len(others), 1)
    for ax, kpi in zip(axes, kpis, strict=False):
        frame = rows[rows["kpi"] == kpi].set_index("scenario").reindex(others)
        mid = frame["mean_diff"].to_numpy(dtype=float)
        low = frame["ci_low"].to_numpy(dtype=float)
        high = frame["ci_high"].to_numpy(dtype=float)
        factor, unit = _scale(np.concatenate([mid, low, high]), kpi_unit(kpi, currency))
        significant = frame["p_value"].to_numpy(dtype=float) < 0.05
        for j, name in enumerate(others):
            y = -offsets[j]
            if np.isfinite(low[j]):
                ax.hlines(y, low[j] / factor, high[j] / factor, color=colours[name], lw=1.6)
            ax.scatter(
                [mid[j] / factor],
                [y],
                color=colours[name] if significant[j] else "white",
                edgecolors=colours[name],
                zorder=3,
                s=26,
            )
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_ylim(-0.5, 0.5)
        ax.set_yticks([])
        ax.set_ylabel(f"{kpi}\n{unit}", rotation=0, ha="right", va="center", fontsize=7.5)
        ax.xaxis.set_major_locator(MaxNLocator(5))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _pos: number(value)))
        ax.tick_params(axis="x", labelsize=7, pad=1)
        ax.grid(axis="x", alpha=0.3)
        b = base.loc[kpi] if kpi in base.index else None
        percent = (
            b is not None
            and measure(kpi) in ("amount", "count")
            and _far_from_zero(float(b["mean"]), float(b["ci_low"]), float(b["ci_high"]))
        )
        step = min(0.1, 0.24 / max(len(others), 1))  # columns side by side: no overlap
        for j, name in enumerate(others):
            if percent and np.isfinite(mid[j]):
                ax.text(
                    1.02 + j * step,
                    0.5,
                    f"{mid[j] / abs(float(b['mean'])) * 100:+.0f}%",
                    transform=ax.transAxes,
                    fontsize=7,
                    va="center",
                    color=colours[name],
                )
    if not kpis:
        no_data(axes[0], f"no KPI differs from {baseline} in any replicate")
        axes[0].set_axis_off()
    fig.suptitle(
        f"Each KPI against the baseline {baseline!r}: paired difference and 95% interval, "
        "in the KPI's own unit\n(filled: significant at 5%; right: in % of the baseline, "
        "where the baseline is far from zero)",
        fontsize=9,
    )
    handles = [Patch(color=colours[n], label=f"{n} − {baseline}") for n in others]
    fig.legend(
        handles=handles,
        fontsize=8,
        loc="upper center",
        bbox_to_anchor=(0.5, 1 - 0.6 / height),
        ncol=min(3, len(others)),
        frameon=False,
    )
    notes = []
    if same:
        notes.append(f"no difference in any replicate: {', '.join(same)}")
    if empty:
        notes.append(f"no value: {', '.join(empty)}")
    if notes:
        fig.text(0.01, 0.08 / height, "; ".join(notes), fontsize=7, wrap=True)
    return fig


def compare_recipes(
    kpis: pd.DataFrame,
    weekly: pd.DataFrame,
    summary: pd.DataFrame,
    differences: pd.DataFrame,
    currency: str = "",
) -> dict[str, Recipe]:
    """Every chart of a comparison as a recipe (`output.rendering`), in the report's order."""
    unit = money(currency)
    return {
        "differences_to_baseline": partial(differences_to_baseline, differences, summary, currency),
        **kpi_group_recipes(summary, currency),
        "weekly_company_profit": partial(
            metric_over_time,
            weekly,
            "company_profit",
            f"company profit per week ({unit}, 4-week mean)",
            "Company profit over time (mean and 5-95% band across replicates)",
            rolling=4,
        ),
        "weekly_revenue": partial(
            metric_over_time,
            weekly,
            "revenue",
            f"revenue per week ({unit}, 4-week mean)",
            "Revenue over time (mean and 5-95% band across replicates)",
            rolling=4,
        ),
        "customers_and_churn": partial(customers_and_churn, weekly),
        "conflicts_and_prices": partial(conflicts_and_prices, weekly),
        "reps_and_dealers": partial(reps_and_dealers, weekly),
        "revenue_by_channel": partial(revenue_by_channel, weekly, currency),
        "where_the_money_goes": partial(where_the_money_goes, kpis),
    }
