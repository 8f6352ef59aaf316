"""Running an optimisation into a folder: the study, the confirmation, the files.

Every candidate is run on the same R replicate seeds (common random numbers:
`SeedSequence(seed).spawn(R)`, the seeds `channelsim run --seed S` gives its replicates),
so two candidates differ by their levers, not by their luck; the objective is the mean over
the R runs. The scenario as given ("start") is run on the same seeds first: it is the
reference of the charts and of `KPI>=start` constraints.

After the search the best trial (one objective) or the Pareto set (several, at most
MAX_CONFIRM points) is run again with the start on R2 fresh seeds (replicates R..R+R2-1 of
the same sequence) and reported with 95% intervals and paired differences to the start:
the best of many noisy means is biased upwards (the winner's curse), and fresh seeds show
by how much.

The study lives in `study.db` (SQLite) in the folder; a trial is stored as soon as its runs
are done, so a killed or interrupted optimisation continues with `--resume`, losing at most
the runs of trials not yet finished.
"""

from __future__ import annotations

import fcntl
import math
import os
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from channelsim.experiments import resources, stats
from channelsim.experiments import study as studies
from channelsim.experiments.candidates import OptimizeStopped, Replicates, run_candidates
from channelsim.experiments.executors import DaskCluster, Executor, describe, open_executor
from channelsim.experiments.optimize import (
    NO_AUTO_WORKERS,
    OptimizeDefinition,
    OptimizeError,
    differences,
)
from channelsim.experiments.replicates import replicate_seeds
from channelsim.model.metrics import KPIS
from channelsim.scenario.loading import scenario_with
from channelsim.scenario.reference import setting_limits
from channelsim.storage import results

MAX_CONFIRM = 10
STUDY_FILE = "study.db"


def outcome(
    definition: OptimizeDefinition, bounds: dict[str, float], rows: Replicates | None, error: str
) -> studies.Outcome:
    """A candidate's objective means, constraint violations and stored statistics."""
    if rows is None:
        return studies.Outcome(None, error=error)
    table = pd.DataFrame(rows, columns=list(KPIS))
    means = table.mean()
    focus = focus_kpis(definition)
    attrs = {
        "kpis": {
            "means": {k: float(means[k]) for k in KPIS},
            "std": {k: float(table[k].std(ddof=1)) if len(table) > 1 else math.nan for k in focus},
            "replicates": {k: [float(v) for v in table[k]] for k in focus},
        }
    }
    undefined = [k for k in focus if not math.isfinite(means[k])]
    if undefined:
        return studies.Outcome(None, attrs=attrs, error=f"{undefined[0]} is not a number")
    values = tuple(float(means[o.kpi]) for o in definition.objectives)
    constraints = {
        c.text: c.violation(float(means[c.kpi]), bounds[c.text]) for c in definition.constraints
    }
    return studies.Outcome(values, constraints, attrs)


def focus_kpis(definition: OptimizeDefinition) -> list[str]:
    """The objective KPIs, then the constraint KPIs, each once."""
    names = [o.kpi for o in definition.objectives] + [c.kpi for c in definition.constraints]
    return list(dict.fromkeys(names))


# --- the whole job --------------------------------------------------------------------------


@dataclass
class OptimizeResult:
    folder: Path | None
    definition: OptimizeDefinition
    trials: pd.DataFrame
    best: list[int]
    confirmation: pd.DataFrame
    start: dict[str, float]
    ran: int
    executor: str
    notes: list[str] = field(default_factory=list)
    importance: pd.DataFrame = field(default_factory=pd.DataFrame)


Progress = Callable[[int, int, str], None]
# Draws the charts of a finished optimisation into its folder; returns the names written.
# Supplied by the output layer (channelsim.output.optimize_results.write_charts).
Charts = Callable[[OptimizeResult, results.ResultsDir], list[str]]


