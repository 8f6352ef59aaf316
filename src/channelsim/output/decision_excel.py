"""`results.xlsx` of an exploration and of a calibration: the answer first, then the tables.

The summary sheet says what the terminal says: for an exploration the recommended scenario,
the rule that chose it and its scores, where the condition holds (the PRIM boxes as
sentences) and the inputs that decide it; for a calibration the estimates with their 95%
profile intervals and the fit to every observed KPI. Further sheets hold the tables of the
results folder as they are, so that a planner can sort and chart them. Like every
channelsim workbook, the same results give the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from xlsxwriter.worksheet import Worksheet

from channelsim.output.excel import Book, cell

ESTIMATE_COLUMNS = ["parameter", "estimate", "ci_low", "ci_high", "identified"]
FIT_COLUMNS = ["kpi", "observed", "simulated", "ci_low", "ci_high", "z"]


def explore_workbook(
    summary: Sequence[str], condition: str, tables: dict[str, pd.DataFrame]
) -> bytes:
    """An exploration's workbook: `summary` is its answer as the terminal gives it
    (`explore_report.summary_lines`), `tables` its robustness, outcomes, boxes, importance
    and runs (`api.ExploreResults`)."""
    title = "channelsim explore: " + ", ".join(tables["robustness"]["scenario"].unique())
    out = Book(title)
    sheet = _summary(out, title)
    for row, line in enumerate(summary, start=2):
        sheet.write(row, 0, line, out.bold if line.startswith(("Recommended:", "Where:")) else None)
    out.frame("Robustness", tables["robustness"], "Each scenario over every sampled future")
    out.frame("Outcomes", tables["outcomes"], "Mean of each KPI per sampled future and scenario")
    out.frame("Boxes", tables["boxes"], f"PRIM boxes: where {condition}")
    out.frame("Importance", tables["importance"], "How much each uncertain input decides it")
    out.frame("Runs", tables["runs"], "One row per run")
    return out.close()


def calibration_workbook(
    scenario: str, parameters: pd.DataFrame, fit: pd.DataFrame, tables: dict[str, pd.DataFrame]
) -> bytes:
    """A calibration's workbook; `tables` holds its trials and loss profiles
    (`api.CalibrationResults`)."""
    title = f"channelsim calibrate: {scenario}"
    out = Book(title)
    sheet = _summary(out, title)
    sheet.write(2, 0, "Estimates with 95% profile intervals, then the fit to the observed KPIs")
    row = _table(out, sheet, 3, parameters[ESTIMATE_COLUMNS])
    _table(out, sheet, row, fit[FIT_COLUMNS])
    out.frame("Parameters", parameters, "Every estimate with its interval and identification")
    out.frame("Fit", fit, "Each observed KPI against the simulation at the estimate")
    out.frame("Trials", tables["trials"], "Every trial of the search: parameters and loss")
    out.frame("Profiles", tables["profiles"], "The loss along each parameter, the others fitted")
    return out.close()


def _summary(out: Book, title: str) -> Worksheet:
    sheet = out.book.add_worksheet("Summary")
    sheet.write(0, 0, title, out.title)
    sheet.set_column(0, 0, 24)
    sheet.set_column(1, 8, 14)
    return sheet


def _table(out: Book, sheet: Worksheet, row: int, frame: pd.DataFrame) -> int:
    """`frame` at `row` with a header, numbers in the terminal's precision; returns the row
    after the blank one below it."""
    sheet.write_row(row, 0, list(frame.columns), out.head)
    for i, values in enumerate(frame.itertuples(index=False), start=row + 1):
        for col, value in enumerate(map(cell, values)):
            if value is None:
                sheet.write_blank(i, col, None)
            elif isinstance(value, bool):
                sheet.write_boolean(i, col, value)
            elif isinstance(value, int | float):
                out.number(sheet, i, col, value)
            else:
                sheet.write(i, col, str(value))
    return row + len(frame) + 2
