"""`explore`: every scenario at every sampled point of the uncertain inputs, then the analysis.

The uncertain inputs (`--uncertain PATH=LO:HI`, also `int:LO:HI` and `log:LO:HI`) are
sampled with a Latin hypercube (scipy.stats.qmc, as `sweep --design lhs`) or a scrambled
Sobol sequence (scipy.stats.qmc.Sobol: `--samples` points, a power of 2). Every scenario
runs at every sample with the same replicate seeds: the seed of (sample i, replicate r) is
`SeedSequence(seed, spawn_key=(i, r))` whatever the scenario (common random numbers), so
at a sample the scenarios differ only by their settings.

The runs go through the sweep machinery (`sweep_run.run_sweep`): a design point is a
(sample, scenario) pair, numbered sample-major (`point = sample x scenarios + scenario`),
so the Parquet parts, resuming, the folder lock, local processes and Dask are a sweep's.
Only the last step differs: instead of the sweep's tables, `finish` writes the robustness
analysis (`robustness.py`), PRIM boxes (`prim.py`), charts and, if asked, the report. The
analysis options (KPIs, rule, condition) do not change any run, so a finished folder can be
analysed again with `--resume` and other options. Resuming checks what a sweep checks: the
code that computes a run (`sweep.code_fingerprint`), the scenarios, the samples and every
run seed against the manifest; this module's analysis code may change in between.

An explore file holds the same content as the command line, with paths relative to it:

    scenarios: [../direct.yaml, ../intermediary.yaml, ../parallel.yaml]
    uncertain:
      market.segments.smes.price_sensitivity: 0.6:1.8
      dealers.reach: 0.15:0.6
    samples: 64
    replicates: 2
    seed: 1
    set: {weeks: 52}
    kpis: [company_profit, revenue]
    decide: minimax_regret
    find: company_profit[parallel] < company_profit[direct]
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from scipy.stats import qmc

from channelsim.errors import InputError
from channelsim.experiments import prim as prim_
from channelsim.experiments import robustness as rob
from channelsim.experiments.designs import Design, DesignError, Param, lhs
from channelsim.experiments.robustness import ExploreError, Objective
from channelsim.experiments.sweep import (
    SweepDefinition,
    SweepError,
    SweepPlan,
    code_fingerprint,
    parse_spec,
    run_seeds,
)
from channelsim.model.metrics import KPIS
from channelsim.scenario.loading import ScenarioError, check_path, load_scenario, scenario_with
from channelsim.scenario.schema import Scenario
from channelsim.storage import inputs as input_files
from channelsim.storage import results

DESIGNS = ("lhs", "sobol")
DEFAULT_KPIS = ("company_profit",)
DEFAULT_RULE = "minimax_regret"


@dataclass(frozen=True)
class ExploreDefinition(SweepDefinition):
    """What decides an exploration's runs: the scenarios, the uncertain inputs, the design."""

    scenarios: tuple[Scenario, ...] = ()
    scenario_files: tuple[str, ...] = ()

    def describe(self) -> dict[str, Any]:
        return {
            "kind": "explore",
            "scenario_file": list(self.scenario_files),
            "overrides": list(self.overrides),
            "design": self.design,
            "samples": self.samples,
            "replicates": self.replicates,
            "seed": self.seed,
            "seeds": "common across scenarios: spawn_key=(sample, replicate)",
            "uncertain": {p.path: p.describe() for p in self.params},
            "kpis": list(KPIS),
            "code": code_fingerprint(),
            "numpy": np.__version__,
            "scenarios": [s.model_dump(mode="json") for s in self.scenarios],
        }


@dataclass(frozen=True)
class ExplorePlan(SweepPlan):
    """A sweep plan whose points are (sample, scenario) pairs, sample-major."""

    scenarios: tuple[Scenario, ...] = ()
    kind = "explore"

    def base(self, point: int) -> Scenario:
        return self.scenarios[point % len(self.scenarios)]

    @property
    def seed_derivation(self) -> str:
        return (
            "SeedSequence(seed, spawn_key=(sample, replicate)), top 63 bits: the same for "
            "every scenario at a sample (common random numbers)"
        )