def run_optimization(
    definition: OptimizeDefinition,
    out: Path | None,
    *,
    workers: int = 1,
    scheduler: str | None = None,
    batch: int | None = None,
    resume: bool = False,
    command: str = "",
    on_progress: Progress | None = None,
    charts: Charts | None = None,
) -> OptimizeResult:
    """Run (or continue) an optimisation into `out` and write every file there.

    `batch` candidates are asked and run at a time (default: the number of workers, or of
    the cluster's threads); the trials depend on the seed and the batch size only.
    `on_progress(done, total, best)` is called before the first trial and after each one.
    With `out` None the study is kept in memory and nothing is written.
    """
    if resources.worker_count(workers) == "auto":
        raise OptimizeError(f"workers 'auto' is not offered: {NO_AUTO_WORKERS}")
    at_once = max(definition.replicates, workers)  # the trials of a batch share the workers
    resources.check_run(definition.scenario, at_once, workers, in_memory=False)
    folder = None if out is None else results.ResultsDir(out)
    if folder is not None and not (folder.path / "manifest.json").is_file():
        folder.check(allow_existing=resume)
    with open_executor(workers, scheduler) as executor:
        if isinstance(executor, DaskCluster):
            from channelsim.experiments.sweep_run import _check_workers

            _check_workers(executor)
        size = batch or getattr(executor, "workers", 1)
        if folder is None:
            return _search_and_confirm(definition, None, executor, size, {}, on_progress)
        manifest = _prepare(folder, definition, resume, command)
        with _locked(folder.path):
            session = {
                "started": _now(),
                "executor": describe(executor),
                "batch": size,
                "command": command,
            }
            manifest.setdefault("sessions", []).append(session)
            results.write_json(folder.path / "manifest.json", manifest)
            try:
                result = _search_and_confirm(
                    definition, folder.path, executor, size, manifest, on_progress
                )
            except (Exception, KeyboardInterrupt):
                session["stopped"] = _now()
                results.write_json(folder.path / "manifest.json", manifest)
                raise
            session.update(finished=_now(), trials_run=result.ran)
            _finish(result, folder, manifest, charts)
            return result


@studies.quiet()
def _search_and_confirm(
    definition: OptimizeDefinition,
    folder: Path | None,
    executor: Executor,
    batch: int,
    manifest: dict[str, Any],
    on_progress: Progress | None,
) -> OptimizeResult:
    directions = [o.direction for o in definition.objectives]
    study = studies.open_study(None if folder is None else folder / STUDY_FILE, directions)
    seeds = replicate_seeds(definition.seed, definition.replicates)
    start = study.user_attrs.get("start")
    if start is None:
        (_, rows, error), *_ = run_candidates(executor, definition.scenario, seeds, [{}])
        if rows is None:
            raise OptimizeError(f"the scenario as given fails: {error}")
        start = outcome(definition, {c.text: 0.0 for c in definition.constraints}, rows, "")
        start = start.attrs["kpis"]
        study.set_user_attr("start", start)
    start_means = start["means"]
    bounds = {
        c.text: float(start_means[c.kpi]) if c.bound is None else c.bound
        for c in definition.constraints
    }
    manifest.update(start=start_means, constraint_bounds=bounds)
    space = studies.levers(definition.params)

    def evaluate(candidates: Sequence[dict[str, Any]]) -> Iterator[tuple[int, studies.Outcome]]:
        for i, rows, error in run_candidates(executor, definition.scenario, seeds, candidates):
            yield i, outcome(definition, bounds, rows, error)

    tracker = _Progress(definition, study, on_progress)
    ran = studies.run_study(
        study,
        space,
        evaluate,
        definition.trials,
        batch,
        definition.seed,
        definition.population,
        on_trial=tracker.trial_done,
    )
    table = trials_table(study, definition, space)
    best = best_trials(table, definition)
    confirmation, notes = confirm(definition, executor, table, best, start)
    result = OptimizeResult(
        folder, definition, table, best, confirmation, start_means, ran, describe(executor)
    )
    result.notes = notes + edge_notes(definition, space, table, best)
    if not best:
        result.notes.insert(0, "no trial met every constraint; no best.yaml written")
    result.importance = parameter_importance(study, definition)
    return result


