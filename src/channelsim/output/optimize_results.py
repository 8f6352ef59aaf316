"""What a finished optimisation shows: the charts in its folder and the terminal summary."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from channelsim.experiments.optimize import OptimizeDefinition
from channelsim.experiments.optimize_run import OptimizeResult, focus_kpis
from channelsim.output.display import number
from channelsim.storage import results


def write_charts(result: OptimizeResult, folder: results.ResultsDir) -> list[str]:
    """Draw every chart of `result` into `folder/charts`; returns the names written."""
    from channelsim.output import optimize_charts
    from channelsim.output.charts import save_figures

    d = result.definition
    figures = optimize_charts.optimize_figures(
        result.trials,
        [p.path for p in d.params],
        [(o.kpi, o.direction) for o in d.objectives],
        result.best,
        result.start,
        result.importance,
    )
    if not figures:
        return []
    save_figures(figures, folder.file("charts"))
    return ["charts/"]


def run(definition: OptimizeDefinition, out: Path | None, **options: Any) -> OptimizeResult:
    """`optimize_run.run_optimization` with the charts drawn into the folder."""
    from channelsim.experiments.optimize_run import run_optimization

    return run_optimization(definition, out, charts=write_charts, **options)


def counts_line(trials: pd.DataFrame) -> str:
    """'N trials (C complete, F feasible, X failed)'."""
    done = int((trials["state"] == "COMPLETE").sum())
    failed = int((trials["state"] == "FAIL").sum())
    return (
        f"{len(trials)} trials ({done} complete, {int(trials['feasible'].sum())} feasible, "
        f"{failed} failed)"
    )


def answer(
    definition: OptimizeDefinition, trials: pd.DataFrame, best: list[int], limit: int = 10
) -> tuple[str, pd.DataFrame]:
    """The trials the answer shows and its title: the best trial or the Pareto set (at most
    `limit`), else the three that came closest to the constraints; columns trial, levers,
    objective and constraint KPIs, violations. Empty when there is nothing to show."""
    d = definition
    done = trials[trials["state"] == "COMPLETE"]
    levers = [p.path for p in d.params]
    kpis = focus_kpis(d)
    violations = [c for c in trials.columns if c.startswith("violation: ")]
    if best:
        chosen = trials.set_index("trial").loc[best].reset_index().head(limit)
        title = (
            "Best trial"
            if len(d.objectives) == 1
            else f"Pareto set ({len(best)} trials"
            + (f", {limit} shown" if len(best) > limit else "")
            + f", by {d.objectives[0].kpi})"
        )
    elif violations and not done.empty:  # nothing feasible: show what came closest
        closest = done.assign(_v=done[violations].clip(lower=0).sum(axis=1)).nsmallest(3, "_v")
        chosen = closest[["trial", *levers, *kpis, *violations]]
        title = "No trial met every constraint; the closest (violation > 0: by how much)"
    else:
        return "", trials.iloc[0:0]
    keep = {"trial", *levers, *kpis, *violations}
    return title, chosen[[c for c in chosen.columns if c in keep]].reset_index(drop=True)


def report_text(result: OptimizeResult, limit: int = 10) -> str:
    """What the terminal shows at the end: the best trial(s), the confirmation, the notes."""
    d = result.definition
    lines = [f"{counts_line(result.trials)}; {result.ran} run in this session ({result.executor})"]
    levers = [p.path for p in d.params]
    kpis = focus_kpis(d)
    title, chosen = answer(d, result.trials, result.best, limit)
    if title:
        shown = chosen.copy()
        for column in levers:
            shown[column] = shown[column].map(
                lambda v: f"{v:.6g}" if isinstance(v, float) else str(v)
            )
        for column in shown.columns:
            if column in kpis or column.startswith("violation: "):
                shown[column] = shown[column].map(number)
        start = "  ".join(f"{k} {number(result.start[k])}" for k in kpis)
        lines += ["", f"{title}, mean of {d.replicates} replicates:", shown.to_string(index=False)]
        lines += [f"scenario as given: {start}"]
    if not result.confirmation.empty:
        lines += ["", *confirmation_lines(result)]
    lines += [""] + result.notes if result.notes else []
    lines += ["", f"Results in {result.folder}"]
    return "\n".join(lines)


def confirmation_lines(result: OptimizeResult) -> list[str]:
    """The confirmation: per KPI for one objective, one line per point for a Pareto set."""
    d = result.definition
    c = result.confirmation
    head = f"Confirmed on {d.confirm} fresh seeds (95% intervals"
    if len(d.objectives) > 1:
        lines = [head + "; paired differences to the scenario as given in confirm.csv):"]
        for candidate, rows in c.groupby("candidate", sort=False):
            shown = ", ".join(
                f"{r.kpi} {number(r.mean)} [{number(r.ci_low)}, {number(r.ci_high)}]"
                for r in rows.itertuples(index=False)
            )
            lines.append(f"  {candidate:>10}: {shown}")
        return lines
    lines = [head + "; paired difference to the scenario as given):"]
    for r in c.itertuples(index=False):
        interval = f"[{number(r.ci_low)}, {number(r.ci_high)}]"
        diff = (
            ""
            if r.trial < 0
            else f"  diff {number(r.diff_to_start)} [{number(r.diff_low)}, {number(r.diff_high)}]"
        )
        lines.append(
            f"  {r.candidate:>10} {r.kpi}: search {number(r.search_mean)}, confirmed "
            f"{number(r.mean)} {interval}{diff}"
        )
    return lines
