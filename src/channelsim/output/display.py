"""Plain-text tables for the terminal."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

from channelsim.model import kpis


def number(value: float) -> str:
    """Readable number: thousands separators for big values, 3 significant decimals for small."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if value == 0:
        return "0"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:,.1f}"
    return f"{value:.3f}"


def kpi_number(kpi: str, value: float) -> str:
    """A KPI's value printed as its record says (`kpis.KPI.format`); other names as `number`."""
    record = kpis.BY_NAME.get(kpi)
    return number(value) if record is None else record.format(value)


def kpi_decimals(kpi: str, value: float) -> int | None:
    """Decimals the KPI's record prints `value` with (None for a name that is not a KPI)."""
    record = kpis.BY_NAME.get(kpi)
    return None if record is None or math.isnan(value) else record.decimals(value)


def summary_table(summary: pd.DataFrame) -> str:
    """KPI, mean and 95% confidence interval, one line per KPI."""
    rows = [("KPI", "mean", "95% CI")]
    for row in summary.itertuples():
        low, high = kpi_number(row.kpi, row.ci_low), kpi_number(row.kpi, row.ci_high)
        ci = "-" if math.isnan(row.ci_low) else f"[{low}, {high}]"
        rows.append((row.kpi, kpi_number(row.kpi, row.mean), ci))
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
    """Every KPI in column order: `name: definition [unit: ...; kind: ...]`."""
    return "\n".join(
        f"{k.name}: {k.definition} [unit: {k.unit}; kind: {k.kind}]" for k in kpis.CATALOGUE
    )


def comparison_cells(
    summary: pd.DataFrame, differences: pd.DataFrame, alpha: float = 0.05
) -> pd.DataFrame:
    """The comparison table's cells: KPIs as rows, scenarios as columns, `mean ± half-width`
    and `*` where the paired difference to the baseline is significant at `alpha`."""
    names = list(dict.fromkeys(summary["scenario"]))
    baseline = str(differences["baseline"].iloc[0])
    means = summary.set_index(["kpi", "scenario"])
    p_values = differences.set_index(["kpi", "scenario"])["p_value"]
    kpis = list(dict.fromkeys(summary["kpi"]))
    cells = {}
    for name in names:
        column = []
        for kpi in kpis:
            row = means.loc[(kpi, name)]
            mark = " " if name == baseline or not p_values.get((kpi, name), 1.0) < alpha else "*"
            text = mean_pm(
                row["mean"], row["ci_low"], row["ci_high"], kpi_decimals(kpi, row["mean"])
            )
            column.append(f"{text} {mark}")
        cells[f"{name} (baseline)" if name == baseline else name] = column
    return pd.DataFrame(cells, index=pd.Index(kpis, name="KPI"))


def comparison_legend(
    summary: pd.DataFrame, differences: pd.DataFrame, level: float = 0.95, alpha: float = 0.05
) -> str:
    """The line under the comparison table that says how to read it."""
    baseline = str(differences["baseline"].iloc[0])
    n = int(summary["n"].max())
    return (
        f"mean ± half-width of the {level:.0%} confidence interval over {n} replicates; "
        f"* = differs from {baseline} at the {alpha:.0%} level (paired t-test on replicates "
        "run with the same seeds); - = no value"
    )


def comparison_table(
    summary: pd.DataFrame, differences: pd.DataFrame, level: float = 0.95, alpha: float = 0.05
) -> str:
    """KPIs as rows, scenarios as columns, `mean ± half-width`, `*` where the paired
    difference to the baseline is significant; a legend line follows the table."""
    cells = comparison_cells(summary, differences, alpha)
    rows = [("KPI", *cells.columns)]
    rows += [(kpi, *row) for kpi, row in zip(cells.index, cells.to_numpy().tolist(), strict=True)]
    return _columns(rows) + "\n" + comparison_legend(summary, differences, level, alpha)


def mean_pm(mean: float, low: float, high: float, decimals: int | None = None) -> str:
    """`mean ± half-width` of an interval, both to the mean's precision (or `decimals`,
    a KPI's: see `kpi_decimals`); `-` for no value."""
    if math.isnan(mean):
        return "-"
    if decimals is None:
        decimals = 0 if abs(mean) >= 1000 or mean == 0 else 1 if abs(mean) >= 10 else 3
    text = f"{mean:,.{decimals}f}"
    if math.isnan(low) or math.isnan(high):
        return text
    return f"{text} ± {(high - low) / 2:,.{decimals}f}"


def text_table(head: Sequence[str], rows: Sequence[Sequence[str]], markdown: bool = False) -> str:
    """Left-aligned columns under a ruled header, or the same as a Markdown table."""
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        return "\n".join([*lines, *("| " + " | ".join(r) + " |" for r in rows)])
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    out = ["  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True))]
    out.append("  ".join("-" * w for w in widths))
    out += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(out)
