"""`results.xlsx`: the numbers of a run, a comparison or a sweep as an Excel workbook.

The summary sheet is laid out as the terminal table (KPIs as rows, scenarios as columns:
mean, 95% interval, a significance mark); further sheets hold the per-replicate KPIs, the
weekly series, the differences, the settings and native Excel charts. The workbook is
built in memory and returned as bytes; the same tables give the same bytes (the created
date is fixed, XlsxWriter's zip entries carry a fixed date too).
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import xlsxwriter
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from channelsim.model.kpis import KPI_DEFINITIONS
from channelsim.output.charts import MONEY_PARTS, money_part
from channelsim.output.display import SIGNIFICANT, significant_places
from channelsim.scenario.differences import differing_settings, flatten

ALPHA = 0.05
CREATED = datetime(2000, 1, 1)  # fixed, so the same tables give the same bytes
EXCEL_ROWS = 1_048_576
HEADLINE_KPIS = ("company_profit", "revenue", "channel_margin", "market_share", "conflicts")


class Book:
    """A workbook with the few cell formats every sheet uses."""

    def __init__(self, title: str) -> None:
        self.buffer = io.BytesIO()
        self.book: Workbook = xlsxwriter.Workbook(
            self.buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
        )
        self.book.set_properties({"title": title, "created": CREATED, "author": "channelsim"})
        self.bold = self.book.add_format({"bold": True})
        self.head = self.book.add_format({"bold": True, "bg_color": "#F3F3F3", "border": 1})
        self.title = self.book.add_format({"bold": True, "font_size": 14})
        self.note = self.book.add_format({"italic": True, "font_color": "#555555"})
        self.sig = self.book.add_format({"bold": True, "font_color": "#BB0000", "align": "center"})
        self.numbers: dict[int, Any] = {}

    def number_format(self, kpi: str, value: float) -> Any:
        """The terminal tables' precision rule: `display.SIGNIFICANT` significant figures."""
        finite = np.isfinite(value) and value != 0
        decimals = min(max(significant_places(value, SIGNIFICANT), 0), 6) if finite else 0
        if decimals not in self.numbers:
            pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
            self.numbers[decimals] = self.book.add_format({"num_format": pattern})
        return self.numbers[decimals]

    def number(self, sheet: Worksheet, row: int, col: int, value: Any) -> None:
        """A KPI value in the terminal's precision; an empty cell for NaN or None."""
        value = cell(value)
        if value is None:
            sheet.write_blank(row, col, None)
        else:
            sheet.write_number(row, col, value, self.number_format("", float(value)))

    def frame(self, name: str, frame: pd.DataFrame, note: str = "") -> Worksheet:
        """A sheet with a DataFrame as it is: a header row, then one row per row."""
        sheet = self.book.add_worksheet(name)
        start = 0
        if note:
            sheet.write(0, 0, note, self.note)
            start = 1
        if len(frame) >= EXCEL_ROWS - start:
            sheet.write(start, 0, f"{len(frame):,} rows do not fit in one sheet", self.note)
            return sheet
        sheet.write_row(start, 0, [str(c) for c in frame.columns], self.head)
        for i, row in enumerate(frame.itertuples(index=False), start=start + 1):
            sheet.write_row(i, 0, [cell(v) for v in row])
        sheet.freeze_panes(start + 1, 0)
        sheet.set_column(0, max(len(frame.columns) - 1, 0), 14)
        return sheet

    def close(self) -> bytes:
        self.book.close()
        return self.buffer.getvalue()


