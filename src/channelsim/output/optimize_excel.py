"""`results.xlsx` of an optimisation: the answer as the terminal gives it, and the tables.

The summary sheet holds what `channelsim optimize` prints at the end: the best trial (or the
Pareto set), the scenario as given, the confirmation on fresh seeds (mean, 95% interval,
paired difference to the scenario as given, a significance mark) and the notes, among them
the winner's curse. Further sheets hold every trial, the Pareto set, the confirmation, the
settings in which best.yaml differs from the scenario as given, the lever importance and
native Excel charts (the objective by trial, the Pareto front, search against confirmed).
What describes a session rather than the result (executor, trials run in this session) is
left out, so the same optimisation gives the same bytes however and wherever it ran.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from xlsxwriter.worksheet import Worksheet

from channelsim.experiments.designs import Param
from channelsim.experiments.optimize import Objective, OptimizeDefinition
from channelsim.experiments.optimize_run import OptimizeResult, focus_kpis
from channelsim.output.excel import ALPHA, Book, cell, setting_cell
from channelsim.output.optimize_results import answer, counts_line
from channelsim.scenario.differences import differing_settings
from channelsim.scenario.loading import scenario_with

CONFIRM_COLUMNS = {
    "candidate": "candidate",
    "kpi": "KPI",
    "search_mean": "search mean",
    "mean": "confirmed mean",
    "ci_low": "95% CI low",
    "ci_high": "95% CI high",
    "diff_to_start": "minus scenario as given",
    "diff_low": "diff. 95% CI low",
    "diff_high": "diff. 95% CI high",
    "p_value": "p (paired t)",
}


def result_workbook(result: OptimizeResult) -> bytes:
    """The workbook of a finished optimisation (what `optimize --excel` writes)."""
    return optimize_workbook(
        result.definition,
        result.trials,
        result.best,
        result.confirmation,
        result.start,
        result.notes,
        result.importance,
    )


def optimize_workbook(
    definition: OptimizeDefinition,
    trials: pd.DataFrame,
    best: list[int],
    confirmation: pd.DataFrame,
    start: dict[str, float],
    notes: list[str],
    importance: pd.DataFrame | None = None,
) -> bytes:
    """The workbook of an optimisation from its tables; `best` lists the best trial or the
    Pareto set, best first on the first objective (the first is the one best.yaml holds)."""
    d = definition
    goals = ", ".join(o.text for o in d.objectives)
    title = f"channelsim optimize: {d.scenario.name}: {goals}"
    out = Book(title)
    _summary_sheet(out, title, d, trials, best, confirmation, start, notes)
    out.frame("Trials", trials, f"Every trial: levers, KPI means over {d.replicates} replicates")
    if len(d.objectives) > 1:
        front = trials[trials["trial"].isin(best)]
        out.frame("Pareto set", front, "The feasible trials no other trial beats on every goal")
    if not confirmation.empty:
        out.frame("Confirmation", confirmation, f"Runs on {d.confirm} fresh seeds")
    out.frame(
        "Settings",
        settings_table(d, trials, best),
        "Settings in which best.yaml differs from the scenario as given (dotted paths)",
    )
    if importance is not None and not importance.empty:
        out.frame("Importance", importance, "PED-ANOVA importance of each lever per objective")
    _charts(out, d, trials, best, confirmation)
    return out.close()


def settings_table(
    definition: OptimizeDefinition, trials: pd.DataFrame, best: list[int]
) -> pd.DataFrame:
    """setting | scenario as given | best (trial N): where best.yaml's scenario differs."""
    if not best:
        return pd.DataFrame(columns=["setting", "scenario as given", "best"])
    row = trials.set_index("trial").loc[best[0]]
    settings = {p.path: cell(row[p.path]) for p in definition.params}
    given = definition.scenario
    differ = differing_settings(
        [given.model_dump(mode="json"), scenario_with(given, settings).model_dump(mode="json")]
    )
    return pd.DataFrame(
        [[path, *(setting_cell(v) for v in values)] for path, values in differ.items()],
        columns=["setting", "scenario as given", f"best (trial {best[0]})"],
    )


def _summary_sheet(
    out: Book,
    title: str,
    d: OptimizeDefinition,
    trials: pd.DataFrame,
    best: list[int],
    confirmation: pd.DataFrame,
    start: dict[str, float],
    notes: list[str],
) -> None:
    """The terminal's answer: counts and levers, the best trial(s) and the scenario as
    given, the confirmation, the notes."""
    sheet = out.book.add_worksheet("Summary")
    sheet.write(0, 0, title, out.title)
    levers = "; ".join(f"{p.path} {_lever_range(p)}" for p in d.params)
    sheet.write(
        1,
        0,
        f"{counts_line(trials)}, each on the same {d.replicates} replicate seeds (seed "
        f"{d.seed}). Levers: {levers}",
        out.note,
    )
    row = _answer_rows(out, sheet, 3, d, trials, best, start)
    if not confirmation.empty:
        row = _confirmation_rows(out, sheet, row, d, confirmation)
    if notes:
        sheet.write(row, 0, "Notes", out.bold)
        for i, note in enumerate(notes, start=row + 1):
            sheet.write(i, 0, note, out.note)
    sheet.set_column(0, 0, 24)
    sheet.set_column(1, 12, 16)


