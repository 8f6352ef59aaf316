"""Figures from tidy tables. Every function takes DataFrames and returns a Figure.

Weekly tables have columns (scenario), replicate, week and the metrics; KPI tables have one
row per run. Each scenario keeps one colour in every figure (`scenario_colours`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from channelsim.results import atomic_write  # noqa: E402

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
    "ga_margin": ("General agents' margin", "#ff7f0e"),
    "dealer_margin": ("Dealers' margin", "#ffbb78"),
}


def scenario_colours(scenarios: Sequence[str]) -> dict[str, str]:
    """A fixed colour per scenario, in the order the scenarios were given."""
    palette = plt.get_cmap("tab10").colors
    return {name: matplotlib.colors.to_hex(palette[i % 10]) for i, name in enumerate(scenarios)}


def _scenarios(frame: pd.DataFrame) -> list[str]:
    return list(dict.fromkeys(frame["scenario"])) if "scenario" in frame else [""]


def _per_scenario(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    return frame[frame["scenario"] == name] if "scenario" in frame else frame


def _weekly_mean(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    return frame.groupby("week")[list(columns)].mean()


def revenue_by_channel(weekly: pd.DataFrame) -> Figure:
    """Stacked weekly revenue by channel (mean over replicates), one panel per scenario."""
    names = _scenarios(weekly)
    fig, axes = plt.subplots(
        1, len(names), figsize=(5 * len(names), 3.8), sharey=True, squeeze=False
    )
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
    axes[0][0].set_ylabel("revenue per week (thousands)")
    axes[0][-1].legend(loc="upper right", fontsize=8)
    fig.suptitle("Revenue by channel over time (mean over replicates)")
    fig.tight_layout()
    return fig


def _band(ax, frame: pd.DataFrame, column: str, colour: str, label: str, rolling: int = 1) -> None:
    table = frame.pivot_table(index="week", columns="replicate", values=column)
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


def metric_over_time(
    weekly: pd.DataFrame, column: str, ylabel: str, title: str, rolling: int = 1
) -> Figure:
    """One metric per week: mean across replicates with a 5-95% band, a line per scenario."""
    names = _scenarios(weekly)
    colours = scenario_colours(names)
    fig, ax = plt.subplots(figsize=(7, 4))
    for name in names:
        _band(ax, _per_scenario(weekly, name), column, colours[name], name or column, rolling)
    ax.set_xlabel("week")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def customers_and_churn(weekly: pd.DataFrame) -> Figure:
    """Active customers and weekly churn, mean with a 5-95% band across replicates."""
    names = _scenarios(weekly)
    colours = scenario_colours(names)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for name in names:
        frame = _per_scenario(weekly, name)
        _band(left, frame, "customers_active", colours[name], name or "customers active")
        _band(right, frame, "churned_customers", colours[name], name or "churned", rolling=4)
    left.set_title("Customers buying from the company")
    left.set_ylabel("customers")
    right.set_title("Customers lost to the competitor (4-week mean)")
    right.set_ylabel("customers per week")
    for ax in (left, right):
        ax.set_xlabel("week")
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def conflicts_and_prices(weekly: pd.DataFrame) -> Figure:
    """Rep-dealer conflicts per week and the average price index, per scenario."""
    names = _scenarios(weekly)
    colours = scenario_colours(names)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for name in names:
        frame = _per_scenario(weekly, name)
        _band(left, frame, "conflicts", colours[name], name or "conflicts", rolling=4)
        _band(right, frame, "avg_price_index", colours[name], name or "price index", rolling=4)
    left.set_title("Rep-dealer conflicts (4-week mean)")
    left.set_ylabel("conflicts per week")
    right.set_title("Average price paid / list price (4-week mean)")
    right.set_ylabel("price index")
    for ax in (left, right):
        ax.set_xlabel("week")
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def where_the_money_goes(kpis: pd.DataFrame) -> Figure:
    """Each scenario's customer money split into company profit, costs and channel margins."""
    names = _scenarios(kpis)
    fig, ax = plt.subplots(figsize=(max(6, 2.2 * len(names)), 4.5))
    bottoms = [0.0] * len(names)
    for column, (label, colour) in MONEY_PARTS.items():
        values = []
        for name in names:
            frame = _per_scenario(kpis, name)
            part = frame[column].mean()
            if column == "telesales_cost":
                part += frame["online_cost"].mean()
            values.append(part / max(frame["revenue"].mean(), 1e-12) * 100)
        ax.bar(names or ["run"], values, bottom=bottoms, color=colour, label=label)
        bottoms = [b + v for b, v in zip(bottoms, values, strict=True)]
    ax.axhline(100, color="black", linewidth=0.8)
    ax.set_ylabel("% of what customers paid")
    ax.set_title("Where each unit of customer money goes (mean over replicates)")
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.tight_layout()
    return fig


def run_charts(kpis: pd.DataFrame, weekly: pd.DataFrame) -> dict[str, Figure]:
    """The standard set of charts for one or more scenarios."""
    return {
        "revenue_by_channel": revenue_by_channel(weekly),
        "customers_and_churn": customers_and_churn(weekly),
        "conflicts_and_prices": conflicts_and_prices(weekly),
        "where_the_money_goes": where_the_money_goes(kpis),
    }


def save_figures(figures: dict[str, Figure], folder: Path) -> list[Path]:
    """Write each figure as PNG (atomically) and close it."""
    paths = []
    for name, fig in figures.items():
        path = folder / f"{name}.png"
        atomic_write(path, lambda tmp, fig=fig: fig.savefig(tmp, format="png", dpi=110))
        plt.close(fig)
        paths.append(path)
    return paths