class _Progress:
    """Calls `on_progress(done, total, best so far)` at the start and after every trial."""

    def __init__(
        self, definition: OptimizeDefinition, study: Any, on_progress: Progress | None
    ) -> None:
        self.definition = definition
        self.on_progress = on_progress
        trials = study.get_trials(deepcopy=False)
        self.done = sum(t.state.is_finished() for t in trials)
        self.best: list[float | None] = [None] * len(definition.objectives)
        for t in trials:
            self._update(t)
        self._report()

    def trial_done(self, trial: Any) -> None:
        self.done += 1
        self._update(trial)
        self._report()

    def _update(self, trial: Any) -> None:
        if trial.state.name != "COMPLETE" or any(v > 0 for v in trial.constraints.values()):
            return
        for i, o in enumerate(self.definition.objectives):
            old = self.best[i]
            if old is None or o.better(trial.values[i], old):
                self.best[i] = trial.values[i]

    def _report(self) -> None:
        if self.on_progress is None:
            return
        pairs = zip(self.definition.objectives, self.best, strict=True)
        text = ", ".join(f"{o.kpi} {_number(v)}" for o, v in pairs if v is not None)
        self.on_progress(
            self.done, self.definition.trials, f"best {text}" if text else "no feasible trial yet"
        )


def trials_table(study: Any, definition: OptimizeDefinition, space: Sequence[Any]) -> pd.DataFrame:
    """One row per trial: levers, objective and constraint KPIs (mean, std), every KPI's
    mean, constraint violations, feasibility, state and error."""
    focus = focus_kpis(definition)
    rows = []
    for t in study.get_trials(deepcopy=False):
        stored = t.user_attrs.get("kpis", {})
        means, spread = stored.get("means", {}), stored.get("std", {})
        constraints = t.constraints if t.state.name == "COMPLETE" else {}
        row: dict[str, Any] = {"trial": t.number, "state": t.state.name}
        row.update(studies.settings_of(space, t.params) if t.params else {})
        for k in focus:
            row[k] = means.get(k, math.nan)
            row[f"{k}_std"] = spread.get(k, math.nan)
        for c in definition.constraints:
            row[f"violation: {c.text}"] = constraints.get(c.text, math.nan)
        row["feasible"] = bool(
            t.state.name == "COMPLETE" and all(v <= 0 for v in constraints.values())
        )
        row["error"] = str(t.user_attrs.get("error", ""))
        for k in KPIS:
            if k not in focus:
                row[f"mean {k}"] = means.get(k, math.nan)
        rows.append(row)
    return pd.DataFrame(rows)


def pareto_mask(values: np.ndarray, maximise: Sequence[bool]) -> np.ndarray:
    """Rows of `values` (trials x objectives) that no other row dominates."""
    signed = np.where(np.asarray(maximise), -values, values)  # to minimisation
    keep = np.ones(len(signed), dtype=bool)
    for i, row in enumerate(signed):
        dominated = np.all(signed <= row, axis=1) & np.any(signed < row, axis=1)
        keep[i] = not dominated.any()
    return keep


def best_trials(table: pd.DataFrame, definition: OptimizeDefinition) -> list[int]:
    """The best feasible trial (one objective) or the feasible Pareto set, best first on the
    first objective."""
    feasible = table[table["feasible"]]
    if feasible.empty:
        return []
    kpis = [o.kpi for o in definition.objectives]
    if len(kpis) == 1:
        o = definition.objectives[0]
        ordered = feasible.sort_values(
            [o.kpi, "trial"], ascending=[o.direction != "maximize", True]
        )
        return [int(ordered["trial"].iloc[0])]
    mask = pareto_mask(
        feasible[kpis].to_numpy(dtype=float),
        [o.direction == "maximize" for o in definition.objectives],
    )
    front = feasible[mask].drop_duplicates(subset=kpis)
    first = definition.objectives[0]
    ordered = front.sort_values([kpis[0], "trial"], ascending=[first.direction != "maximize", True])
    return [int(t) for t in ordered["trial"]]