def _answer_rows(
    out: Book,
    sheet: Worksheet,
    row: int,
    d: OptimizeDefinition,
    trials: pd.DataFrame,
    best: list[int],
    start: dict[str, float],
) -> int:
    """The trials the terminal shows, then the scenario as given; returns the next row."""
    heading, chosen = answer(d, trials, best)
    if not heading:
        return row
    kpis = focus_kpis(d)
    sheet.write(row, 0, f"{heading}, mean of {d.replicates} replicates:", out.bold)
    columns = list(chosen.columns)
    sheet.write_row(row + 1, 0, columns, out.head)
    for i, values in enumerate(chosen.itertuples(index=False), start=row + 2):
        for j, (column, value) in enumerate(zip(columns, values, strict=True)):
            if column in kpis or column.startswith("violation: "):
                out.number(sheet, i, j, value)
            else:
                sheet.write(i, j, cell(value))
    row += 2 + len(chosen)
    sheet.write(row, 0, "scenario as given", out.bold)
    for j, column in enumerate(columns):
        if column in kpis:
            out.number(sheet, row, j, start[column])
    return row + 2


def _confirmation_rows(
    out: Book, sheet: Worksheet, row: int, d: OptimizeDefinition, confirmation: pd.DataFrame
) -> int:
    """A row per candidate and KPI: search and confirmed means, intervals, the paired
    difference to the scenario as given and its mark; returns the next row."""
    sheet.write(
        row,
        0,
        f"Confirmed on {d.confirm} fresh seeds (95% intervals; paired difference to the "
        f"scenario as given; * = differs from it at the 5% level, paired t-test):",
        out.bold,
    )
    sheet.write_row(row + 1, 0, [*CONFIRM_COLUMNS.values(), "sig."], out.head)
    differences = ("diff_to_start", "diff_low", "diff_high", "p_value")
    for i, r in enumerate(confirmation.to_dict("records"), start=row + 2):
        for j, key in enumerate(CONFIRM_COLUMNS):
            if key in ("candidate", "kpi"):
                sheet.write(i, j, r[key])
            elif r["trial"] < 0 and key in differences:
                sheet.write_blank(i, j, None)  # the scenario as given minus itself
            elif key == "p_value":
                sheet.write(i, j, cell(r[key]))  # None: an empty cell
            else:
                out.number(sheet, i, j, r[key])
        significant = r["trial"] >= 0 and cell(r["p_value"]) is not None and r["p_value"] < ALPHA
        sheet.write(i, len(CONFIRM_COLUMNS), "*" if significant else "", out.sig)
    return row + 3 + len(confirmation)


def _lever_range(param: Param) -> str:
    """'in [0.1, 0.4]', 'in [1, 9] (int)', '11 levels from 0.3 to 0.8', 'one of open, rep_only'."""
    values = param.values
    if values is not None and len(values) > 5 and all(isinstance(v, int | float) for v in values):
        return f"{len(values)} levels from {min(values):g} to {max(values):g}"
    if values is not None:
        return "one of " + ", ".join(str(v) for v in values)
    scale = "" if param.scale == "linear" else f" ({param.scale})"
    return f"in [{param.low:g}, {param.high:g}]{scale}"


