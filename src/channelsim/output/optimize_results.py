"""What a finished optimisation shows: the charts in its folder and the terminal summary."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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


def report_text(result: OptimizeResult, limit: int = 10) -> str:
    """What the terminal shows at the end: the best trial(s), the confirmation, the notes."""
    d = result.definition
    table = result.trials
    done = table[table["state"] == "COMPLETE"]
    lines = [
        f"{len(table)} trials ({len(done)} complete, {int(table['feasible'].sum())} feasible, "
        f"{int((table['state'] == 'FAIL').sum())} failed); {result.ran} run in this session "
        f"({result.executor})"
    ]
    levers = [p.path for p in d.params]
    kpis = focus_kpis(d)
    violations = [c for c in table.columns if c.startswith("violation: ")]
    if result.best:
        chosen = table.set_index("trial").loc[result.best].reset_index().head(limit)
        title = (
            "Best trial"
            if len(d.objectives) == 1
            else f"Pareto set ({len(result.best)} trials"
            + (f", {limit} shown" if len(result.best) > limit else "")
            + f", by {d.objectives[0].kpi})"
        )
    elif violations and not done.empty:  # nothing feasible: show what came closest
        closest = done.assign(_v=done[violations].clip(lower=0).sum(axis=1)).nsmallest(3, "_v")
        chosen = closest[["trial", *levers, *kpis, *violations]]
        title = "No trial met every constraint; the closest (violation > 0: by how much)"
    else:
        chosen = table.iloc[0:0]
        title = ""
    if title:
        shown = chosen[[c for c in chosen.columns if c in {"trial", *levers, *kpis, *violations}]]
        shown = shown.copy()
        for column in levers:
            shown[column] = shown[column].map(
                lambda v: f"{v:.6g}" if isinstance(v, float) else str(v)
            )
        for column in shown.columns:
            if column in kpis or column in violations:
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
