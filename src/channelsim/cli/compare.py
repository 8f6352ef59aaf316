"""`compare` and `report`: several scenarios on the same seeds."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from channelsim.cli.common import (
    friendly,
    quiet_option,
    set_option,
    workers_option,
)


@click.command()
@click.argument(
    "scenarios", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path)
)
@click.option(
    "--replicates",
    "-n",
    type=click.IntRange(1, 100_000),
    help="Replicates per scenario (default: the first scenario's).",
)
@click.option(
    "--seed",
    type=click.IntRange(0),
    help="Base seed of the replicate seeds shared by all scenarios (default: the first's).",
)
@click.option("--baseline", metavar="NAME", help="Scenario to compare against (default: first).")
@set_option
@workers_option
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Results folder (default results/<names>-compare-<timestamp>).",
)
@quiet_option
@click.option("--report", "make_report", is_flag=True, help="Also write report.html.")
@click.option("--excel", is_flag=True, help="Also write results.xlsx (Excel workbook).")
@friendly
def compare(
    scenarios: tuple[Path, ...],
    replicates: int | None,
    seed: int | None,
    baseline: str | None,
    overrides: tuple[str, ...],
    workers: int,
    out: Path | None,
    quiet: bool,
    make_report: bool,
    excel: bool,
) -> None:
    """Run several scenarios on the same seeds and compare them with paired statistics.

    \b
    Example:
      channelsim compare scenarios/direct.yaml scenarios/intermediary.yaml \\
          scenarios/parallel.yaml --replicates 10 --report
    """
    from tqdm import tqdm

    from channelsim import api
    from channelsim.experiments import comparison
    from channelsim.output import display
    from channelsim.output.report import write_report
    from channelsim.storage import results

    loaded = comparison.load_scenarios(scenarios, overrides)
    comparison.choose_baseline(loaded, baseline)
    names = [s.name for s in loaded]
    out = out or results.default_out("compare", "-".join(names))
    results.ResultsDir(out).create()  # marked INCOMPLETE until saved
    total = comparison.replicates_for(loaded, replicates) * len(loaded)
    with tqdm(total=total, desc="compare", unit="run", disable=quiet, file=sys.stderr) as bar:
        job = api.compare(
            loaded, replicates, seed, baseline, workers, on_done=lambda: bar.update(1)
        )
    folder = api.save(job, out, results.command_line(), excel=excel)
    click.echo(f"{' vs '.join(names)}: {job.replicates} replicates each, same seeds")
    click.echo(display.comparison_table(job.summary, job.differences))
    if make_report:
        click.echo(f"\nReport: {write_report(folder)}")
    click.echo(f"\nResults in {folder}")


@click.command("report")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@friendly
def report_command(folder: Path) -> None:
    """Write FOLDER/report.html, one self-contained page, from a `compare` results folder.

    \b
    Example:
      channelsim report results/direct-parallel-compare-20260101-120000
    """
    from channelsim.output.report import write_report

    click.echo(f"Report: {write_report(folder)}")