def cell(value: Any) -> Any:
    """A value XlsxWriter writes as it is: NaN as an empty cell, numpy scalars as Python."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**53:
        return str(value)  # a seed: Excel numbers keep 15 digits
    if isinstance(value, list | dict | tuple):
        return str(value)
    return value


def comparison_workbook(
    names: Sequence[str],
    baseline: str,
    scenarios: Sequence[dict[str, Any]],
    kpis: pd.DataFrame,
    weekly: pd.DataFrame,
    summary: pd.DataFrame,
    differences: pd.DataFrame,
) -> bytes:
    """The workbook of a comparison; `scenarios` are the resolved settings (model_dump)."""
    title = "Channel strategies compared: " + " vs ".join(names)
    out = Book(title)
    _summary_sheet(out, title, list(names), baseline, summary, differences)
    out.frame("Differences", differences, f"Each scenario minus {baseline}, paired t intervals")
    out.frame("Replicates", kpis, "One row per replicate: every KPI")
    out.frame("Weekly", weekly, "One row per scenario, replicate and week")
    settings = differing_settings(list(scenarios))
    table = pd.DataFrame(
        [[path, *(setting_cell(v) for v in values)] for path, values in settings.items()],
        columns=["setting", *names],
    )
    out.frame("Settings", table, "Settings that differ between the scenarios (dotted paths)")
    _charts_sheet(out, list(names), baseline, kpis, weekly, summary, differences)
    return out.close()


def run_workbook(
    scenario: dict[str, Any], kpis: pd.DataFrame, weekly: pd.DataFrame, summary: pd.DataFrame
) -> bytes:
    """The workbook of one scenario's replicates."""
    name = str(scenario.get("name", "scenario"))
    title = f"channelsim run: {name}"
    out = Book(title)
    _summary_sheet(out, title, [name], name, summary.assign(scenario=name), None)
    out.frame("Replicates", kpis, "One row per replicate: every KPI")
    out.frame("Weekly", weekly, "One row per replicate and week")
    settings = pd.DataFrame(
        [[path, setting_cell(value)] for path, value in flatten(scenario).items()],
        columns=["setting", name],
    )
    out.frame("Settings", settings, "Every setting of the scenario (dotted paths)")
    _charts_sheet(
        out,
        [name],
        name,
        kpis.assign(scenario=name),
        weekly.assign(scenario=name),
        summary.assign(scenario=name),
        None,
    )
    return out.close()


def sweep_workbook(
    runs: pd.DataFrame,
    summary: pd.DataFrame,
    failed: pd.DataFrame | None = None,
    sensitivity: pd.DataFrame | None = None,
) -> bytes:
    """The workbook of a sweep: per-point statistics (a row per point), runs, sensitivity.

    The swept levers are the summary's columns between `point` and `kpi`.
    """
    columns = list(summary.columns)
    params = columns[columns.index("point") + 1 : columns.index("kpi")]
    title = "channelsim sweep over " + ", ".join(params)
    out = Book(title)
    wide = summary.pivot_table(index=["point", *params], columns="kpi", values="mean", sort=False)
    wide = wide.reset_index()
    sheet = out.frame("Summary", wide, "Mean of every KPI at each design point")
    if len(params) == 1 and "company_profit" in wide and len(wide) > 1:
        _sweep_chart(out, sheet, wide, params[0])
    out.frame("Point statistics", summary, "Mean, std and 95% t interval per point and KPI")
    out.frame("Runs", runs, "One row per run")
    if failed is not None and len(failed):
        out.frame("Failed", failed, "Runs that raised an error")
    if sensitivity is not None:
        out.frame("Sensitivity", sensitivity, "Sensitivity indices")
    return out.close()


def setting_cell(value: Any) -> Any:
    """A setting as a cell: '(not set)' where a scenario lacks it, lists and dicts as text."""
    if value is None:
        return "(not set)"
    return value if isinstance(value, str | int | float | bool) else str(value)


