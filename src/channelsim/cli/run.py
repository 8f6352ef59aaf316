"""`run`, `validate` and `kpis`: one scenario."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from channelsim.cli.common import (
    UserError,
    friendly,
    quiet_option,
    scenario_argument,
    set_option,
    workers_option,
)


@click.command()
@scenario_argument
@click.option(
    "--replicates",
    "-n",
    type=click.IntRange(1, 100_000),
    help="Replicates (default: the scenario's).",
)
@click.option(
    "--seed",
    type=click.IntRange(0),
    help="Base seed for the replicate seeds (default: the scenario's).",
)
@click.option(
    "--weeks", type=click.IntRange(1, 5200), help="Weeks to simulate (default: the scenario's)."
)
@set_option
@workers_option
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Results folder (default results/<name>-<timestamp>).",
)
@quiet_option
@click.option("--excel", is_flag=True, help="Also write results.xlsx (Excel workbook).")
@friendly
def run(
    scenario: Path,
    replicates: int | None,
    seed: int | None,
    weeks: int | None,
    overrides: tuple[str, ...],
    workers: int,
    out: Path | None,
    quiet: bool,
    excel: bool,
) -> None:
    """Run one scenario and write KPIs, weekly series and charts.

    \b
    Example:
      channelsim run scenarios/parallel.yaml --replicates 20 --set reps.capacity=30
    """
    from tqdm import tqdm

    from channelsim import api
    from channelsim.output import display
    from channelsim.storage import results

    extra = (*overrides, f"weeks={weeks}") if weeks else overrides
    sc = api.load_scenario(scenario, extra)
    n = replicates or sc.replicates
    out = out or results.default_out("", sc.name)
    results.ResultsDir(out).create()  # marked INCOMPLETE until saved
    with tqdm(total=n, desc=f"{sc.name}", unit="run", disable=quiet, file=sys.stderr) as bar:
        job = api.run(sc, n, seed, workers, on_done=lambda: bar.update(1))
    folder = api.save(job, out, results.command_line(), excel=excel)
    click.echo(f"{sc.name}: {n} replicates x {sc.weeks} weeks, strategy {sc.strategy}")
    click.echo(display.summary_table(job.summary))
    click.echo(f"\nResults in {folder}")


@click.command()
@scenario_argument
@set_option
@click.option(
    "--show", is_flag=True, help="Print the resolved scenario (extends and --set applied)."
)
@click.option(
    "--picture",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also draw the channel network (company, general agents, dealers, reps, online, "
    "telesales, engagement rule) into this PNG file.",
)
@friendly
def validate(scenario: Path, overrides: tuple[str, ...], show: bool, picture: Path | None) -> None:
    """Check a scenario file; exit 2 with the reason if it is not valid.

    \b
    Examples:
      channelsim validate scenarios/s_company_after.yaml --show
      channelsim validate scenarios/parallel.yaml --picture net.png
    """
    import yaml

    from channelsim.api import load_scenario

    if picture and picture.suffix != ".png":
        raise UserError(f"--picture {picture}: the file name must end in .png")
    sc = load_scenario(scenario, overrides)
    if show:
        click.echo(yaml.safe_dump(sc.model_dump(mode="json"), sort_keys=False, allow_unicode=True))
    else:
        click.echo(f"{scenario}: valid ({sc.name}, strategy {sc.strategy})")
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