@dataclass(frozen=True)
class ExploreOptions:
    """How the runs are analysed (changing these never changes a run)."""

    objectives: tuple[Objective, ...] = (Objective("company_profit"),)
    rule: str = DEFAULT_RULE
    find: str | None = None
    report: bool = False
    threshold: float = 0.8  # PRIM: the density a box must reach


# --- parsing -------------------------------------------------------------------------------


def parse_uncertain(text: str) -> tuple[str, str]:
    path, sep, spec = text.partition("=")
    if not sep or not path.strip() or not spec.strip():
        raise ExploreError(
            f"--uncertain {text!r}: expected PATH=LO:HI, e.g. dealers.reach=0.15:0.6"
        )
    return path.strip(), spec.strip()


def uncertain_param(path: str, spec: Any) -> Param:
    """A range LO:HI (or int:LO:HI, log:LO:HI); levels are not uncertainty ranges here."""
    try:
        param = parse_spec(path, spec if isinstance(spec, str) else str(spec))
    except SweepError as exc:
        raise ExploreError(str(exc).replace("--param", "--uncertain", 1)) from None
    if not param.is_range:
        raise ExploreError(
            f"--uncertain {path}={spec}: expected a range LO:HI (or int:LO:HI, log:LO:HI)"
        )
    return param


def options(
    scenarios: Sequence[str],
    kpis: Sequence[str] = (),
    rule: str | None = None,
    find: str | None = None,
    report: bool = False,
) -> ExploreOptions:
    """Checked analysis options: known KPIs, a known rule, a condition on these scenarios."""
    objectives = tuple(rob.parse_objective(k) for k in (kpis or DEFAULT_KPIS))
    labels = [o.kpi for o in objectives]
    if len(set(labels)) != len(labels):
        raise ExploreError(f"--kpi: a KPI is given twice ({', '.join(labels)})")
    rule = rule or DEFAULT_RULE
    rob.parse_rule(rule)
    if find:
        rob.parse_condition(find, scenarios)
    return ExploreOptions(objectives, rule, find, report)


class ExploreFile(BaseModel):
    """The content of an explore file (unknown keys are errors)."""

    model_config = ConfigDict(extra="forbid")

    scenarios: list[str] = Field(min_length=2)
    uncertain: dict[str, str] = Field(min_length=1)
    design: str = "lhs"
    samples: int | None = Field(None, ge=2, le=1_000_000)
    replicates: int | None = Field(None, ge=1, le=100_000)
    seed: int | None = Field(None, ge=0)
    set: dict[str, Any] = {}
    kpis: list[str] = []
    decide: str | None = None
    find: str | None = None


def is_explore_file(path: Path) -> bool:
    """A YAML mapping with `uncertain` is an explore file (a scenario has no such key)."""
    try:
        data = _read_yaml(path)
    except ExploreError:
        return False
    return isinstance(data, dict) and "uncertain" in data


def _read_yaml(path: Path) -> Any:
    try:
        return input_files.read_yaml(path, "explore file")
    except InputError as exc:
        raise ExploreError(str(exc)) from None


def read_explore_file(path: Path) -> ExploreFile:
    try:
        return ExploreFile.model_validate(_read_yaml(path))
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        found = "" if first["type"] == "missing" else f" (found {first.get('input')!r})"
        message = "unknown key" if first["type"] == "extra_forbidden" else first["msg"]
        raise ExploreError(f"{path}: {where}: {message}{found}") from None


