"""`sweep` and `sensitivity`: many runs over a design."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from channelsim.cli.common import (
    add_workbook,
    excel_option,
    friendly,
    no_charts_option,
    out_option,
    printable,
    quiet_option,
    replicates_option,
    resume_option,
    scheduler_option,
    seed_option,
    set_option,
    start_workers,
    stop_interrupted,
    strict_option,
    warn_about,
    weeks_option,
    with_weeks,
    workers_option,
)


@click.command("sweep")
@click.argument(
    "source", metavar="SCENARIO|SWEEP.yaml", type=click.Path(dir_okay=False, path_type=Path)
)
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="PATH=SPEC",
    help="A swept lever (repeatable). SPEC: a:b:n (n values from a to b), a,b,c (numbers or "
    "words), or for lhs/sobol/morris a range a:b, int:a:b, log:a:b.",
)
@click.option(
    "--design",
    type=click.Choice(["grid", "lhs", "sobol", "morris"]),
    help="Design (default: the sweep file's, else grid).",
)
@click.option(
    "--samples",
    type=click.IntRange(1),
    help="lhs: points; sobol: base samples N, a power of 2 (N x (params + 2) points); "
    "morris: trajectories (N x (params + 1) points).",
)
@replicates_option("per design point", source="the sweep file's, else the scenario's")
@seed_option(
    "the design's samples and every run's seed", source="the sweep file's, else the scenario's"
)
@click.option(
    "--common-seeds",
    is_flag=True,
    help="Give replicate r the same seed at every point (common random numbers), so "
    "differences between points are not blurred by run-to-run noise.",
)
@weeks_option
@set_option
@workers_option()
@scheduler_option
@click.option(
    "--chunk-size",
    type=click.IntRange(1, 100_000),
    help="Runs per task (default: about 4 tasks per worker, at most 25 runs).",
)
@out_option("<name>-sweep")
@resume_option("sweep")
@click.option("--fail-fast", is_flag=True, help="Stop at the first run that fails.")
@strict_option
@quiet_option
@excel_option
@no_charts_option
@friendly
def sweep_command(
    source: Path,
    params: tuple[str, ...],
    design: str | None,
    samples: int | None,
    replicates: int | None,
    seed: int | None,
    common_seeds: bool,
    weeks: int | None,
    overrides: tuple[str, ...],
    workers: int | str | None,
    scheduler: str | None,
    chunk_size: int | None,
    out: Path | None,
    resume: bool,
    fail_fast: bool,
    strict: bool,
    quiet: bool,
    excel: bool,
    no_charts: bool,
) -> None:
    """Run a scenario over a design of parameter values, with replicates, into a folder.

    \b
    Examples:
      channelsim sweep scenarios/parallel.yaml --param reps.commission.rate=0.02:0.1:5 \\
          --param engagement.large_accounts=open,rep_only --replicates 3 --workers 2
      channelsim sweep scenarios/sweeps/commission_x_engagement.yaml --out results/cxe
      channelsim sweep scenarios/parallel.yaml --design sobol --samples 64 \\
          --param pricing.list_price=90:110 --param dealers.markup=0.1:0.4 \\
          --scheduler tcp://scheduler-host:8786
    """
    if workers and scheduler:
        raise click.UsageError("use either --workers (local processes) or --scheduler (Dask)")
    if resume and out is None:
        raise click.UsageError("--resume needs --out DIR, the folder of the sweep to continue")
    start_workers(workers)  # a count given: they import the engine while this does too
    from tqdm import tqdm

    from channelsim import api
    from channelsim.experiments import sweep as sweeps
    from channelsim.experiments import sweep_run
    from channelsim.output import sweep_text
    from channelsim.storage import results

    definition = sweeps.define(
        source,
        params,
        design,
        samples,
        replicates,
        seed,
        with_weeks(overrides, weeks),
        common_seeds,
    )
    warn_about([(str(source), definition.scenario)], strict)
    points, runs = sweeps.count_runs(definition)  # refused at once when too large
    click.echo(
        f"{printable(definition.scenario.name)}: {definition.design} design, {points:,} points x "
        f"{definition.replicates} replicates = {runs:,} runs"
    )
    plan = sweeps.plan(definition, 1 if scheduler else workers or "auto")
    start_workers(plan.workers)  # if not started yet: the count depended on the points
    out = out or results.default_out("sweep", definition.scenario.name)
    bar: list[tqdm] = []

    def progress(done: int, total: int) -> None:
        if not bar:
            bar.append(tqdm(total=total, initial=done, unit="run", disable=quiet, file=sys.stderr))
        bar[0].update(done - bar[0].n)
        if done == total:
            bar[0].close()

    try:
        result = api.run_sweep_plan(
            plan,
            out,
            workers=plan.workers,
            scheduler=scheduler,
            resume=resume,
            fail_fast=fail_fast,
            chunk=chunk_size,
            command=results.command_line(),
            on_progress=progress,
            charts=not no_charts,
        )
    except sweep_run.SweepStopped as exc:
        click.echo(printable(f"\nstopped: {exc}"), err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        stop_interrupted(f"finished runs are saved in {out}; add --resume --out {out}")
    finally:
        for b in bar:
            b.close()
    params = [p.path for p in definition.params]
    click.echo(printable(sweep_text.report_text(result, params, definition.scenario)))
    if excel:
        from channelsim.output import excel as workbooks

        data = workbooks.sweep_workbook(
            result.runs, result.summary, result.failed, result.sensitivity
        )
        add_workbook(out, data)


@click.command("sensitivity")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@friendly
def sensitivity_command(folder: Path) -> None:
    """Sobol (S1, ST) or Morris (mu*, sigma) indices of a finished sobol or morris sweep.

    Writes FOLDER/sensitivity.csv and FOLDER/charts/sensitivity.png (this also runs by
    itself at the end of a sobol or morris sweep).

    \b
    Example:
      channelsim sensitivity results/parallel-sweep-20260101-120000
    """
    from channelsim.output import folders, sweep_text

    table = folders.sensitivity_job(folder)
    click.echo(printable(sweep_text.sensitivity_text(table)))
    click.echo(printable(f"\nWrote {folder / 'sensitivity.csv'}"))
