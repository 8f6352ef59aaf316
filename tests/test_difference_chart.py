"""The chart of differences to the baseline: each KPI in its own unit on its own axis,
a percentage only beside money and counts whose baseline is far from zero (so never below
-100% for a count), money in the scenario's currency, and no text drawn over other text."""

from __future__ import annotations

import itertools

import matplotlib.text
import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from channelsim.output import charts

KPIS = ["revenue", "reps_active", "market_share", "conflicts"]
BASE = {"revenue": 1e6, "reps_active": 30.0, "market_share": 0.3, "conflicts": 0.0}


def tables(others: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(0)
    names = ["base"] + [f"scenario_{i}" for i in range(others)]
    summary, differences = [], []
    for name in names:
        for kpi in KPIS:
            mean = BASE[kpi] * (1 + rng.uniform(-0.9, 0.9)) if name != "base" else BASE[kpi]
            if kpi == "conflicts" and name != "base":
                mean = rng.uniform(5, 50)
            half = 0.05 * max(abs(mean), 1)
            summary.append(
                {
                    "scenario": name,
                    "kpi": kpi,
                    "mean": mean,
                    "ci_low": mean - half,
                    "ci_high": mean + half,
                    "n": 5,
                }
            )
            diff = mean - BASE[kpi]
            differences.append(
                {
                    "scenario": name,
                    "baseline": "base",
                    "kpi": kpi,
                    "mean_diff": diff,
                    "ci_low": diff - half,
                    "ci_high": diff + half,
                    "p_value": 0.01 if name != "base" else 1.0,
                    "n": 5,
                }
            )
    return pd.DataFrame(summary), pd.DataFrame(differences)


def visible_texts(fig) -> list:
    canvas = FigureCanvasAgg(fig)  # chart figures come without a canvas (no pyplot)
    canvas.draw()
    renderer = canvas.get_renderer()
    seen, out = set(), []
    for artist in fig.findobj(matplotlib.text.Text):
        if id(artist) in seen or not artist.get_visible() or not artist.get_text().strip():
            continue
        seen.add(id(artist))
        box = artist.get_window_extent(renderer)
        if box.width > 0:
            out.append((artist.get_text(), box))
    return out


@pytest.mark.parametrize("others", [1, 2, 4])
def test_no_text_is_drawn_over_other_text(others: int) -> None:
    summary, differences = tables(others)
    fig = charts.differences_to_baseline(differences, summary, "EUR")
    overlaps = [
        (a, b) for (a, x), (b, y) in itertools.combinations(visible_texts(fig), 2) if x.overlaps(y)
    ]
    assert overlaps == []


def test_each_kpi_is_drawn_in_its_own_unit_and_money_in_the_currency() -> None:
    summary, differences = tables(2)
    fig = charts.differences_to_baseline(differences, summary, "EUR")
    units = dict(ax.get_ylabel().split("\n") for ax in fig.axes)
    assert units["revenue"] in ("EUR thousands", "EUR millions")
    assert units["reps_active"] == "reps" and units["market_share"] == "share"


def test_percentages_only_where_the_baseline_is_far_from_zero() -> None:
    summary, differences = tables(2)
    fig = charts.differences_to_baseline(differences, summary)
    percent = {
        ax.get_ylabel().split("\n")[0]: [
            t.get_text() for t in ax.texts if t.get_text().endswith("%")
        ]
        for ax in fig.axes
    }
    assert percent["conflicts"] == [] and percent["market_share"] == []
    values = [float(p.rstrip("%")) for p in percent["reps_active"] + percent["revenue"]]
    assert len(values) == 4 and min(values) >= -100