def confirm_seeds(definition: OptimizeDefinition) -> list[int]:
    """Fresh seeds: replicates R .. R + R2 - 1 of the search's seed sequence."""
    total = definition.replicates + definition.confirm
    return replicate_seeds(definition.seed, total)[definition.replicates :]


def confirm(
    definition: OptimizeDefinition,
    executor: Executor,
    table: pd.DataFrame,
    best: list[int],
    start: dict[str, Any],
) -> tuple[pd.DataFrame, list[str]]:
    """Re-run the best trial or (up to MAX_CONFIRM of) the Pareto set and the start on fresh
    seeds; per candidate and KPI: search mean, confirmed mean and 95% interval, and the
    paired difference to the start."""
    if definition.confirm == 0 or not best:
        return pd.DataFrame(), []
    chosen = _spread(best, MAX_CONFIRM)
    rows_by_trial = table.set_index("trial")
    settings = [
        {p.path: _plain(rows_by_trial.loc[t, p.path]) for p in definition.params} for t in chosen
    ]
    seeds = confirm_seeds(definition)
    runs: dict[int, Replicates] = {}
    for i, rows, error in run_candidates(executor, definition.scenario, seeds, [{}, *settings]):
        if rows is None:
            raise OptimizeStopped(f"a confirmation run failed: {error}")
        runs[i] = rows
    base = pd.DataFrame(runs[0], columns=list(KPIS))
    records = []
    notes = []
    focus = focus_kpis(definition)
    for j, trial in enumerate([None, *chosen]):
        frame = pd.DataFrame(runs[j], columns=list(KPIS))
        for kpi in focus:
            mean, sd, low, high, n = stats.mean_ci(frame[kpi].to_numpy())
            diff, d_low, d_high, p_value, _ = stats.paired_difference(
                frame[kpi].to_numpy(), base[kpi].to_numpy()
            )
            searched = (
                start["means"][kpi] if trial is None else float(rows_by_trial.loc[trial, kpi])
            )
            records.append(
                {
                    "candidate": "start" if trial is None else f"trial {trial}",
                    "trial": -1 if trial is None else trial,
                    "kpi": kpi,
                    "search_mean": searched,
                    "mean": mean,
                    "std": sd,
                    "ci_low": low,
                    "ci_high": high,
                    "n": n,
                    "diff_to_start": diff,
                    "diff_low": d_low,
                    "diff_high": d_high,
                    "p_value": p_value,
                }
            )
    frame = pd.DataFrame(records)
    notes += winners_curse_notes(definition, frame)
    notes += constraint_notes(definition, frame, start)
    return frame, notes


