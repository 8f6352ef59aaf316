"""`run`, `validate` and `kpis`: one scenario."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from channelsim.cli.common import (
    UserError,
    add_workbook,
    excel_option,
    friendly,
    interrupted,
    no_charts_option,
    out_option,
    printable,
    quiet_option,
    replicates_option,
    resume_option,
    scenario_argument,
    seed_option,
    set_option,
    start_workers,
    strict_option,
    warn_about,
    weeks_option,
    with_weeks,
    workers_option,
)


@click.command()
@scenario_argument
@replicates_option("of the scenario")
@seed_option("the replicate seeds")
@weeks_option
@set_option
@workers_option()
@out_option("<name>")
@resume_option("run")
@strict_option
@quiet_option
@excel_option
@no_charts_option
@friendly
def run(
    scenario: Path,
    replicates: int | None,
    seed: int | None,
    weeks: int | None,
    overrides: tuple[str, ...],
    workers: int | str | None,
    out: Path | None,
    resume: bool,
    strict: bool,
    quiet: bool,
    excel: bool,
    no_charts: bool,
) -> None:
    """Run one scenario and write KPIs, weekly series and charts.

    \b
    Example:
      channelsim run scenarios/parallel.yaml --replicates 20 --set reps.capacity=30
    """
    start_workers(workers)  # a count given: they import the engine while this reads
    from channelsim.experiments import resources
    from channelsim.scenario.loading import load_scenario
    from channelsim.storage import results

    if resume and out is None:
        raise click.UsageError("--resume needs --out DIR, the folder of the run to continue")
    sc = load_scenario(scenario, with_weeks(overrides, weeks))
    warn_about([(str(scenario), sc)], strict)
    n = replicates or sc.replicates
    out = out or results.default_out("", sc.name)
    name = printable(sc.name)
    results.ResultsDir(out).check(allow_existing=resume)  # both before the progress bar
    workers = resources.workers_for(workers, [sc], n)
    resources.check_run(sc, n, workers, in_memory=False)
    start_workers(workers)  # they import the engine while this process imports the rest
    from tqdm import tqdm

    from channelsim import api
    from channelsim.output import display

    with (
        interrupted(f"finished replicates are saved in {out}; add --resume --out {out}"),
        tqdm(total=n, desc=name, unit="run", disable=quiet, file=sys.stderr) as bar,
    ):
        job = api.run(
            sc,
            n,
            seed,
            workers,
            on_done=lambda: bar.update(1),
            out=out,
            resume=resume,
            command=results.command_line(),
            charts=not no_charts,
        )
    click.echo(f"{name}: {n} replicates x {sc.weeks} weeks, strategy {sc.strategy}")
    if excel:
        from channelsim.output.folders import workbook

        add_workbook(out, workbook(job))
    click.echo(display.summary_table(job.summary))
    for note in display.warmup_notes(job.warmup_losses):
        click.echo(printable(f"\nNote: {note}"))
    click.echo(f"\nResults in {printable(str(out))}")


@click.command()
@scenario_argument
@weeks_option
@set_option
@click.option(
    "--show", is_flag=True, help="Print the resolved scenario (extends and --set applied)."
)
@strict_option
@click.option(
    "--picture",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also draw the channel network (company, general agents, dealers, reps, online, "
    "telesales, engagement rule) into this PNG file.",
)
@friendly
def validate(
    scenario: Path,
    weeks: int | None,
    overrides: tuple[str, ...],
    show: bool,
    strict: bool,
    picture: Path | None,
) -> None:
    """Check a scenario file; exit 2 with the reason if it is not valid.

    Set-ups that are valid but almost certainly not meant (goods sold below cost, a segment
    that cannot afford any price, a channel that reaches no one) are warned about on
    stderr, one line each; --strict turns them into exit code 2.

    \b
    Examples:
      channelsim validate scenarios/s_company_after.yaml --show
      channelsim validate scenarios/parallel.yaml --picture net.png
    """
    import yaml

    from channelsim.api import load_scenario
    from channelsim.experiments import resources

    if picture and picture.suffix != ".png":
        raise UserError(f"--picture {picture}: the file name must end in .png")
    sc = load_scenario(scenario, with_weeks(overrides, weeks))
    resources.check_run(sc, 1, in_memory=False)  # what `run` refuses, validate refuses
    warn_about([(str(scenario), sc)], strict)
    if show:
        shown = yaml.safe_dump(sc.model_dump(mode="json"), sort_keys=False, allow_unicode=True)
        click.echo(printable(shown))
    else:
        click.echo(printable(f"{scenario}: valid ({sc.name}, strategy {sc.strategy})"))
    if sc.market.population is not None:
        from channelsim.scenario import population

        read = ", ".join(f"{n:,} {table}" for table, n in population.counts(sc).items())
        table = population.summary(sc)
        click.echo(f"Read from tables: {read}")
        click.echo(table.to_string(index=False))
        click.echo(
            f"Customers without a dealer: {int(table['without_dealer'].sum()):,}; "
            f"marked as buying from the company today: {int(table['buys_from_us'].sum()):,}"
        )
        past = population.history(sc)
        unused = "" if sc.insurance.enabled else " (not used: insurance.enabled is false)"
        click.echo(
            f"Next purchase from last_purchase: {past['last_purchase']:,}, from renewal_month: "
            f"{past['renewal_month_only']:,}, drawn: {past['drawn']:,}"
        )
        click.echo(
            f"Claims to date: {past['with_claims']:,} customers, "
            f"{past['claims_to_date']:,.0f} in total{unused}"
        )
    if picture:
        from channelsim.output.charts import save_figures
        from channelsim.output.network import network_figure

        [written] = save_figures({picture.stem: network_figure(sc)}, picture.parent)
        click.echo(f"Network picture: {written}")


@click.command()
def kpis() -> None:
    """List every KPI with its definition.

    \b
    Example:
      channelsim kpis | grep conflict
    """
    from channelsim.output import display

    click.echo(display.kpi_glossary())