def define(
    sources: Sequence[Path],
    uncertain: Sequence[str] = (),
    design: str | None = None,
    samples: int | None = None,
    replicates: int | None = None,
    seed: int | None = None,
    overrides: Sequence[str] = (),
    kpis: Sequence[str] = (),
    rule: str | None = None,
    find: str | None = None,
    report: bool = False,
) -> tuple[ExploreDefinition, ExploreOptions]:
    """A definition and analysis options from scenario files or one explore file plus options
    (the command line's win)."""
    specs: dict[str, Any] = {}
    fixed: list[str] = []
    paths = list(sources)
    if len(paths) == 1 and is_explore_file(paths[0]):
        content = read_explore_file(paths[0])
        paths = [paths[0].parent / name for name in content.scenarios]
        specs.update(content.uncertain)
        fixed = [f"{k}={json.dumps(v)}" for k, v in content.set.items()]
        design = design or content.design
        samples = samples if samples is not None else content.samples
        replicates = replicates or content.replicates
        seed = content.seed if seed is None else seed
        kpis = kpis or tuple(content.kpis)
        rule = rule or content.decide
        find = find or content.find
    given: set[str] = set()
    for text in uncertain:
        path, spec = parse_uncertain(text)
        if path in given:
            raise ExploreError(f"--uncertain {path}: given twice")
        given.add(path)
        specs[path] = spec
    fixed.extend(overrides)
    both = sorted({t.partition("=")[0].strip() for t in fixed} & set(specs))
    if both:
        raise ExploreError(f"{', '.join(both)}: both uncertain and fixed (--set); choose one")
    scenarios = [load_scenario(path, tuple(fixed)) for path in paths]
    definition = definition_for(
        scenarios, specs, design or "lhs", samples or 64, replicates, seed, [str(p) for p in paths]
    )
    definition = dataclasses.replace(definition, overrides=tuple(fixed))
    return definition, options([s.name for s in scenarios], kpis, rule, find, report)


def definition_for(
    scenarios: Sequence[Scenario],
    uncertain: dict[str, Any],
    design: str = "lhs",
    samples: int = 64,
    replicates: int | None = None,
    seed: int | None = None,
    files: Sequence[str] | None = None,
) -> ExploreDefinition:
    """A checked definition: two or more distinctly named scenarios, ranges, a design.

    `replicates` and `seed` default to the first scenario's.
    """
    files = list(files or ["(python)"] * len(scenarios))
    if len(scenarios) < 2:
        raise ExploreError("explore needs at least two scenario files (or one explore file)")
    names = [s.name for s in scenarios]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise ExploreError(
                f"{files[i]}: scenario name {name!r} is also the name of "
                f"{files[names.index(name)]}; give each scenario its own 'name:' setting"
            )
    params = tuple(uncertain_param(path, spec) for path, spec in uncertain.items())
    if not params:
        raise ExploreError("explore needs at least one --uncertain PATH=LO:HI")
    for param in params:  # a path that names no setting is refused before any value is made
        for scenario in scenarios:
            try:
                check_path(scenario, param.path, "--uncertain")
            except ScenarioError as exc:
                raise ExploreError(str(exc)) from None
    if design not in DESIGNS:
        raise ExploreError(f"design {design!r}: expected one of {', '.join(DESIGNS)}")
    if samples < 2:
        raise ExploreError(f"--samples {samples}: an exploration needs at least 2 points")
    return ExploreDefinition(
        scenario=scenarios[0],
        scenario_file=files[0],
        params=params,
        design=design,
        samples=samples,
        replicates=replicates or scenarios[0].replicates,
        seed=scenarios[0].seed if seed is None else seed,
        scenarios=tuple(scenarios),
        scenario_files=tuple(files),
    )


# --- the plan ------------------------------------------------------------------------------


def sample_design(params: list[Param], design: str, samples: int, seed: int) -> Design:
    """The sampled points of the uncertain inputs (one row per sample)."""
    if design == "lhs":
        return lhs(params, samples, seed)
    if samples < 2 or samples & (samples - 1):
        raise ExploreError(
            f"sobol design: --samples must be a power of 2 (e.g. 64, 128), found {samples}"
        )
    unit = qmc.Sobol(d=len(params), scramble=True, rng=seed).random(samples)
    columns = {p.path: p.from_unit(unit[:, j]) for j, p in enumerate(params)}
    return Design("sobol", columns, samples=samples)