def winners_curse_notes(definition: OptimizeDefinition, confirmation: pd.DataFrame) -> list[str]:
    """Where confirmed objective values fall short of what the search saw.

    The scenario as given is run on both seed sets too, so its own change between them (the
    luck of the search seeds, which every trial shared) is told apart from the rest, the
    bias of picking the best of many noisy means. One line per trial for one objective,
    one line per objective for a Pareto set.
    """
    notes = []
    for o in definition.objectives:
        rows = confirmation[confirmation["kpi"] == o.kpi]
        start = rows[rows["trial"] < 0]
        start_shift = (
            float(start["mean"].iloc[0] - start["search_mean"].iloc[0]) if len(start) else 0.0
        )
        sign = 1.0 if o.direction == "maximize" else -1.0
        short = [
            r
            for r in rows[rows["trial"] >= 0].itertuples(index=False)
            if o.better(r.search_mean, r.mean)
        ]
        if not short:
            continue
        outside = [r for r in short if not (r.ci_low <= r.search_mean <= r.ci_high)]
        if len(definition.objectives) > 1:
            gaps = [r.search_mean - r.mean for r in short]
            notes.append(
                f"winner's curse, {o.kpi}: {len(short)} of {int((rows['trial'] >= 0).sum())} "
                f"confirmed Pareto points fall short of the search ({len(outside)} outside "
                f"their 95% interval), by {_number(float(np.mean(gaps)))} on average; the "
                f"scenario as given moved by {_number(start_shift)} between the same seed sets"
            )
            continue
        for r in short:
            gap = r.search_mean - r.mean
            selection = sign * ((r.mean - r.search_mean) - start_shift)
            where = "outside" if r in outside else "within"
            if selection < 0:
                why = f"about {_number(abs(selection))} of it is the selection of a lucky trial"
            else:
                why = "no more than that: the shortfall is the luck of the search seeds"
            notes.append(
                f"winner's curse: {r.candidate} {o.kpi} is {_number(r.mean)} on "
                f"{definition.confirm} fresh seeds, {_number(abs(gap))} short of the "
                f"{_number(r.search_mean)} the search saw on its {definition.replicates} "
                f"({where} the 95% interval); the scenario as given moved by "
                f"{_number(start_shift)} between the same seed sets, so {why}"
            )
    return notes


def constraint_notes(
    definition: OptimizeDefinition, confirmation: pd.DataFrame, start: dict[str, Any]
) -> list[str]:
    """A line for every constraint a confirmed candidate no longer meets on fresh seeds."""
    notes = []
    means = confirmation.set_index(["trial", "kpi"])["mean"]
    for c in definition.constraints:
        bound = means[(-1, c.kpi)] if c.bound is None else c.bound
        for trial in sorted({t for t, _ in means.index if t >= 0}):
            value = float(means[(trial, c.kpi)])
            if c.violation(value, float(bound)) > 0:
                notes.append(
                    f"trial {trial} does not meet {c.text} on the fresh seeds: {c.kpi} "
                    f"{_number(value)} against {_number(float(bound))}"
                )
    return notes


def edge_notes(
    definition: OptimizeDefinition, space: Sequence[Any], table: pd.DataFrame, best: list[int]
) -> list[str]:
    """'at the edge of the range: widen it' for best values within 2% of a bound, unless
    that end of the range is a bound of the schema (nothing lies past it)."""
    if not best:
        return []
    rows = table.set_index("trial")
    notes = []
    for trial in best[:1] if len(definition.objectives) == 1 else []:
        for lever in space:
            value = _plain(rows.loc[trial, lever.path])
            side = lever.at_edge(value)
            least, greatest = setting_limits(definition.scenario, lever.path)
            ends = lever.ends()
            if ends and (
                (side == "low" and ends[0] == least) or (side == "high" and ends[1] == greatest)
            ):
                continue
            if side:
                notes.append(
                    f"{lever.path} = {value:.6g} is at the edge of the range ({side} end): widen it"
                )
    return notes


def _spread(items: list[int], limit: int) -> list[int]:
    """At most `limit` items, evenly spaced, keeping the first and the last."""
    if len(items) <= limit:
        return list(items)
    picks = np.unique(np.round(np.linspace(0, len(items) - 1, limit)).astype(int))
    return [items[i] for i in picks]


def _plain(value: Any) -> Any:
    """numpy scalars from a table as plain Python values for a scenario."""
    return value.item() if isinstance(value, np.generic) else value


# --- the folder ------------------------------------------------------------------------------