def _charts(
    out: Book,
    d: OptimizeDefinition,
    trials: pd.DataFrame,
    best: list[int],
    confirmation: pd.DataFrame,
) -> None:
    """Native charts from a 'Chart data' sheet: each objective by trial (feasible,
    infeasible, best so far), the Pareto front, and search against confirmed means.
    Each chart's data takes the next free columns of the data sheet."""
    charts = out.book.add_worksheet("Charts")
    data = out.book.add_worksheet("Chart data")
    complete = trials[trials["state"] == "COMPLETE"].sort_values("trial")
    drawn, col = [], 0
    for o in d.objectives:
        chart, col = _by_trial_chart(out, data, col, o, d.replicates, complete)
        drawn.append(chart)
    if len(d.objectives) > 1 and best:
        chart, col = _pareto_chart(out, data, col, d, complete, best)
        drawn.append(chart)
    if not confirmation.empty:
        chart, col = _confirmation_chart(out, data, col, d, confirmation)
        drawn.append(chart)
    for i, chart in enumerate(drawn):
        charts.insert_chart(17 * (i // 2), 9 * (i % 2), chart, {"x_scale": 1.2, "y_scale": 1.1})


def _by_trial_chart(
    out: Book, data: Worksheet, col: int, o: Objective, replicates: int, complete: pd.DataFrame
) -> tuple[Any, int]:
    """One objective's mean per trial, feasible and infeasible, and the best feasible so
    far; returns the chart and the next free data column."""
    values, feasible = complete[o.kpi].tolist(), complete["feasible"].tolist()
    best_so_far: list[Any] = []
    current = None
    for value, ok in zip(values, feasible, strict=True):
        if ok and cell(value) is not None and (current is None or o.better(value, current)):
            current = float(value)
        best_so_far.append(current)
    columns = {
        "trial": complete["trial"].tolist(),
        "feasible": [v if ok else None for v, ok in zip(values, feasible, strict=True)],
        "infeasible": [None if ok else v for v, ok in zip(values, feasible, strict=True)],
        "best so far": best_so_far,
    }
    first, last = _columns(out, data, col, o.kpi, columns)
    chart = out.book.add_chart({"type": "scatter", "subtype": "straight_with_markers"})
    for j, name in enumerate(("feasible", "infeasible", "best so far"), start=1):
        if all(cell(v) is None for v in columns[name]):
            continue  # no such trials: no empty legend entry
        series: dict[str, Any] = {
            "name": name,
            "categories": ["Chart data", first, col, last, col],
            "values": ["Chart data", first, col + j, last, col + j],
        }
        if name == "best so far":
            series["marker"] = {"type": "none"}
        else:
            series["line"] = {"none": True}
        chart.add_series(series)
    chart.set_title({"name": f"{o.kpi} by trial (mean of {replicates} replicates)"})
    chart.set_x_axis({"name": "trial"})
    chart.set_y_axis({"name": o.kpi})
    return chart, col + len(columns) + 1


def _pareto_chart(
    out: Book,
    data: Worksheet,
    col: int,
    d: OptimizeDefinition,
    complete: pd.DataFrame,
    best: list[int],
) -> tuple[Any, int]:
    """The second objective against the first: every feasible trial, and the Pareto set
    joined in order of the first; returns the chart and the next free data column."""
    x, y = d.objectives[0].kpi, d.objectives[1].kpi
    feasible = complete[complete["feasible"]]
    front = feasible[feasible["trial"].isin(best)].sort_values(x)
    columns = {
        f"{x} (all feasible)": feasible[x].tolist(),
        f"{y} (all feasible)": feasible[y].tolist(),
        f"{x} (Pareto set)": front[x].tolist(),
        f"{y} (Pareto set)": front[y].tolist(),
    }
    first, _ = _columns(out, data, col, "Pareto front", columns)
    chart = out.book.add_chart({"type": "scatter", "subtype": "straight_with_markers"})
    for name, j, n in (("feasible trials", 0, len(feasible)), ("Pareto set", 2, len(front))):
        series: dict[str, Any] = {
            "name": name,
            "categories": ["Chart data", first, col + j, first + n - 1, col + j],
            "values": ["Chart data", first, col + j + 1, first + n - 1, col + j + 1],
        }
        if j == 0:
            series["line"] = {"none": True}  # the trials as points, the front as a line
        chart.add_series(series)
    chart.set_title({"name": f"Pareto front: {y} against {x}"})
    chart.set_x_axis({"name": x})
    chart.set_y_axis({"name": y})
    return chart, col + len(columns) + 1


def _confirmation_chart(
    out: Book, data: Worksheet, col: int, d: OptimizeDefinition, confirmation: pd.DataFrame
) -> tuple[Any, int]:
    """The first objective per candidate as the search saw it and on fresh seeds, with the
    confirmed 95% interval; returns the chart and the next free data column."""
    kpi = d.objectives[0].kpi
    rows = confirmation[confirmation["kpi"] == kpi]
    columns = {
        "candidate": rows["candidate"].tolist(),
        f"search ({d.replicates} seeds)": rows["search_mean"].tolist(),
        f"confirmed ({d.confirm} fresh seeds)": rows["mean"].tolist(),
        "minus": (rows["mean"] - rows["ci_low"]).tolist(),
        "plus": (rows["ci_high"] - rows["mean"]).tolist(),
    }
    first, last = _columns(out, data, col, f"{kpi}: search and confirmation", columns)
    chart = out.book.add_chart({"type": "column"})
    for j in (1, 2):
        series: dict[str, Any] = {
            "name": ["Chart data", first - 1, col + j],
            "categories": ["Chart data", first, col, last, col],
            "values": ["Chart data", first, col + j, last, col + j],
        }
        if j == 2:
            series["y_error_bars"] = {
                "type": "custom",
                "minus_values": ["Chart data", first, col + 3, last, col + 3],
                "plus_values": ["Chart data", first, col + 4, last, col + 4],
            }
        chart.add_series(series)
    chart.set_title({"name": f"{kpi}: what the search saw and the confirmation (95% interval)"})
    return chart, col + len(columns) + 1


def _columns(
    out: Book, data: Any, col: int, label: str, columns: dict[str, list[Any]]
) -> tuple[int, int]:
    """Write `columns` side by side from column `col` under a label row and a header row;
    return the first and last data rows (empty cells for missing values)."""
    data.write(0, col, label, out.bold)
    data.write_row(1, col, list(columns), out.head)
    length = max((len(v) for v in columns.values()), default=0)
    for j, values in enumerate(columns.values()):
        for i, value in enumerate(values, start=2):
            value = cell(value)
            if value is not None:
                data.write(i, col + j, value)
    return 2, 1 + max(length, 1)
