"""`compare` and `report`: several scenarios on the same seeds."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from channelsim.cli.common import (
    add_workbook,
    excel_option,
    friendly,
    interrupted,
    no_charts_option,
    out_option,
    printable,
    quiet_option,
    replicates_option,
    report_option,
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
@click.argument(
    "scenarios", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path)
)
@replicates_option("per scenario", source="the first scenario's")
@seed_option("the replicate seeds, shared by all scenarios,", source="the first scenario's")
@click.option("--baseline", metavar="NAME", help="Scenario to compare against (default: first).")
@weeks_option
@set_option
@workers_option()
@out_option("<names>-compare")
@strict_option
@quiet_option
@report_option
@excel_option
@no_charts_option
@friendly
def compare(
    scenarios: tuple[Path, ...],
    replicates: int | None,
    seed: int | None,
    baseline: str | None,
    weeks: int | None,
    overrides: tuple[str, ...],
    workers: int | str | None,
    out: Path | None,
    strict: bool,
    quiet: bool,
    make_report: bool,
    excel: bool,
    no_charts: bool,
) -> None:
    """Run several scenarios on the same seeds and compare them with paired statistics.

    \b
    Example:
      channelsim compare scenarios/direct.yaml scenarios/intermediary.yaml \\
          scenarios/parallel.yaml --replicates 10 --report
    """
    start_workers(workers)  # a count given: they import the engine while this reads
    from channelsim.experiments import resources
    from channelsim.scenario.loading import choose_baseline, load_scenarios, replicates_for
    from channelsim.storage import results

    loaded = load_scenarios(scenarios, with_weeks(overrides, weeks))
    warn_about([(str(p), s) for p, s in zip(scenarios, loaded, strict=True)], strict)
    choose_baseline(loaded, baseline)
    names = [s.name for s in loaded]
    out = out or results.default_out("compare", "-".join(names))
    results.ResultsDir(out).check()  # both before the progress bar
    each = replicates_for(loaded, replicates)
    workers = resources.workers_for(workers, loaded, each, in_memory=True)
    total = each * len(loaded)
    for scenario in loaded:
        resources.check_run(scenario, total, workers)
    start_workers(workers)  # they import the engine while this process imports the rest
    from tqdm import tqdm

    from channelsim import api
    from channelsim.output import display
    from channelsim.output.report import write_report

    with (
        interrupted(f"{out} is left marked INCOMPLETE; run the comparison again"),
        tqdm(total=total, desc="compare", unit="run", disable=quiet, file=sys.stderr) as bar,
    ):
        job = api.compare(
            loaded,
            replicates,
            seed,
            baseline,
            workers,
            on_done=lambda: bar.update(1),
            out=out,
            command=results.command_line(),
            charts=not no_charts,
        )
    currency = job.scenarios[0].currency
    click.echo(printable(f"{' vs '.join(names)}: {job.replicates} replicates each, same seeds"))
    click.echo(printable(display.settings_table(job.differing, names) + "\n"))
    click.echo(printable(display.comparison_table(job.summary, job.differences, currency=currency)))
    click.echo(printable("\n" + display.conflict_table(job.conflict, currency)))
    for note in display.warmup_notes(job.warmup_losses):
        click.echo(printable(f"\nNote: {note}"))
    if excel:
        from channelsim.output.folders import workbook

        add_workbook(out, workbook(job))
    if make_report:
        click.echo(printable(f"\nReport: {write_report(out)}"))
    click.echo(printable(f"\nResults in {out}"))


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

    click.echo(printable(f"Report: {write_report(folder)}"))
