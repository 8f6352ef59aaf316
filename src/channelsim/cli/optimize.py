"""`optimize`: search the levers for the best objective value(s), under noise and constraints."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from channelsim.cli.common import (
    AUTO,
    add_workbook,
    excel_option,
    friendly,
    out_option,
    quiet_option,
    replicates_option,
    report_option,
    resume_option,
    scheduler_option,
    seed_option,
    set_option,
    strict_option,
    warn_about,
    weeks_option,
    with_weeks,
    workers_option,
)


@click.command("optimize")
@click.argument(
    "source", metavar="SCENARIO|OPTIMIZE.yaml", type=click.Path(dir_okay=False, path_type=Path)
)
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="PATH=SPEC",
    help="A lever to search (repeatable). SPEC: a:b (a range), int:a:b, log:a:b, a:b:n "
    "(n ordered levels), or a,b,c (a list of numbers or words).",
)
@click.option(
    "--objective",
    "objectives",
    multiple=True,
    metavar="KPI:max|min",
    help="What to optimise (repeatable: several give a Pareto set), e.g. company_profit:max.",
)
@click.option(
    "--constraint",
    "constraints",
    multiple=True,
    metavar="KPI>=X|KPI<=X",
    help="A bound on a KPI's replicate mean (repeatable); X a number or 'start' (the "
    'scenario as given), e.g. "market_share>=start".',
)
@click.option("--trials", type=click.IntRange(1, 100_000), help="Trials in all (default 50).")
@replicates_option("per trial", source="the optimisation file's, else the scenario's")
@seed_option(
    "the runs' seeds and the sampler", source="the optimisation file's, else the scenario's"
)
@click.option(
    "--confirm",
    type=click.IntRange(0, 100_000),
    help="Replicates on fresh seeds for the best trial or Pareto set (default 4 x replicates; "
    "0: no confirmation).",
)
@weeks_option
@set_option
@workers_option(default=1)
@scheduler_option
@click.option(
    "--batch",
    type=click.IntRange(1, 10_000),
    help="Trials asked and run together (default: --workers, or the cluster's threads). "
    "The trials depend on the seed and the batch size, not on the executor.",
)
@out_option("<name>-optimize")
@resume_option("optimisation")
@strict_option
@excel_option
@quiet_option
@report_option
@friendly
def optimize_command(
    source: Path,
    params: tuple[str, ...],
    objectives: tuple[str, ...],
    constraints: tuple[str, ...],
    trials: int | None,
    replicates: int | None,
    seed: int | None,
    confirm: int | None,
    weeks: int | None,
    overrides: tuple[str, ...],
    workers: int | str | None,
    scheduler: str | None,
    batch: int | None,
    out: Path | None,
    resume: bool,
    strict: bool,
    excel: bool,
    quiet: bool,
    make_report: bool,
) -> None:
    """Find the lever settings that maximise or minimise KPIs, with replicates and constraints.

    TPE for one objective, NSGA-II for several; every trial runs on the same replicate
    seeds; the best (or the Pareto set) is confirmed on fresh seeds. Writes trials.parquet,
    best.yaml (a scenario: `channelsim compare SCENARIO DIR/best.yaml`), pareto.csv,
    confirm.csv, charts/ and study.db (for --resume); with --excel also results.xlsx.

    \b
    Examples:
      channelsim optimize scenarios/parallel.yaml --param dealers.markup=0.1:0.4 \\
          --param pricing.list_price=90:110 --objective company_profit:max \\
          --constraint "market_share>=start" --trials 40 --replicates 3 --workers 2
      channelsim optimize scenarios/parallel.yaml --param pricing.list_price=90:110 \\
          --objective company_profit:max --objective market_share:max --trials 60
      channelsim optimize my-optimisation.yaml --out results/opt --resume
    """
    from tqdm import tqdm

    from channelsim.experiments import optimize as optimizing
    from channelsim.experiments.candidates import OptimizeStopped
    from channelsim.output import optimize_results
    from channelsim.storage import results

    if workers and scheduler:
        raise click.UsageError("use either --workers (local processes) or --scheduler (Dask)")
    if resume and out is None:
        raise click.UsageError("--resume needs --out DIR, the folder of the optimisation")
    if workers == AUTO:  # refused by the API too; said here before anything is read
        raise click.BadParameter(
            f"'auto' is not offered: {optimizing.NO_AUTO_WORKERS}", param_hint="'--workers'"
        )
    definition = optimizing.define(
        source,
        params,
        objectives,
        constraints,
        trials,
        replicates,
        seed,
        confirm,
        with_weeks(overrides, weeks),
    )
    warn_about([(str(source), definition.scenario)], strict)
    out = out or results.default_out("optimize", definition.scenario.name)
    goals = ", ".join(o.text for o in definition.objectives)
    click.echo(
        f"{definition.scenario.name}: {goals}; {definition.trials} trials x "
        f"{definition.replicates} replicates, then {definition.confirm} to confirm"
    )
    bar: list[tqdm] = []

    def progress(done: int, total: int, best: str) -> None:
        if not bar:
            bar.append(
                tqdm(total=total, initial=done, unit="trial", disable=quiet, file=sys.stderr)
            )
        bar[0].set_postfix_str(best, refresh=False)
        bar[0].update(done - bar[0].n)

    try:
        result = optimize_results.run(
            definition,
            out,
            workers=workers or 1,
            scheduler=scheduler,
            batch=batch,
            resume=resume,
            command=results.command_line(),
            on_progress=progress,
        )
    except OptimizeStopped as exc:
        click.echo(f"\nstopped: {exc}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        for b in bar:
            b.close()
        click.echo(
            f"\ninterrupted: every finished trial is saved in {out / 'study.db'}; continue with "
            f"the same command and --out {out} --resume",
            err=True,
        )
        sys.exit(130)
    finally:
        for b in bar:
            b.close()
    click.echo(optimize_results.report_text(result))
    if excel:
        from channelsim.output.optimize_excel import result_workbook

        add_workbook(out, result_workbook(result))
    if make_report:
        from channelsim.output.optimize_report import write_report

        click.echo(f"\nReport: {write_report(out)}")
