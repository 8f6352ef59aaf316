"""Plain-text tables for the terminal."""

from __future__ import annotations

import math

import pandas as pd

from channelsim.metrics import KPI_DEFINITIONS


def number(value: float) -> str:
    """Readable number: thousands separators for big values, 3 significant decimals for small."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:,.1f}"
    return f"{value:.3f}"


def summary_table(summary: pd.DataFrame) -> str:
    """KPI, mean and 95% confidence interval, one line per KPI."""
    rows = [("KPI", "mean", "95% CI")]
    for row in summary.itertuples():
        ci = "-" if math.isnan(row.ci_low) else f"[{number(row.ci_low)}, {number(row.ci_high)}]"
        rows.append((row.kpi, number(row.mean), ci))
    return _columns(rows)


def _columns(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for k, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        lines.append("  ".join(cells))
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def kpi_glossary() -> str:
    return "\n".join(f"{name}: {text}" for name, text in KPI_DEFINITIONS.items())
