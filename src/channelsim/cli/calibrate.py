"""`calibrate`: fit scenario parameters to observed KPIs."""

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
    resume_option,
    scenario_argument,
    scheduler_option,
    seed_option,
    set_option,
    strict_option,
    warn_about,
    weeks_option,
    with_weeks,
    workers_option,
)


@click.command("calibrate")
@scenario_argument
@click.option(
    "--observed",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="YAML with the observed targets: targets: {KPI: {value: V, se: S}}, optional series.",
)
@click.option(
    "--param",
    "params",
    multiple=True,
    required=True,
    metavar="PATH=LO:HI",
    help="A parameter to fit and its range (repeatable); PATH=log:LO:HI for a log scale.",
)
@click.option(
    "--trials",
    type=click.IntRange(1, 100_000),
    default=40,
    help="Trials of the search, before the profiles (default 40).",
)
@replicates_option("per trial", minimum=2, default=4)
@seed_option("the runs' seeds and the sampler")
@click.option(
    "--batch",
    type=click.IntRange(1, 1_000),
    default=8,
    show_default=True,
    help="Trials asked at once; their runs go to the workers together.",
)
@click.option(
    "--profile-points",
    type=click.IntRange(3, 101),
    default=9,
    show_default=True,
    help="Grid points of each parameter's loss profile.",
)
@weeks_option
@set_option
@workers_option(default=1)
@scheduler_option
@out_option("<name>-calibration")
@resume_option("calibration")
@strict_option
@quiet_option
@excel_option
@friendly
def calibrate(
    scenario: Path,
    observed: Path,
    params: tuple[str, ...],
    trials: int,
    replicates: int,
    seed: int | None,
    batch: int,
    profile_points: int,
    weeks: int | None,
    overrides: tuple[str, ...],
    workers: int | str | None,
    scheduler: str | None,
    out: Path | None,
    resume: bool,
    strict: bool,
    quiet: bool,
    excel: bool,
) -> None:
    """Fit scenario parameters to observed KPIs by simulated method of moments.

    Writes calibrated.yaml (the scenario with the fitted values), parameters.csv (estimates,
    95% profile intervals, identified), fit.csv, trials.parquet, charts and report.html.

    \b
    Example:
      channelsim calibrate scenarios/example_crm/scenario.yaml \\
          --observed scenarios/example_crm/observed.yaml \\
          --param market.choice.scale=2:20 --param dealers.reach=0.05:0.8 \\
          --trials 40 --replicates 4 --out results/crm-fit
    """
    from channelsim import api
    from channelsim.storage import results

    if workers and scheduler:
        raise click.UsageError("use either --workers (local processes) or --scheduler (Dask)")
    if resume and out is None:
        raise click.UsageError("--resume needs --out DIR, the folder of the calibration")
    from channelsim.scenario.loading import parse_override

    changes = with_weeks(overrides, weeks)
    asked = dict(parse_override(text) for text in changes).get("weeks")
    sc = api.load_scenario(scenario, changes)
    warn_about([(str(scenario), sc)], strict)
    out = out or results.default_out("calibration", sc.name)
    try:
        with progress_bar("trial", quiet) as progress:
            job = api.calibrate(
                sc if changes else scenario,  # a file is named in calibrated.yaml's extends:
                observed,
                params,
                trials=trials,
                replicates=replicates,
                seed=seed,
                batch=batch,
                profile_points=profile_points,
                workers=workers or 1,
                scheduler=scheduler,
                out=out,
                resume=resume,
                command=results.command_line(),
                on_progress=progress,
                weeks=asked,
            )
    except KeyboardInterrupt:
        click.echo(f"\ninterrupted: finished trials are kept in {out}; add --resume", err=True)
        sys.exit(130)
    shown = job.parameters[["parameter", "estimate", "ci_low", "ci_high", "identified"]]
    click.echo(shown.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    click.echo("")
    fit = job.fit[["kpi", "observed", "simulated", "ci_low", "ci_high", "z"]]
    click.echo(fit.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    click.echo(f"\nResults in {out} (calibrated scenario: {out / 'calibrated.yaml'})")
    if excel:
        add_workbook(out, api.workbook(job))