def _summary_sheet(
    out: Book,
    title: str,
    names: list[str],
    baseline: str,
    summary: pd.DataFrame,
    differences: pd.DataFrame | None,
) -> None:
    sheet = out.book.add_worksheet("Summary")
    sheet.write(0, 0, title, out.title)
    replicates = int(summary["n"].max()) if len(summary) else 0
    legend = f"Mean and 95% confidence interval over {replicates} replicates."
    if differences is not None:
        legend += (
            f" * = differs from {baseline} at the 5% level (paired t-test on replicates run "
            "with the same seeds)."
        )
    sheet.write(1, 0, legend, out.note)
    sheet.write(3, 0, "KPI", out.head)
    sheet.write(4, 0, "", out.head)
    for j, name in enumerate(names):
        col = 1 + 4 * j
        label = f"{name} (baseline)" if differences is not None and name == baseline else name
        sheet.merge_range(3, col, 3, col + 3, label, out.head)
        sheet.write_row(4, col, ["mean", "95% CI low", "95% CI high", "sig."], out.head)
    definition_col = 1 + 4 * len(names)
    sheet.write(3, definition_col, "definition", out.head)
    sheet.write(4, definition_col, "", out.head)
    means = summary.set_index(["kpi", "scenario"])
    p_values = (
        differences.set_index(["kpi", "scenario"])["p_value"] if differences is not None else None
    )
    for i, kpi in enumerate(dict.fromkeys(summary["kpi"]), start=5):
        sheet.write(i, 0, kpi, out.bold)
        for j, name in enumerate(names):
            col = 1 + 4 * j
            row = means.loc[(kpi, name)]
            style = out.number_format(kpi, float(row["mean"]))
            for k, key in enumerate(("mean", "ci_low", "ci_high")):
                value = cell(float(row[key]))
                if value is None:
                    sheet.write_blank(i, col + k, None)
                else:
                    sheet.write_number(i, col + k, value, style)
            significant = (
                p_values is not None and name != baseline and p_values.get((kpi, name), 1.0) < ALPHA
            )
            sheet.write(i, col + 3, "*" if significant else "", out.sig)
        sheet.write(i, definition_col, KPI_DEFINITIONS.get(kpi, ""), out.note)
    sheet.freeze_panes(5, 1)
    sheet.set_column(0, 0, 28)
    sheet.set_column(1, definition_col - 1, 13)
    sheet.set_column(definition_col, definition_col, 60)


def _charts_sheet(
    out: Book,
    names: list[str],
    baseline: str,
    kpis: pd.DataFrame,
    weekly: pd.DataFrame,
    summary: pd.DataFrame,
    differences: pd.DataFrame | None,
) -> None:
    """Native Excel charts of the main figures, drawn from a 'Chart data' sheet.

    Each chart writes its table below the one before (from `row`) and returns the next
    free row.
    """
    charts = out.book.add_worksheet("Charts")
    data = out.book.add_worksheet("Chart data")
    row = _profit_bars(out, charts, data, 0, names, summary)
    row = _weekly_profit_lines(out, charts, data, row, names, weekly)
    row = _money_stack(out, charts, data, row, names, kpis)
    others = [n for n in names if n != baseline]
    if differences is not None and others:
        _difference_bars(out, charts, data, row, baseline, others, summary, differences)


def _profit_bars(
    out: Book,
    charts: Worksheet,
    data: Worksheet,
    row: int,
    names: list[str],
    summary: pd.DataFrame,
) -> int:
    """Company profit per scenario with its 95% interval as error bars."""
    profit = summary[summary["kpi"] == "company_profit"].set_index("scenario").reindex(names)
    data.write_row(row, 0, ["scenario", "company profit", "minus", "plus"], out.head)
    for i, name in enumerate(names, start=row + 1):
        mean, low, high = (float(profit.loc[name, c]) for c in ("mean", "ci_low", "ci_high"))
        data.write_row(i, 0, [name, cell(mean), cell(mean - low), cell(high - mean)])
    first, last = row + 1, row + len(names)
    bars = out.book.add_chart({"type": "column"})
    bars.add_series(
        {
            "name": "company profit",
            "categories": ["Chart data", first, 0, last, 0],
            "values": ["Chart data", first, 1, last, 1],
            "y_error_bars": {
                "type": "custom",
                "minus_values": ["Chart data", first, 2, last, 2],
                "plus_values": ["Chart data", first, 3, last, 3],
            },
        }
    )
    bars.set_title({"name": "Company profit: mean and 95% interval"})
    bars.set_legend({"none": True})
    charts.insert_chart(0, 0, bars, {"x_scale": 1.2, "y_scale": 1.1})
    return last + 2


def _weekly_profit_lines(
    out: Book, charts: Worksheet, data: Worksheet, row: int, names: list[str], weekly: pd.DataFrame
) -> int:
    """Weekly company profit, mean over replicates, a line per scenario."""
    means = weekly.groupby(["week", "scenario"], sort=False)["company_profit"].mean().unstack()
    means = means.reindex(columns=names).sort_index()
    data.write_row(row, 0, ["week", *names], out.head)
    for i, (week, values) in enumerate(means.iterrows(), start=row + 1):
        data.write_row(i, 0, [int(week), *(cell(float(v)) for v in values)])
    first, last = row + 1, row + len(means)
    lines = out.book.add_chart({"type": "line"})
    for j in range(1, len(names) + 1):
        lines.add_series(
            {
                "name": ["Chart data", row, j],
                "categories": ["Chart data", first, 0, last, 0],
                "values": ["Chart data", first, j, last, j],
            }
        )
    lines.set_title({"name": "Company profit per week (mean over replicates)"})
    lines.set_x_axis({"name": "week"})
    charts.insert_chart(0, 9, lines, {"x_scale": 1.3, "y_scale": 1.1})
    return last + 2