def best_yaml(
    definition: OptimizeDefinition, settings: dict[str, Any], folder: Path, header: str
) -> str:
    """A scenario file that extends the input scenario and sets the best values.

    Settings given with --set are written too (the search ran with them). A path that goes
    through a list (a segment, a region) writes that whole list, because `extends:` replaces
    lists rather than merging them. A scenario given in Python is written whole.
    """
    best = scenario_with(definition.scenario, settings).model_dump(mode="json")
    best["name"] = f"{best['name']}-best"
    source = Path(definition.scenario_file)
    if source.is_file():
        relative = os.path.relpath(source.resolve(), Path(folder).resolve())
        data: dict[str, Any] = {"extends": Path(relative).as_posix(), "name": best["name"]}
        paths = [t.partition("=")[0].strip() for t in definition.overrides] + list(settings)
        for dotted in paths:
            _copy(data, best, dotted.split("."))
    else:  # a scenario built in Python has no file to extend: write all of it
        data = best
    comment = "".join(f"# {line}\n" for line in header.splitlines())
    return comment + yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def _copy(target: dict[str, Any], source: dict[str, Any], keys: list[str]) -> None:
    key = keys[0]
    value = source[key]
    if len(keys) == 1 or not isinstance(value, dict):
        target[key] = value
        return
    _copy(target.setdefault(key, {}), value, keys[1:])


def _prepare(
    folder: results.ResultsDir, definition: OptimizeDefinition, resume: bool, command: str
) -> dict[str, Any]:
    """Create the folder for a new study, or check that the one to resume is the same."""
    path = folder.path
    description = definition.describe()
    existing = path / "manifest.json"
    if existing.is_file():
        manifest = _read_manifest(existing)
        if not resume:
            raise OptimizeError(
                f"{path}: holds an optimisation; add --resume to continue it (with a larger "
                "--trials to extend it), or choose another --out"
            )
        changed = differences(manifest.get("definition", {}), description)
        if changed:
            raise OptimizeError(
                f"{path}: cannot resume: the definition differs from the one in manifest.json "
                f"({', '.join(changed)}); use the same scenario, --param, --objective, "
                "--constraint, --set, --replicates and --seed, or choose another --out"
            )
        studies.check_storage(path / STUDY_FILE)  # before the folder is marked unfinished
        if manifest.get("status") == "complete":
            if manifest.get("definition", {}).get("trials", 0) >= definition.trials:
                raise OptimizeError(
                    f"{path}: the optimisation is finished ({definition.trials} trials); give "
                    "a larger --trials to continue it"
                )
            results.write_text(path / results.INCOMPLETE, results.INCOMPLETE_TEXT)
            manifest["status"] = "incomplete"
            for name in results.ANSWER_FILES:
                (path / name).unlink(missing_ok=True)
        manifest["definition"] = description
        return manifest
    if resume and path.exists() and any(p.name != results.INCOMPLETE for p in path.iterdir()):
        raise OptimizeError(f"{path}: nothing to resume here (no manifest.json); choose --out")
    folder.create(allow_existing=resume)
    manifest = results.manifest(
        command,
        kind="optimize",
        status="incomplete",
        definition=description,
        search_seeds=replicate_seeds(definition.seed, definition.replicates),
        confirm_seeds=confirm_seeds(definition),
        seed_derivation="SeedSequence(seed).spawn(replicates + confirm): the search uses the "
        "first `replicates` for every candidate, the confirmation the rest; the sampler of "
        "trial t is seeded with SeedSequence(seed, spawn_key=(t,))",
        working_directory=os.getcwd(),
    )
    manifest["versions"].update(_library_versions())
    results.write_json(path / "manifest.json", manifest)
    return manifest


def _finish(
    result: OptimizeResult,
    folder: results.ResultsDir,
    manifest: dict[str, Any],
    charts: Charts | None,
) -> None:
    """Write the tables and best.yaml, let `charts` draw into the folder, then complete it."""
    definition = result.definition
    files = ["manifest.json", STUDY_FILE, "trials.parquet"]
    results.write_parquet(folder.file("trials.parquet"), result.trials)
    if not result.confirmation.empty:
        results.write_csv(folder.file("confirm.csv"), result.confirmation)
        files.append("confirm.csv")
    if len(definition.objectives) > 1:
        front = result.trials[result.trials["trial"].isin(result.best)]
        results.write_csv(folder.file("pareto.csv"), front)
        files.append("pareto.csv")
    if result.best:
        chosen = result.best[0] if len(definition.objectives) == 1 else _first_best(result)
        row = result.trials.set_index("trial").loc[chosen]
        settings = {p.path: _plain(row[p.path]) for p in definition.params}
        header = _best_header(result, chosen)
        results.write_text(
            folder.file("best.yaml"), best_yaml(definition, settings, folder.path, header)
        )
        files.append("best.yaml")
    importance = result.importance
    if not importance.empty:
        results.write_csv(folder.file("importance.csv"), importance)
        files.append("importance.csv")
    if charts is not None:
        files += charts(result, folder)
    manifest.update(
        best_trials=result.best,
        notes=result.notes,
        finished=_now(),
        files=files,
    )
    folder.complete(manifest)


