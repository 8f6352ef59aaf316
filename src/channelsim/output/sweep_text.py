"""What the terminal shows after a sweep and for sensitivity indices (text, no numbers made)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from channelsim.output.display import number

if TYPE_CHECKING:
    from channelsim.experiments.sweep_run import SweepResult


def report_text(result: SweepResult, params: list[str], limit: int = 12) -> str:
    """What the terminal shows after a sweep: runs, failures, lost workers, best points."""
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
    if result.sensitivity is not None:
        lines += ["", sensitivity_text(result.sensitivity)]
    lines += ["", f"Results in {result.folder}"]
    return "\n".join(lines)


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