def plan(definition: ExploreDefinition) -> ExplorePlan:
    """Sample the inputs, check every (sample, scenario) scenario, derive the seeds."""
    try:
        samples = sample_design(
            list(definition.params),
            definition.design,
            int(definition.samples or 0),
            definition.seed,
        )
    except DesignError as exc:
        raise ExploreError(str(exc)) from None
    settings = samples.settings()
    scenarios = definition.scenarios
    for i, values in enumerate(settings):
        for scenario in scenarios:
            try:
                scenario_with(scenario, values)
            except ScenarioError as exc:
                shown = ", ".join(f"{k}={v!r}" for k, v in values.items())
                raise ExploreError(
                    f"sample {i} ({shown}) in scenario {scenario.name}: {exc}"
                ) from None
    k = len(scenarios)
    columns: dict[str, list[Any]] = {
        "sample": [i for i in range(samples.size) for _ in scenarios],
        "scenario": [s.name for _ in range(samples.size) for s in scenarios],
    }
    for path, values in samples.values.items():
        columns[path] = [v for v in values for _ in scenarios]
    design = Design(
        f"explore-{definition.design}",
        columns,
        samples=definition.samples,
        options={"scenarios": [s.name for s in scenarios]},
    )
    seeds = np.repeat(run_seeds(definition.seed, samples.size, definition.replicates), k, axis=0)
    return ExplorePlan(
        definition=definition,
        design=design,
        settings=tuple(settings[p // k] for p in range(samples.size * k)),
        seeds=seeds,
        scenarios=scenarios,
    )


# --- running and analysing -----------------------------------------------------------------


@dataclass
class Analysis:
    """Everything `explore` concludes from the runs (tables are written as CSV)."""

    outcomes: pd.DataFrame
    robustness: pd.DataFrame
    decision: rob.Decision
    condition: str
    holds: pd.Series  # per sample: does the condition hold
    prim: prim_.PrimResult
    boxes: pd.DataFrame
    trajectory: pd.DataFrame
    importance: pd.DataFrame
    notes: list[str] = field(default_factory=list)


@dataclass
class ExploreResult:
    folder: Path
    runs: pd.DataFrame
    analysis: Analysis
    options: ExploreOptions
    inputs: list[str]
    scenarios: list[str]
    done_before: int
    ran: int
    failed: pd.DataFrame
    executor: str
    report: Path | None = None


def analyse(
    runs: pd.DataFrame, inputs: Sequence[str], scenarios: Sequence[str], chosen: ExploreOptions
) -> Analysis:
    """Outcomes, robustness, the decision, the condition, PRIM boxes and input importance."""
    condition = rob.parse_condition(chosen.find, scenarios) if chosen.find else None
    kpis = list(
        dict.fromkeys([o.kpi for o in chosen.objectives] + (condition.kpis if condition else []))
    )
    table = rob.outcomes(runs, inputs, kpis, scenarios)
    notes = []
    dropped = runs["sample"].nunique() - table["sample"].nunique()
    if dropped:
        notes.append(f"{dropped} sample(s) left out: some scenario has no successful run there")
    if table.empty:
        raise ExploreError("no sample has a successful run of every scenario; nothing to analyse")
    undefined = table[table["mean"].isna()]
    if len(undefined):
        row = undefined.iloc[0]
        raise ExploreError(
            f"--kpi {row['kpi']}: undefined for scenario {row['scenario']} at sample "
            f"{row['sample']} (and {len(undefined) - 1} more); choose a KPI every scenario has"
        )
    robust = rob.robustness(table, chosen.objectives, scenarios)
    primary = chosen.objectives[0]
    decision = rob.decide(table, robust, primary, chosen.rule)
    if condition is not None:
        holds, text = condition.evaluate(table, scenarios), condition.text
    else:
        holds = rob.not_best(table, decision, primary, scenarios)
        text = f"{decision.scenario} is not the best on {primary.label}"
    x = table.drop_duplicates("sample").set_index("sample").loc[holds.index, list(inputs)]
    found = prim_.prim(x, holds.to_numpy(), threshold=chosen.threshold)
    return Analysis(
        outcomes=_with_regret(table, chosen.objectives, scenarios),
        robustness=robust,
        decision=decision,
        condition=text,
        holds=holds,
        prim=found,
        boxes=found.limits(),
        trajectory=found.trajectories(),
        importance=rob.importance(x, holds),
        notes=notes,
    )


def _with_regret(
    table: pd.DataFrame, objectives: Sequence[Objective], scenarios: Sequence[str]
) -> pd.DataFrame:
    """The outcomes table with each row's regret (NaN for KPIs only the condition uses)."""
    table = table.copy()
    table["regret"] = np.nan
    for objective in objectives:
        lost = rob.regret(rob.matrix(table, objective.kpi, scenarios), objective.maximise)
        rows = table["kpi"] == objective.kpi
        stacked = lost.stack()
        keys = pd.MultiIndex.from_arrays([table.loc[rows, "sample"], table.loc[rows, "scenario"]])
        table.loc[rows, "regret"] = stacked.reindex(keys).to_numpy()
    return table


Draw = Callable[["ExploreResult", dict[str, Any]], list[str]]


def finish(
    chosen: ExploreOptions,
    draw: Draw | None,
    plan: ExplorePlan,
    folder: results.ResultsDir,
    manifest: dict[str, Any],
    done_before: int,
    ran: int,
    executor: str,
) -> ExploreResult:
    """Read the runs, analyse them and write the tables; `draw(result, manifest)` adds the
    charts (and report) and returns their file names; then the folder is complete."""
    from channelsim.experiments import sweep_run

    runs = sweep_run.read_runs(folder.path)
    if len(runs) != plan.runs or runs.duplicated(sweep_run.KEYS).any():
        raise sweep_run.SweepStopped(
            f"{folder.path / sweep_run.RUNS}: holds {len(runs)} runs, expected {plan.runs} "
            "distinct; continue with --resume"
        )
    inputs = [p.path for p in plan.definition.params]
    scenarios = [s.name for s in plan.scenarios]
    analysis = analyse(runs, inputs, scenarios, chosen)
    tables = {
        "outcomes.csv": analysis.outcomes,
        "robustness.csv": analysis.robustness,
        "boxes.csv": analysis.boxes,
        "trajectory.csv": analysis.trajectory,
        "importance.csv": analysis.importance,
    }
    for name in results.ANSWER_FILES:
        (folder.path / name).unlink(missing_ok=True)
    for name, frame in tables.items():
        results.write_csv(folder.file(name), frame)
    failed = runs[runs["status"] == "failed"]
    result = ExploreResult(
        folder.path, runs, analysis, chosen, inputs, scenarios, done_before, ran, failed, executor
    )
    manifest.update(
        analysis={
            "kpis": [o.label for o in chosen.objectives],
            "rule": chosen.rule,
            "condition": analysis.condition,
            "prim": {"alpha": 0.05, "min_mass": 0.05, "threshold": chosen.threshold},
        },
        decision={"scenario": analysis.decision.scenario, "sentence": analysis.decision.sentence()},
        failed_runs=len(failed),
        finished=datetime.now(UTC).isoformat(timespec="seconds"),
        files=["points.csv", f"{sweep_run.RUNS}/", *tables],
    )
    if draw is not None:
        manifest["files"] += draw(result, manifest)
    folder.complete(manifest)
    return result


def run(
    definition: ExploreDefinition,
    chosen: ExploreOptions,
    out: Path,
    *,
    workers: int | str = 1,
    scheduler: str | None = None,
    resume: bool = False,
    command: str = "",
    on_progress: Callable[[int, int], None] | None = None,
    draw: Draw | None = None,
) -> ExploreResult:
    """Plan, run (or continue) and analyse an exploration in `out`; `draw` (from the output
    layer) adds charts and the report before the folder is marked complete. `workers` may
    be "auto" (`resources.auto_workers` over every scenario's runs)."""
    from channelsim.experiments import resources, sweep_run

    the_plan = plan(definition)
    each = the_plan.runs // len(definition.scenarios)  # samples x replicates per scenario
    workers = 1 if scheduler else resources.workers_for(workers, definition.scenarios, each)
    for scenario in definition.scenarios:
        resources.check_run(scenario, definition.replicates, workers, in_memory=False)
    result: ExploreResult = sweep_run.run_sweep(
        the_plan,
        out,
        workers=workers,
        scheduler=scheduler,
        resume=resume,
        command=command,
        on_progress=on_progress,
        finish=partial(finish, chosen, draw),
    )
    return result
