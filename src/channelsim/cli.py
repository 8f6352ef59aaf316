"""The `channelsim` command line. It parses, calls a workflow, and prints; it computes nothing.

Every user error (bad scenario, bad option, unwritable output) is one line on stderr and
exit code 2; no traceback.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import yaml
from tqdm import tqdm

from channelsim import __version__, comparison, display, results, workflows
from channelsim.report import write_report
from channelsim.scenario import ScenarioError, load_scenario

USER_ERRORS = (ScenarioError, results.ResultsError)


class UserError(click.ClickException):
    """Bad input: printed as one 'Error: ...' line (no usage text), exit code 2."""

    exit_code = 2


def friendly(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn user errors into one message and exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except USER_ERRORS as exc:
            raise UserError(str(exc)) from None
        except OSError as exc:
            where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
            raise UserError(f"{where}{exc.strerror or exc}") from None

    return wrapper


class ChannelsimGroup(click.Group):
    def main(self, *args: Any, **kwargs: Any) -> Any:
        return super().main(*args, **kwargs)


def set_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--set",
        "overrides",
        multiple=True,
        metavar="PATH=VALUE",
        help="Override a scenario setting by its dotted path (repeatable), "
        "e.g. --set reps.capacity=30 --set engagement.large_accounts=rep_only.",
    )(fn)


workers_option = click.option(
    "--workers",
    type=click.IntRange(1, 512),
    default=1,
    show_default=True,
    help="Local worker processes (results are the same for any number).",
)
quiet_option = click.option("--quiet", "-q", is_flag=True, help="No progress bar.")

scenario_argument = click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))


@click.group(cls=ChannelsimGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="channelsim")
def main() -> None:
    """Simulate and compare direct, intermediary and parallel sales-channel strategies.

    \b
    Examples:
      channelsim run scenarios/parallel.yaml --replicates 10
      channelsim validate scenarios/parallel.yaml --show
    """


@main.command()
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
) -> None:
    """Run one scenario and write KPIs, weekly series and charts.

    \b
    Example:
      channelsim run scenarios/parallel.yaml --replicates 20 --set reps.capacity=30
    """
    extra = (*overrides, f"weeks={weeks}") if weeks else overrides
    sc = load_scenario(scenario, extra)
    n = replicates or sc.replicates
    base_seed = sc.seed if seed is None else seed
    out = out or results.default_out("", sc.name)
    results.ResultsDir(out).check()
    with tqdm(total=n, desc=f"{sc.name}", unit="run", disable=quiet, file=sys.stderr) as bar:
        job = workflows.run_scenario(
            sc, out, n, base_seed, workers, results.command_line(), on_done=lambda: bar.update(1)
        )
    click.echo(f"{sc.name}: {n} replicates x {sc.weeks} weeks, strategy {sc.strategy}")
    click.echo(display.summary_table(job.summary))
    click.echo(f"\nResults in {job.folder}")


@main.command()
@scenario_argument
@set_option
@click.option(
    "--show", is_flag=True, help="Print the resolved scenario (extends and --set applied)."
)
@friendly
def validate(scenario: Path, overrides: tuple[str, ...], show: bool) -> None:
    """Check a scenario file; exit 2 with the reason if it is not valid.

    \b
    Example:
      channelsim validate scenarios/s_company_after.yaml --show
    """
    sc = load_scenario(scenario, overrides)
    if show:
        click.echo(yaml.safe_dump(sc.model_dump(mode="json"), sort_keys=False, allow_unicode=True))
    else:
        click.echo(f"{scenario}: valid ({sc.name}, strategy {sc.strategy})")


@main.command()
def kpis() -> None:
    """List every KPI with its definition.

    \b
    Example:
      channelsim kpis | grep conflict
    """
    click.echo(display.kpi_glossary())


@main.command()
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
) -> None:
    """Run several scenarios on the same seeds and compare them with paired statistics.

    \b
    Example:
      channelsim compare scenarios/direct.yaml scenarios/intermediary.yaml \\
          scenarios/parallel.yaml --replicates 10 --report
    """
    loaded = comparison.load_scenarios(scenarios, overrides)
    comparison.choose_baseline(loaded, baseline)
    names = [s.name for s in loaded]
    out = out or results.default_out("compare", "-".join(names))
    results.ResultsDir(out).check()
    total = comparison.replicates_for(loaded, replicates) * len(loaded)
    with tqdm(total=total, desc="compare", unit="run", disable=quiet, file=sys.stderr) as bar:
        job = comparison.compare(
            loaded,
            out,
            replicates,
            seed,
            baseline,
            workers,
            results.command_line(),
            on_done=lambda: bar.update(1),
        )
    click.echo(f"{' vs '.join(names)}: {job.replicates} replicates each, same seeds")
    click.echo(display.comparison_table(job.summary, job.differences))
    if make_report:
        click.echo(f"\nReport: {write_report(job.folder)}")
    click.echo(f"\nResults in {job.folder}")


@main.command("report")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@friendly
def report_command(folder: Path) -> None:
    """Write FOLDER/report.html, one self-contained page, from a `compare` results folder.

    \b
    Example:
      channelsim report results/direct-parallel-compare-20260101-120000
    """
    click.echo(f"Report: {write_report(folder)}")


@main.command("sweep")
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
@click.option(
    "--replicates",
    "-n",
    type=click.IntRange(1, 100_000),
    help="Replicates per design point (default: the sweep file's, else the scenario's).",
)
@click.option(
    "--seed",
    type=click.IntRange(0),
    help="Sweep seed: the design's samples and every run's seed derive from it.",
)
@click.option(
    "--common-seeds",
    is_flag=True,
    help="Give replicate r the same seed at every point (common random numbers), so "
    "differences between points are not blurred by run-to-run noise.",
)
@set_option
@click.option("--workers", type=click.IntRange(1, 512), help="Local worker processes (default 1).")
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    help="Run on a Dask cluster through its scheduler, e.g. tcp://scheduler-host:8786.",
)
@click.option(
    "--chunk-size",
    type=click.IntRange(1, 100_000),
    help="Runs per task (default: about 4 tasks per worker, at most 25 runs).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Results folder (default results/<name>-sweep-<timestamp>).",
)
@click.option("--resume", is_flag=True, help="Continue the unfinished sweep in --out.")
@click.option("--fail-fast", is_flag=True, help="Stop at the first run that fails.")
@quiet_option
@friendly
def sweep_command(
    source: Path,
    params: tuple[str, ...],
    design: str | None,
    samples: int | None,
    replicates: int | None,
    seed: int | None,
    common_seeds: bool,
    overrides: tuple[str, ...],
    workers: int | None,
    scheduler: str | None,
    chunk_size: int | None,
    out: Path | None,
    resume: bool,
    fail_fast: bool,
    quiet: bool,
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
    from channelsim import sweep as sweeps
    from channelsim import sweep_run

    if workers and scheduler:
        raise click.UsageError("use either --workers (local processes) or --scheduler (Dask)")
    if resume and out is None:
        raise click.UsageError("--resume needs --out DIR, the folder of the sweep to continue")
    definition = sweeps.define(
        source, params, design, samples, replicates, seed, overrides, common_seeds
    )
    plan = sweeps.plan(definition)
    out = out or results.default_out("sweep", definition.scenario.name)
    click.echo(
        f"{definition.scenario.name}: {definition.design} design, {plan.points} points x "
        f"{definition.replicates} replicates = {plan.runs} runs"
    )
    bar: list[tqdm] = []

    def progress(done: int, total: int) -> None:
        if not bar:
            bar.append(tqdm(total=total, initial=done, unit="run", disable=quiet, file=sys.stderr))
        bar[0].update(done - bar[0].n)
        if done == total:
            bar[0].close()

    try:
        result = sweep_run.run_sweep(
            plan,
            out,
            workers=workers or 1,
            scheduler=scheduler,
            resume=resume,
            fail_fast=fail_fast,
            chunk=chunk_size,
            command=results.command_line(),
            on_progress=progress,
        )
    except sweep_run.SweepStopped as exc:
        click.echo(f"\nstopped: {exc}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo(f"\ninterrupted: finished runs are saved in {out}; add --resume", err=True)
        sys.exit(130)
    finally:
        for b in bar:
            b.close()
    click.echo(sweep_run.report_text(result, [p.path for p in definition.params]))


@main.command("sensitivity")
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
    from channelsim import sweep_run

    table = sweep_run.sensitivity_job(folder)
    click.echo(sweep_run.sensitivity_text(table))
    click.echo(f"\nWrote {folder / 'sensitivity.csv'}")


@main.command("validate-model")
@click.option(
    "--case",
    "cases",
    multiple=True,
    metavar="NAME",
    help="Run only this case (repeatable): stacked_margins, dual_channel, bertrand, logit, "
    "rep_pricing.",
)
@click.option(
    "--scenarios",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of the validation scenarios (default: the bundled scenarios/validation).",
)
@click.option("--markdown", is_flag=True, help="Markdown table, with why each tolerance.")
@friendly
def validate_model(cases: tuple[str, ...], scenarios: Path | None, markdown: bool) -> None:
    """Reproduce textbook closed-form results; exit 1 if any check fails.

    Stacked margins, dual-channel demand, a Bertrand conflict, logit shares and how pay
    shapes a rep's price (docs/validation.md). Takes well under a minute.

    \b
    Example:
      channelsim validate-model --case stacked_margins
    """
    from channelsim import validation

    checks = validation.run_suite(scenarios or validation.FOLDER, cases or None)
    click.echo(validation.table(checks, markdown=markdown))
    failed = sum(not check.passed for check in checks)
    click.echo(f"\n{len(checks) - failed} of {len(checks)} checks passed")
    if failed:
        sys.exit(1)