def _first_best(result: OptimizeResult) -> int:
    """Of a Pareto set, the trial best on the first objective."""
    o = result.definition.objectives[0]
    front = result.trials[result.trials["trial"].isin(result.best)]
    ordered = front.sort_values([o.kpi, "trial"], ascending=[o.direction != "maximize", True])
    return int(ordered["trial"].iloc[0])


def _best_header(result: OptimizeResult, trial: int) -> str:
    d = result.definition
    row = result.trials.set_index("trial").loc[trial]
    values = ", ".join(f"{o.kpi} {_number(float(row[o.kpi]))}" for o in d.objectives)
    lines = [
        f"Written by channelsim optimize: trial {trial} of {len(result.trials)}, "
        f"mean of {d.replicates} replicates (seed {d.seed}): {values}.",
    ]
    if len(d.objectives) > 1:
        lines.append(
            f"A point of the Pareto set (the best on {d.objectives[0].kpi}); see pareto.csv."
        )
    if d.overrides:
        lines.append(
            "It also fixes what the optimisation fixed with --set ("
            + ", ".join(d.overrides)
            + "); give `compare` the same --set to compare like with like."
        )
    return "\n".join(lines)


def parameter_importance(study: Any, definition: OptimizeDefinition) -> pd.DataFrame:
    """PED-ANOVA importance of each lever for each objective over the complete trials: how
    much each lever's distribution differs between the best 10% of trials and all of them
    (Optuna's `PedAnovaImportanceEvaluator`, deterministic, needing no extra library)."""
    import optuna
    from optuna.importance import PedAnovaImportanceEvaluator, get_param_importances

    complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    if len(complete) < 2:
        return pd.DataFrame()
    rows = []
    for i, o in enumerate(definition.objectives):
        sign = -1.0 if o.direction == "maximize" else 1.0  # PED-ANOVA minimises its target
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # "it minimises": we negate
                found = get_param_importances(
                    study,
                    evaluator=PedAnovaImportanceEvaluator(),
                    target=lambda t, i=i, sign=sign: sign * t.values[i],
                    normalize=True,
                )
        except (ValueError, RuntimeError):
            continue
        rows += [{"kpi": o.kpi, "parameter": p, "importance": v} for p, v in found.items()]
    return pd.DataFrame(rows)


def _library_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for package in ("optuna", "scipy", "sqlalchemy", "dask", "distributed"):
        try:
            out[package] = version(package)
        except PackageNotFoundError:
            out[package] = "not installed"
    return out


def _read_manifest(path: Path) -> dict[str, Any]:
    data = results.read_manifest(path.parent)
    if data.get("kind") != "optimize":
        raise OptimizeError(f"{path}: not an optimisation folder; choose another --out")
    return data


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on the folder so two processes never write one study."""
    handle = open(path / ".lock", "a+")  # noqa: SIM115 - held for the whole optimisation
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OptimizeError(f"{path}: another optimisation is writing here") from None
        yield
    finally:
        handle.close()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _number(value: float) -> str:
    """Thousands separators for big values, 3 significant decimals for small ones."""
    if value is None or not math.isfinite(value):
        return "-"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:,.1f}" if abs(value) >= 10 else f"{value:.3f}"