def _money_stack(
    out: Book, charts: Worksheet, data: Worksheet, row: int, names: list[str], kpis: pd.DataFrame
) -> int:
    """Where the money goes: % of what customers paid, stacked per scenario."""
    parts = _money_parts(kpis, names)
    data.write_row(row, 0, ["part", *names], out.head)
    for i, (label, values) in enumerate(parts.items(), start=row + 1):
        data.write_row(i, 0, [label, *(cell(v) for v in values)])
    first, last = row + 1, row + len(parts)
    stacked = out.book.add_chart({"type": "column", "subtype": "stacked"})
    for i in range(first, last + 1):
        stacked.add_series(
            {
                "name": ["Chart data", i, 0],
                "categories": ["Chart data", row, 1, row, len(names)],
                "values": ["Chart data", i, 1, i, len(names)],
            }
        )
    stacked.set_title({"name": "Where the money goes (% of what customers paid)"})
    charts.insert_chart(17, 0, stacked, {"x_scale": 1.2, "y_scale": 1.2})
    return last + 2


def _difference_bars(
    out: Book,
    charts: Worksheet,
    data: Worksheet,
    row: int,
    baseline: str,
    others: list[str],
    summary: pd.DataFrame,
    differences: pd.DataFrame,
) -> None:
    """Headline differences to the baseline, in % of the baseline's mean."""
    base = summary[summary["scenario"] == baseline].set_index("kpi")["mean"]
    present = [k for k in HEADLINE_KPIS if k in set(differences["kpi"])]
    table = differences.set_index(["kpi", "scenario"])
    data.write_row(row, 0, ["kpi", *(f"{n} - {baseline} (%)" for n in others)], out.head)
    for i, kpi in enumerate(present, start=row + 1):
        scale = 100.0 / abs(base[kpi]) if base.get(kpi, 0) else float("nan")
        data.write_row(
            i,
            0,
            [kpi, *(cell(float(table.loc[(kpi, n), "mean_diff"]) * scale) for n in others)],
        )
    first, last = row + 1, row + len(present)
    diff = out.book.add_chart({"type": "bar"})
    for j, name in enumerate(others, start=1):
        diff.add_series(
            {
                "name": name,
                "categories": ["Chart data", first, 0, last, 0],
                "values": ["Chart data", first, j, last, j],
            }
        )
    diff.set_title({"name": f"Difference to {baseline} (% of {baseline}'s mean)"})
    charts.insert_chart(17, 9, diff, {"x_scale": 1.3, "y_scale": 1.2})


def _money_parts(kpis: pd.DataFrame, names: list[str]) -> dict[str, list[float]]:
    """`where_the_money_goes` as numbers: each part's mean in % of mean revenue."""
    parts: dict[str, list[float]] = {label: [] for label, _ in MONEY_PARTS.values()}
    for name in names:
        frame = kpis[kpis["scenario"] == name]
        revenue = max(float(frame["revenue"].mean()), 1e-12)
        for column, (label, _) in MONEY_PARTS.items():
            parts[label].append(money_part(frame, column) / revenue * 100)
    return parts


def _sweep_chart(out: Book, sheet: Worksheet, wide: pd.DataFrame, param: str) -> None:
    """Company profit against the one swept lever (a line through the point means)."""
    x = list(wide.columns).index(param)
    y = list(wide.columns).index("company_profit")
    first, last = 2, len(wide) + 1  # a note row, then the header row
    chart = out.book.add_chart({"type": "scatter", "subtype": "straight_with_markers"})
    chart.add_series(
        {
            "name": "company profit",
            "categories": ["Summary", first, x, last, x],
            "values": ["Summary", first, y, last, y],
        }
    )
    chart.set_title({"name": f"Company profit against {param}"})
    chart.set_x_axis({"name": param})
    chart.set_legend({"none": True})
    sheet.insert_chart(last + 2, 1, chart)
