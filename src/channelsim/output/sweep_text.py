"""What the terminal shows after a sweep and for sensitivity indices (text, no numbers made)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from channelsim.output.display import number
from channelsim.scenario.reference import setting_limits

if TYPE_CHECKING:
    from channelsim.experiments.sweep_run import SweepResult
    from channelsim.scenario.schema import Scenario


def report_text(
    result: SweepResult, params: list[str], scenario: Scenario | None = None, limit: int = 12
) -> str:
    """What the terminal shows after a sweep: runs, failures, lost workers, best points
    (`scenario`, the swept one, tells which edges the schema allows to widen)."""
    lines = []
    if result.done_before:
        lines.append(f"resumed: {result.done_before} runs were already saved; ran {result.ran}")
    if result.lost_workers:
        lines.append(
            f"Dask: lost {len(result.lost_workers)} worker(s) "
            f"({', '.join(result.lost_workers)}); {result.rescheduled_chunks} chunk(s) "
            "rescheduled on other workers"
        )
    if len(result.failed):
        lines.append(f"FAILED runs: {len(result.failed)} (recorded in runs/ with their error)")
        for row in result.failed.head(5).itertuples(index=False):
            lines.append(
                f"  point {row.point} replicate {row.replicate} seed {row.seed}: {row.error}"
            )
    lines.extend(result.notes)
    kpi = "company_profit" if "company_profit" in set(result.summary["kpi"]) else None
    if kpi:
        table = result.summary[result.summary["kpi"] == kpi]
        table = table.sort_values("mean", ascending=False).head(limit)
        shown = pd.DataFrame(
            {
                "point": table["point"],
                **{p: table[p].map(_short) for p in params},
                f"{kpi} mean": table["mean"].map(number),
                "95% CI": [
                    "-" if np.isnan(lo) else f"[{number(lo)}, {number(hi)}]"
                    for lo, hi in zip(table["ci_low"], table["ci_high"], strict=True)
                ],
                "failed": table["failed"],
            }
        )
        title = f"Design points by mean {kpi}" + (
            f" (best {limit} of {result.summary['point'].nunique()})"
            if result.summary["point"].nunique() > limit
            else ""
        )
        lines += ["", title, shown.to_string(index=False)]
        lines += edge_notes(result.summary, params, kpi, scenario)
    if result.sensitivity is not None:
        lines += ["", sensitivity_text(result.sensitivity)]
    lines += ["", f"Results in {result.folder}"]
    return "\n".join(lines)


def edge_notes(
    summary: pd.DataFrame, params: list[str], kpi: str, scenario: Scenario | None = None
) -> list[str]:
    """A warning for each numeric lever whose best value (by mean `kpi`) is the lowest or
    highest value tried: the optimum may lie outside the swept range. Not at a bound of the
    schema (0 managers): there is nothing to widen past it."""
    table = summary[summary["kpi"] == kpi].dropna(subset=["mean"])
    if table.empty:
        return []
    best = table.loc[table["mean"].idxmax()]
    notes = []
    for p in params:
        values = pd.to_numeric(table[p], errors="coerce")
        if values.isna().any() or values.nunique() < 2:
            continue  # words (rules) have no edge; one value is no range
        value = float(values.loc[best.name])
        least, greatest = setting_limits(scenario, p) if scenario else (None, None)
        for edge, word, side, limit in (
            (values.min(), "lowest", "below", least),
            (values.max(), "highest", "above", greatest),
        ):
            if value == edge and value != limit:
                notes.append(
                    f"note: the best {kpi} is at the {word} value of {p} tried ({_short(value)}): "
                    f"the best may lie {side} it; widen the range"
                )
    return notes


def sensitivity_text(table: pd.DataFrame) -> str:
    """Parameters ranked by ST (Sobol) or mu* (Morris) for the headline KPIs."""
    from channelsim.output.display import number
    from channelsim.output.sweep_charts import HEADLINE

    key = "ST" if "ST" in table.columns else "mu_star"
    lines = []
    for kpi in HEADLINE:
        frame = table[table["kpi"] == kpi].sort_values(key, ascending=False)
        if len(frame):
            ranked = ", ".join(
                f"{r.parameter} {number(getattr(r, key))}" for r in frame.itertuples(index=False)
            )
            lines.append(f"{kpi} ({key}): {ranked}")
    return "\n".join(lines)


def _short(value: Any) -> str:
    """A swept value for the terminal: floats to 4 significant digits."""
    return f"{value:.4g}" if isinstance(value, float | np.floating) else str(value)
