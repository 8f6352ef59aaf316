"""The public Python API: what the CLI, the dashboard and a notebook all call.

Every function takes and returns plain objects (a `Scenario`, pandas DataFrames); nothing
is written unless `save` is called or an output folder is given. Results are reproducible:
a scenario and a seed give the same tables whatever the executor or number of workers.

    >>> import channelsim
    >>> scenario = channelsim.load_scenario("scenarios/parallel.yaml")
    >>> results = channelsim.run(scenario, replicates=2, seed=1)
    >>> results.summary.set_index("kpi").loc["revenue", "mean"]  # doctest: +SKIP
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from channelsim.errors import ChannelsimError, ScenarioError
from channelsim.experiments import comparison, resources
from channelsim.experiments.comparison import Comparison
from channelsim.experiments.executors import Executor, InProcess, LocalProcesses, make_executor
from channelsim.experiments.replicates import RunResults, run_replicates
from channelsim.scenario.loading import load_scenario as _load_file
from channelsim.scenario.loading import replicates_for, scenario_with
from channelsim.scenario.schema import Scenario

if TYPE_CHECKING:
    from channelsim.experiments.explore import ExploreResult
    from channelsim.experiments.optimize import OptimizeDefinition
    from channelsim.experiments.sweep import SweepPlan
    from channelsim.experiments.sweep_run import SweepResult

__all__ = [
    "CalibrationResults",
    "ChannelsimError",
    "Comparison",
    "ExploreResults",
    "OptimizeResults",
    "RunResults",
    "Scenario",
    "ScenarioError",
    "SweepResults",
    "calibrate",
    "combine",
    "compare",
    "explore",
    "load_scenario",
    "optimize",
    "report_html",
    "run",
    "save",
    "sweep",
    "workbook",
]

Overrides = Mapping[str, Any] | Iterable[str] | None
OnDone = Callable[[], None] | None


def load_scenario(path: str | Path, overrides: Overrides = None) -> Scenario:
    """Load a scenario file (with its `extends:`), then apply overrides.

    `overrides` maps dotted paths to values (`{"reps.commission.rate": 0.06}`), or is a list
    of `PATH=VALUE` texts as `--set` gives them. Bad input raises `ScenarioError` with the
    file, the key path and what was expected.
    """
    if overrides is None or not isinstance(overrides, Mapping):
        return _load_file(path, tuple(overrides or ()))
    return scenario_with(_load_file(path), overrides)


def _scenario(scenario: Scenario | str | Path) -> Scenario:
    """A `Scenario` as given, or loaded from the file a path names."""
    if isinstance(scenario, Scenario):
        return scenario
    if isinstance(scenario, str | os.PathLike):
        return load_scenario(scenario)
    raise TypeError(
        f"expected a Scenario or the path of a scenario file, found {type(scenario).__name__}"
    )


def _scenario_list(scenarios: Sequence[Scenario | str | Path]) -> list[Scenario]:
    """Several scenarios or paths; one alone (a path is a sequence of letters) is refused."""
    if isinstance(scenarios, Scenario | str | os.PathLike):
        raise TypeError(
            "expected a list of scenarios or of scenario files' paths, found one: "
            f"{scenarios if not isinstance(scenarios, Scenario) else scenarios.name!r}"
        )
    return [_scenario(s) for s in scenarios]


def run(
    scenario: Scenario | str | Path,
    replicates: int | None = None,
    seed: int | None = None,
    workers: int | str = 1,
    executor: Executor | None = None,
    on_done: OnDone = None,
    out: str | Path | None = None,
    resume: bool = False,
    command: str = "",
    charts: bool = True,
) -> RunResults:
    """Run `replicates` (default: the scenario's) of one scenario, in memory or into `out`.

    Replicate i's seed derives from `seed` (default: the scenario's) alone, so the tables do
    not depend on `workers` or on the `executor` (in-process, local processes or Dask).
    With `out`, each replicate is written to that folder as it finishes (what
    `channelsim run` does): memory stays flat, a kill loses only the replicates in flight,
    and `resume=True` runs only the replicates the folder lacks. The folder is the one
    `save` writes (without charts/ if `charts` is false); `command` is recorded in its
    manifest. `workers="auto"`: one per core when the runs are long enough to pay for it.
    """
    from channelsim.experiments import replicates as replicates_

    scenario = _scenario(scenario)
    n = scenario.replicates if replicates is None else replicates
    base_seed = scenario.seed if seed is None else seed
    workers = resources.workers_for(workers, [scenario], n, in_memory=out is None)
    local = executor is None or isinstance(executor, InProcess | LocalProcesses)
    at_once = getattr(executor, "workers", workers) if local else 0
    resources.check_run(scenario, n, at_once, in_memory=out is None)
    executor = executor or make_executor(workers)
    if out is None:
        return run_replicates(scenario, n, base_seed, executor, on_done, workers)
    from channelsim.output.run_folder import RunFolder

    seeds = replicates_.replicate_seeds(base_seed, n)
    specs = replicates_.replicate_specs(scenario, seeds)
    writer = RunFolder(Path(out), scenario, base_seed, seeds, workers, command)
    with writer.open(resume):
        saved = writer.saved()
        for _ in saved:
            if on_done:
                on_done()
        todo = [spec for i, spec in enumerate(specs) if i not in saved]
        for _, output in replicates_.run_each(todo, executor):
            writer.add(output)
            if on_done:
                on_done()
        kpis, summary = writer.finish(charts)
    return RunResults(scenario, base_seed, seeds, kpis, summary, workers, folder=Path(out))


def compare(
    scenarios: Sequence[Scenario | str | Path],
    replicates: int | None = None,
    seed: int | None = None,
    baseline: str | None = None,
    workers: int | str = 1,
    executor: Executor | None = None,
    on_done: OnDone = None,
    out: str | Path | None = None,
    command: str = "",
    charts: bool = True,
) -> Comparison:
    """Run every scenario on the same replicate seeds and compare with paired statistics.

    `replicates` and `seed` default to the first scenario's, `baseline` to its name. With
    `out`, the folder `save` writes is made first and locked for the whole comparison, so a
    second command writing there refuses at once; `charts=False` draws no charts.
    `workers="auto"`: one per core when the runs are long enough to pay for it.
    """
    scenarios = _scenario_list(scenarios)
    n = replicates_for(scenarios, replicates)
    workers = resources.workers_for(workers, scenarios, n, in_memory=True)
    local = executor is None or isinstance(executor, InProcess | LocalProcesses)
    for scenario in scenarios:
        at_once = getattr(executor, "workers", workers) if local else 0
        resources.check_run(scenario, n * len(scenarios), at_once)

    def run_it() -> Comparison:
        return comparison.run_comparison(
            scenarios, replicates, seed, baseline, workers, on_done, executor=executor
        )

    if out is None:
        return run_it()
    from channelsim.output import folders
    from channelsim.storage import results

    folder = results.ResultsDir(Path(out))
    folder.check()
    with folder.locked():
        folder.create(allow_existing=True)
        job = run_it()
        folders.save_comparison(job, Path(out), command, lock=False, charts=charts)
    return job


def combine(runs: Sequence[RunResults], baseline: str | None = None) -> Comparison:
    """The comparison of runs made one by one on the same seeds: the same tables `compare`
    gives for these scenarios (so a cached run need not be run again to be compared).

    `baseline` defaults to the first run's scenario name; scenario names must be distinct.
    """
    if not runs:
        raise ChannelsimError("combine needs at least one run")
    seeds = runs[0].seeds
    for job in runs[1:]:
        if job.seeds != seeds:
            raise ChannelsimError(
                f"{job.scenario.name}: ran on other seeds than {runs[0].scenario.name}; "
                "runs to compare need the same seed and number of replicates"
            )
    label = [(job.scenario.name, job) for job in runs]
    return comparison.from_tables(
        [job.scenario for job in runs],
        runs[0].base_seed,
        seeds,
        pd.concat(
            [j.kpis.assign(scenario=n)[["scenario", *j.kpis.columns]] for n, j in label],
            ignore_index=True,
        ),
        pd.concat(
            [j.weekly.assign(scenario=n)[["scenario", *j.weekly.columns]] for n, j in label],
            ignore_index=True,
        ),
        baseline,
        max(job.workers for job in runs),
    )


def report_html(results: Comparison) -> str:
    """The HTML report `channelsim compare --report` writes, for a comparison in memory."""
    from channelsim.output import report

    with tempfile.TemporaryDirectory(prefix="channelsim-report-") as scratch:
        folder = save(results, Path(scratch) / "comparison", "(python)")
        return report.build_report(folder)


def save(
    results: RunResults | Comparison,
    folder: str | Path,
    command: str = "",
    excel: bool = False,
    charts: bool = True,
) -> Path:
    """Write a results folder, as `channelsim run` or `channelsim compare` writes it.

    The folder is marked INCOMPLETE until every file is written; `command` is recorded in
    its manifest. With `excel`, the folder gets `results.xlsx` too; `charts=False` leaves
    out the charts (and matplotlib).
    """
    from channelsim.output import folders

    if isinstance(results, Comparison):
        return folders.save_comparison(results, Path(folder), command, excel=excel, charts=charts)
    return folders.save_run(results, Path(folder), command, excel=excel, charts=charts)


def workbook(
    results: RunResults
    | Comparison
    | SweepResults
    | OptimizeResults
    | ExploreResults
    | CalibrationResults,
) -> bytes:
    """The Excel workbook (`results.xlsx`) of a run, a comparison, a sweep, an optimisation,
    an exploration or a calibration, as bytes: what `--excel` writes.

    The same results give the same bytes (the workbook's created date is fixed).
    """
    from channelsim.output import decision_excel, excel, folders

    if isinstance(results, ExploreResults):
        tables = ["robustness", "outcomes", "boxes", "importance", "runs"]
        return decision_excel.explore_workbook(
            results.summary, results.condition, {name: getattr(results, name) for name in tables}
        )
    if isinstance(results, CalibrationResults):
        return decision_excel.calibration_workbook(
            results.scenario.name,
            results.parameters,
            results.fit,
            {"trials": results.trials, "profiles": results.profiles},
        )
    if isinstance(results, OptimizeResults):
        from channelsim.output.optimize_excel import optimize_workbook

        return optimize_workbook(
            results.definition,
            results.trials,
            [int(t) for t in results.best["trial"]],
            results.confirmation,
            results.start,
            results.notes,
            results.importance,
        )
    if isinstance(results, SweepResults):
        return excel.sweep_workbook(
            results.runs, results.summary, results.failed, results.sensitivity
        )
    return folders.workbook(results)


@dataclass
class SweepResults:
    """A finished sweep: one row per run, per-point statistics, sensitivity indices."""

    runs: pd.DataFrame
    summary: pd.DataFrame
    failed: pd.DataFrame
    sensitivity: pd.DataFrame | None
    folder: Path | None
    notes: list[str]


def sweep(
    scenario: Scenario | str | Path,
    params: Mapping[str, Any],
    design: str = "grid",
    samples: int | None = None,
    replicates: int | None = None,
    seed: int | None = None,
    common_seeds: bool = False,
    workers: int | str = 1,
    scheduler: str | None = None,
    out: str | Path | None = None,
    resume: bool = False,
    fail_fast: bool = False,
    on_progress: Callable[[int, int], None] | None = None,
    charts: bool = True,
) -> SweepResults:
    """Run a scenario over a design of parameter values, with replicates.

    `params` maps dotted paths to specs as in sweep files: `"0.02:0.10:5"` (grid values),
    `[0.02, 0.05]` or `"open,rep_only"` (listed values), `"90:110"`, `"int:1:9"` or
    `"log:0.01:1"` (ranges for lhs, sobol and morris). Runs go to `out` as Parquet parts
    (resumable with `resume=True`); without `out` they go to a temporary folder that is
    removed after the tables are read into memory (and no charts are drawn). With `out`,
    `charts=False` draws no charts either. `workers="auto"`: one per core when the runs
    are long enough to pay for it.
    """
    from channelsim.experiments import sweep as sweeps

    scenario = _scenario(scenario)
    definition = sweeps.SweepDefinition(
        scenario=scenario,
        scenario_file="(python)",
        params=tuple(sweeps.parse_spec(path, spec) for path, spec in params.items()),
        design=design,
        samples=samples,
        replicates=scenario.replicates if replicates is None else replicates,
        seed=scenario.seed if seed is None else seed,
        common_seeds=common_seeds,
    )
    plan = sweeps.plan(definition, 1 if scheduler else workers)
    with tempfile.TemporaryDirectory(prefix="channelsim-sweep-") as scratch:
        folder = Path(out) if out is not None else Path(scratch) / "sweep"
        done = run_sweep_plan(
            plan,
            folder,
            workers=plan.workers,
            scheduler=scheduler,
            resume=resume,
            fail_fast=fail_fast,
            on_progress=on_progress,
            charts=charts and out is not None,  # nothing is kept, so nothing is drawn
        )
    return SweepResults(
        runs=done.runs,
        summary=done.summary,
        failed=done.failed,
        sensitivity=done.sensitivity,
        folder=Path(out) if out is not None else None,
        notes=done.notes,
    )


def run_sweep_plan(
    plan: SweepPlan,
    out: Path,
    *,
    workers: int = 1,
    scheduler: str | None = None,
    resume: bool = False,
    fail_fast: bool = False,
    chunk: int | None = None,
    command: str = "",
    on_progress: Callable[[int, int], None] | None = None,
    charts: bool = True,
) -> SweepResult:
    """Run a planned sweep (`experiments.sweep.plan`) into `out`, with its charts unless
    `charts` is false: what `channelsim sweep` calls. Returns `sweep_run.SweepResult`."""
    from channelsim.experiments import sweep_run
    from channelsim.output import folders

    if charts:  # imported now, while local workers start, rather than after the last run
        import channelsim.output.sweep_charts  # noqa: F401
    result: SweepResult = sweep_run.run_sweep(
        plan,
        out,
        workers=workers,
        scheduler=scheduler,
        resume=resume,
        fail_fast=fail_fast,
        chunk=chunk,
        command=command,
        on_progress=on_progress,
        draw=folders.draw_sweep if charts else None,
    )
    return result


@dataclass
class ExploreResults:
    """An exploration: the recommendation, robustness per scenario, and where it fails."""

    recommended: str
    decision: str
    condition: str
    where: list[str]
    robustness: pd.DataFrame
    outcomes: pd.DataFrame
    boxes: pd.DataFrame
    importance: pd.DataFrame
    runs: pd.DataFrame
    folder: Path | None
    notes: list[str]
    summary: list[str]  # the answer as the terminal gives it, without the session's lines


def explore(
    scenarios: Sequence[Scenario | str | Path],
    uncertain: Mapping[str, str],
    samples: int = 64,
    design: str = "lhs",
    replicates: int | None = None,
    seed: int | None = None,
    kpis: Sequence[str] = ("company_profit",),
    decide: str = "minimax_regret",
    find: str | None = None,
    workers: int | str = 1,
    scheduler: str | None = None,
    out: str | Path | None = None,
    resume: bool = False,
    report: bool = False,
    on_progress: Callable[[int, int], None] | None = None,
) -> ExploreResults:
    """Run every scenario at every sampled point of the uncertain inputs, with the same
    replicate seeds for all, and judge them: which is robustly best, and where it fails.

    `uncertain` maps dotted paths to ranges `"LO:HI"` (or `"int:LO:HI"`, `"log:LO:HI"`);
    `decide` is `mean`, `p_best`, `minimax_regret` or `percentile:Q`; `find` a condition
    such as `"company_profit[parallel] < company_profit[direct]"` (default: the recommended
    scenario is not the best). `replicates` and `seed` default to the first scenario's.
    Without `out` the runs go to a temporary folder that is removed afterwards (and no
    charts or report are drawn); with `out` the folder keeps the tables, charts, the report
    if `report`, and can be resumed or analysed again (`resume=True`).
    """
    from channelsim.experiments import explore as explore_
    from channelsim.output.explore_report import write_outputs

    scenarios = _scenario_list(scenarios)
    definition = explore_.definition_for(
        scenarios, dict(uncertain), design, samples, replicates, seed
    )
    chosen = explore_.options([s.name for s in scenarios], kpis, decide, find, report)
    with tempfile.TemporaryDirectory(prefix="channelsim-explore-") as scratch:
        kept = out is not None  # a folder that is not kept is not drawn
        done = explore_.run(
            definition,
            chosen,
            Path(out) if kept else Path(scratch) / "explore",
            workers=workers,
            scheduler=scheduler,
            resume=resume and kept,
            on_progress=on_progress,
            draw=write_outputs if kept else None,
        )
    return explore_results(done, Path(out) if out is not None else None)


def explore_results(done: ExploreResult, folder: Path | None = None) -> ExploreResults:
    """A finished exploration (`experiments.explore.run`) as the API gives it: what
    `channelsim explore`, which runs its own definition, needs for `workbook`."""
    from channelsim.output.explore_report import box_sentences, summary_lines

    a = done.analysis
    return ExploreResults(
        recommended=a.decision.scenario,
        decision=a.decision.sentence(),
        condition=a.condition,
        where=box_sentences(a.boxes, a.condition),
        robustness=a.robustness,
        outcomes=a.outcomes,
        boxes=a.boxes,
        importance=a.importance,
        runs=done.runs,
        folder=folder,
        notes=a.notes,
        summary=summary_lines(done),
    )


@dataclass
class CalibrationResults:
    """A finished calibration: estimates with intervals, fit, trials, loss profiles."""

    parameters: pd.DataFrame
    fit: pd.DataFrame
    trials: pd.DataFrame
    profiles: pd.DataFrame
    estimate: dict[str, Any]
    scenario: Scenario
    folder: Path | None


def calibrate(
    scenario: Scenario | str | Path,
    observed: Mapping[str, Any] | str | Path,
    params: Mapping[str, str] | Iterable[str],
    trials: int = 40,
    replicates: int = 4,
    seed: int | None = None,
    batch: int = 8,
    profile_points: int = 9,
    workers: int | str = 1,
    scheduler: str | None = None,
    out: str | Path | None = None,
    resume: bool = False,
    command: str = "",
    on_progress: Callable[[int, int], None] | None = None,
    weeks: int | None = None,
) -> CalibrationResults:
    """Fit scenario parameters to observed KPIs (simulated method of moments, Optuna).

    `observed` is an OBSERVED.yaml path or its content (`{"targets": {KPI: {"value": v,
    "se": s}}}`, optional `series` and `weeks`); `params` maps dotted paths to `"LO:HI"`
    (or `"log:LO:HI"`), or lists `PATH=LO:HI` texts. Every trial runs the same
    `replicates` seeds (common random numbers). With `out`, the folder holds the Optuna
    study and every result file and can be resumed; without it, a temporary folder is used.
    Results do not depend on `workers` or `scheduler`; they do depend on `batch`.
    `workers="auto"` is one per core when a batch's runs are long enough to pay for them. Runs
    last the observed file's `weeks:` (the period its numbers cover); `weeks` asked here
    (as `--weeks` does) must agree with it.
    """
    from channelsim.experiments import calibration
    from channelsim.experiments.executors import describe, open_executor
    from channelsim.output import calibration_folder
    from channelsim.storage import results

    scenario_file = None if isinstance(scenario, Scenario) else Path(scenario)
    sc, obs, fitted = _calibration_inputs(scenario, observed, params, weeks)
    workers = 1 if scheduler else resources.workers_for(workers, [sc], batch * replicates)
    resources.check_run(sc, max(replicates, workers), workers, in_memory=False)
    with tempfile.TemporaryDirectory(prefix="channelsim-calibrate-") as scratch:
        folder = results.ResultsDir(Path(out) if out is not None else Path(scratch) / "c")
        folder.check(allow_existing=resume)  # a bad --out fails before connecting
        if resume:  # a study that cannot be continued is refused before the folder changes
            calibration.check_study(folder.path)
        with open_executor(workers, scheduler) as executor:
            folder.create(allow_existing=resume)  # no folder is left when no cluster answers
            for name in results.ANSWER_FILES:  # the old estimates' files, if continued
                (folder.path / name).unlink(missing_ok=True)
            ran_on = describe(executor)
            done = calibration.calibrate(
                sc,
                obs,
                fitted,
                folder.path,
                executor,
                trials=trials,
                replicates=replicates,
                seed=sc.seed if seed is None else seed,
                batch=batch,
                profile_points=profile_points,
                on_progress=on_progress,
            )
        calibration_folder.save_calibration(
            done,
            folder,
            scenario_file,
            command,
            observed=obs.source,
            trials=trials,
            replicates=replicates,
            batch=batch,
            executor=ran_on,
        )
    return CalibrationResults(
        parameters=done.parameters,
        fit=done.fit,
        trials=done.trials,
        profiles=done.profiles,
        estimate=done.estimate,
        scenario=done.scenario,
        folder=Path(out) if out is not None else None,
    )


def _calibration_inputs(
    scenario: Scenario | str | Path,
    observed: Mapping[str, Any] | str | Path,
    params: Mapping[str, str] | Iterable[str],
    weeks: int | None,
) -> tuple[Scenario, Any, list[Any]]:
    """The scenario over the observed period, the observed KPIs, the parameters to fit."""
    from channelsim.experiments import calibration

    obs = (
        calibration.observed_from(observed, "observed")
        if isinstance(observed, Mapping)
        else calibration.read_observed(observed)
    )
    sc = calibration.with_observed_weeks(_scenario(scenario), obs, weeks)
    texts = [f"{k}={v}" for k, v in params.items()] if isinstance(params, Mapping) else params
    fitted = [calibration.parse_param(text, sc) for text in texts]
    if not fitted:
        raise calibration.CalibrationError("give at least one --param PATH=LO:HI")
    return sc, obs, fitted


@dataclass
class OptimizeResults:
    """A finished optimisation: every trial, the best one(s) (the Pareto set best first on
    the first objective), the confirmation on fresh seeds, and what was searched."""

    trials: pd.DataFrame
    best: pd.DataFrame
    confirmation: pd.DataFrame
    start: dict[str, float]
    importance: pd.DataFrame
    notes: list[str]
    folder: Path | None
    definition: OptimizeDefinition


def optimize(
    scenario: Scenario | str | Path,
    params: Mapping[str, Any],
    objectives: str | Sequence[str],
    constraints: Sequence[str] = (),
    trials: int | None = None,
    replicates: int | None = None,
    seed: int | None = None,
    confirm: int | None = None,
    workers: int = 1,
    scheduler: str | None = None,
    batch: int | None = None,
    out: str | Path | None = None,
    resume: bool = False,
    on_progress: Callable[[int, int, str], None] | None = None,
) -> OptimizeResults:
    """Search levers for the best mean of one KPI (TPE) or the Pareto set of several (NSGA-II).

    `params` maps dotted paths to specs as in sweeps (`"0.1:0.4"`, `"int:1:9"`,
    `"log:0.01:1"`, `"0.2:1:81"` ordered levels, `["open", "rep_only"]`); `objectives` are
    `"KPI:max"` or `"KPI:min"`; `constraints` `"KPI>=X"` or `"KPI<=X"` (X a number or
    `start`, the scenario as given). Every trial runs on the same `replicates` seeds;
    the best is confirmed on `confirm` fresh seeds (default 4 x replicates). `trials`
    defaults to the optimiser file's, else 50. The trials depend on `seed` and `batch`
    (default: `workers`) only. Without `out` the study is kept in
    memory and nothing is written; with it, the folder gets `study.db`, `trials.parquet`,
    `best.yaml`, charts and a manifest, and `resume=True` continues it.
    """
    from channelsim.experiments import optimize as optimizing
    from channelsim.output import optimize_results

    goals = [objectives] if isinstance(objectives, str) else list(objectives)
    if isinstance(scenario, Scenario):
        definition = optimizing.build(
            scenario, dict(params), goals, list(constraints), trials=trials,
            replicates=replicates, seed=seed, confirm=confirm,
        )  # fmt: skip
    else:
        definition = optimizing.define(
            Path(scenario), [f"{k}={_spec_text(v)}" for k, v in params.items()], goals,
            list(constraints), trials, replicates, seed, confirm,
        )  # fmt: skip
    done = optimize_results.run(
        definition,
        None if out is None else Path(out),
        workers=workers,
        scheduler=scheduler,
        batch=batch,
        resume=resume,
        on_progress=on_progress,
    )
    return OptimizeResults(
        trials=done.trials,
        best=done.trials.set_index("trial").loc[done.best].reset_index(),
        confirmation=done.confirmation,
        start=done.start,
        importance=done.importance,
        notes=done.notes,
        folder=Path(out) if out is not None else None,
        definition=definition,
    )


def _spec_text(spec: Any) -> str:
    """A Python spec as the `--param` text (lists joined with commas)."""
    return ",".join(str(v) for v in spec) if isinstance(spec, list | tuple) else str(spec)
