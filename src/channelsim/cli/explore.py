"""`explore`: compare strategies across uncertain inputs and find where each one fails."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from channelsim.cli.common import (
    add_workbook,
    excel_option,
    friendly,
    out_option,
    progress_bar,
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


@click.command("explore")
@click.argument(
    "sources",
    nargs=-1,
    required=True,
    metavar="SCENARIO... | EXPLORE.yaml",
    type=click.Path(dir_okay=False, path_type=Path),
)
@click.option(
    "--uncertain",
    multiple=True,
    metavar="PATH=LO:HI",
    help="An uncertain input and its plausible range (repeatable); also int:LO:HI, log:LO:HI.",
)
@click.option("--samples", type=click.IntRange(2, 1_000_000), help="Sampled points (default 64).")
@click.option("--design", type=click.Choice(["lhs", "sobol"]), help="Sampling (default lhs).")
@replicates_option(
    "per scenario and point", source="the exploration file's, else the first scenario's"
)
@seed_option(
    "the samples and every run's seed", source="the exploration file's, else the first scenario's"
)
@weeks_option
@set_option
@workers_option()
@scheduler_option
@click.option(
    "--kpi",
    "kpis",
    multiple=True,
    metavar="KPI",
    help="KPI to judge by (repeatable; the first decides). min:KPI when less is better. "
    "Default company_profit.",
)
@click.option(
    "--decide",
    metavar="RULE",
    help="mean, p_best, minimax_regret (default) or percentile:Q (e.g. percentile:10).",
)
@click.option(
    "--find",
    metavar="CONDITION",
    help='Condition to explain, e.g. "company_profit[parallel] < company_profit[direct]" '
    "(default: the recommended scenario is not the best).",
)
@out_option("<first scenario>-explore")
@resume_option("exploration (or analyse it again)")
@strict_option
@quiet_option
@report_option
@excel_option
@friendly
def explore_command(
    sources: tuple[Path, ...],
    uncertain: tuple[str, ...],
    samples: int | None,
    design: str | None,
    replicates: int | None,
    seed: int | None,
    weeks: int | None,
    overrides: tuple[str, ...],
    workers: int | str | None,
    scheduler: str | None,
    kpis: tuple[str, ...],
    decide: str | None,
    find: str | None,
    out: Path | None,
    resume: bool,
    strict: bool,
    quiet: bool,
    make_report: bool,
    excel: bool,
) -> None:
    """Run every scenario at every sampled point of the uncertain inputs (the same seeds for
    all), then say which one is robustly best, by which rule, and where it fails.

    \b
    Examples:
      channelsim explore scenarios/direct.yaml scenarios/intermediary.yaml \\
          scenarios/parallel.yaml --uncertain dealers.reach=0.15:0.6 \\
          --uncertain market.segments.smes.price_sensitivity=0.6:1.8 \\
          --samples 64 --replicates 2 --set weeks=52 --workers 2 --report
      channelsim explore scenarios/explore/channels.yaml --decide percentile:10 \\
          --find "company_profit[parallel] < company_profit[direct]"
    """
    from channelsim.experiments import explore, sweep_run
    from channelsim.output.explore_report import answer_lines, write_outputs
    from channelsim.storage import results

    if workers and scheduler:
        raise click.UsageError("use either --workers (local processes) or --scheduler (Dask)")
    if resume and out is None:
        raise click.UsageError("--resume needs --out DIR, the folder of the exploration")
    definition, chosen = explore.define(
        sources,
        uncertain,
        design,
        samples,
        replicates,
        seed,
        with_weeks(overrides, weeks),
        kpis,
        decide,
        find,
        make_report,
    )
    warn_about(list(zip(definition.scenario_files, definition.scenarios, strict=False)), strict)
    out = out or results.default_out("explore", definition.scenario.name)
    runs = definition.samples * len(definition.scenarios) * definition.replicates
    click.echo(
        f"{len(definition.scenarios)} scenarios x {definition.samples} points "
        f"({definition.design}) x {definition.replicates} replicates = {runs} runs"
    )
    try:
        with progress_bar("run", quiet) as progress:
            result = explore.run(
                definition,
                chosen,
                out,
                workers=workers or "auto",
                scheduler=scheduler,
                resume=resume,
                command=results.command_line(),
                on_progress=progress,
                draw=write_outputs,
            )
    except sweep_run.SweepStopped as exc:
        click.echo(f"\nstopped: {exc}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo(f"\ninterrupted: finished runs are saved in {out}; add --resume", err=True)
        sys.exit(130)
    click.echo("\n".join(answer_lines(result)))
    if excel:
        from channelsim import api

        add_workbook(out, api.workbook(api.explore_results(result, out)))
