"""Running a sweep: chunks of runs on an executor, an incremental Parquet dataset, resume.

The folder (start, resume, checks of what it holds) is `sweep_folder`; the indices of a
finished sweep are `sensitivity`; what the terminal shows is `output.sweep_text`.

Runs are numbered point-major (`run = point * replicates + replicate`) and grouped into
chunks of consecutive runs. Each finished chunk is written at once as one Parquet file in
`runs/` (atomically: a temporary name, then a rename), so a sweep killed at any moment
keeps every chunk it finished and never leaves a half-written file that looks valid.
`--resume` reads which (point, replicate) pairs are already in `runs/` and runs only the
others; the final tables are sorted by (point, replicate), so they are the same as an
uninterrupted sweep's whatever the chunking, the executor or the number of interruptions.

Chunk size: `ceil(runs / (4 x workers))`, at most 25 runs. Four tasks per worker keep the
workers evenly loaded to the end; the cap bounds what a kill can lose and keeps progress
moving. With runs of 0.1-1 s a chunk takes 1-25 s, against a scheduling cost of a few
milliseconds per task (see docs/performance.md).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from channelsim.errors import ChannelsimError
from channelsim.experiments.bounds import bounds_table
from channelsim.experiments.designs import SENSITIVITY_DESIGNS
from channelsim.experiments.executors import DaskCluster, Executor, describe, open_executor
from channelsim.experiments.replicates import RunSpec, run_spec
from channelsim.experiments.sweep import SweepError, SweepPlan, code_fingerprint
from channelsim.experiments.sweep_folder import KEYS, RUNS, done_runs, prepare, read_runs
from channelsim.model.kpis import KPIS
from channelsim.scenario.loading import scenario_with
from channelsim.scenario.schema import Scenario
from channelsim.storage import results

MAX_CHUNK = 25
TASKS_PER_WORKER = 4


class SweepStopped(RuntimeError):
    """The sweep stopped before the end (fail-fast, a lost executor); it can be resumed."""


@dataclass(frozen=True)
class RunTask:
    point: int
    replicate: int
    seed: int
    settings: dict[str, Any]
    base: Scenario  # the scenario the settings apply to


@dataclass(frozen=True)
class Chunk:
    """Consecutive runs shipped to a worker as one task (a scenario shared by runs is
    pickled once)."""

    runs: tuple[RunTask, ...]


def run_chunk(chunk: Chunk) -> list[dict[str, Any]]:
    """Run every run of a chunk; a run that raises is recorded as failed, not re-raised."""
    rows = []
    for task in chunk.runs:
        row: dict[str, Any] = {"point": task.point, "replicate": task.replicate, "seed": task.seed}
        try:
            scenario = scenario_with(task.base, task.settings)
            row["kpis"] = run_spec(RunSpec(scenario, task.seed)).kpis
            row["status"], row["error"] = "ok", ""
        except Exception as exc:  # noqa: BLE001 - any model failure is data for the table
            row["kpis"] = {}
            row["status"], row["error"] = "failed", f"{type(exc).__name__}: {exc}"
        rows.append(row)
    return rows


def chunk_size(runs: int, workers: int) -> int:
    """Runs per task: about four tasks per worker, at most MAX_CHUNK runs."""
    return max(1, min(MAX_CHUNK, math.ceil(runs / (TASKS_PER_WORKER * max(1, workers)))))


@dataclass
class SweepResult:
    folder: Path
    runs: pd.DataFrame
    summary: pd.DataFrame
    done_before: int
    ran: int
    failed: pd.DataFrame
    executor: str
    lost_workers: list[str] = field(default_factory=list)
    rescheduled_chunks: int = 0
    sensitivity: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)


Progress = Callable[[int, int], None]
Finish = Callable[[SweepPlan, results.ResultsDir, dict[str, Any], int, int, str], Any]
# Draws a finished sweep's charts into its folder and returns their names for the manifest;
# given by the output layer (`output.folders.draw_sweep`), so this layer draws nothing.
Draw = Callable[[SweepResult, SweepPlan], list[str]]


def run_sweep(
    plan: SweepPlan,
    out: Path,
    *,
    workers: int = 1,
    scheduler: str | None = None,
    resume: bool = False,
    fail_fast: bool = False,
    chunk: int | None = None,
    command: str = "",
    on_progress: Progress | None = None,
    finish: Finish | None = None,
    draw: Draw | None = None,
) -> Any:
    """Run (or continue) a sweep into `out` and write the tables, charts and manifest.

    `on_progress(done, total)` is called once before the first run and after every chunk.
    Raises SweepStopped when stopped early; whatever finished stays in `runs/`. Once every
    run is saved, `finish(plan, folder, manifest, runs_before, ran, executor)` writes the
    tables and completes the folder, with the lock still held, and its result is returned:
    by default the sweep's own (a SweepResult, with the charts `draw` adds, if given);
    `channelsim explore` passes its analysis.
    """
    folder = results.ResultsDir(out)
    if not (folder.path / "manifest.json").is_file():
        folder.check(allow_existing=resume)  # before connecting to anything
    with open_executor(workers, scheduler) as executor:
        if isinstance(executor, DaskCluster):
            _check_workers(executor)
        with folder.locked():
            manifest = prepare(folder, plan, resume, command)
            done = done_runs(folder.path / RUNS, plan)
            todo = [r for r in range(plan.runs) if r not in done]
            size = chunk or chunk_size(len(todo), getattr(executor, "workers", 1))
            session = {
                "started": _now(),
                "executor": describe(executor),
                "chunk_size": size,
                "runs_before": len(done),
                "command": command,
            }
            manifest.setdefault("sessions", []).append(session)
            results.write_json(folder.path / "manifest.json", manifest)
            if on_progress:
                on_progress(len(done), plan.runs)
            try:
                ran = _execute(
                    plan, folder, executor, todo, size, fail_fast, len(done), on_progress
                )
            except (Exception, KeyboardInterrupt):
                session.update(_executor_report(executor), stopped=_now())
                results.write_json(folder.path / "manifest.json", manifest)
                raise
            session.update(_executor_report(executor), finished=_now(), runs_done=ran)
            results.write_json(folder.path / "manifest.json", manifest)
            if finish is not None:  # the caller's own tables and charts
                return finish(plan, folder, manifest, len(done), ran, describe(executor))
            return _finish(plan, folder, manifest, len(done), ran, describe(executor), draw)


def _execute(
    plan: SweepPlan,
    folder: results.ResultsDir,
    executor: Executor,
    todo: list[int],
    size: int,
    fail_fast: bool,
    done: int,
    on_progress: Progress | None,
) -> int:
    chunks = [_chunk(plan, todo[i : i + size]) for i in range(0, len(todo), size)]
    points = plan.design.points()
    ran = 0
    stream = executor.map_unordered(run_chunk, chunks)
    try:
        while True:
            try:
                _, rows = next(stream)
            except StopIteration:
                break
            except Exception as exc:
                reason = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
                raise SweepStopped(
                    f"the executor failed ({type(exc).__name__}: {reason}); {done + ran} of "
                    f"{plan.runs} runs are saved in {folder.path / RUNS}; continue with --resume"
                ) from exc
            frame = _tidy(rows, points)
            first = int(frame["point"].iloc[0]) * plan.definition.replicates + int(
                frame["replicate"].iloc[0]
            )
            results.write_part(
                folder.path / RUNS / f"part-{first:09d}.parquet",
                lambda tmp, frame=frame: frame.to_parquet(tmp, index=False, engine="pyarrow"),
            )
            ran += len(frame)
            if on_progress:
                on_progress(done + ran, plan.runs)
            failed = frame[frame["status"] == "failed"]
            if fail_fast and not failed.empty:
                row = failed.iloc[0]
                raise SweepStopped(
                    f"run (point {row['point']}, replicate {row['replicate']}, seed "
                    f"{row['seed']}) failed: {row['error']}. Stopped (--fail-fast) with "
                    f"{done + ran} of {plan.runs} runs saved; continue with --resume"
                )
    finally:
        stream.close()
    return ran


def _chunk(plan: SweepPlan, runs: list[int]) -> Chunk:
    replicates = plan.definition.replicates
    tasks = []
    for run in runs:
        point, replicate = divmod(run, replicates)
        seed = int(plan.seeds[point, replicate])
        tasks.append(RunTask(point, replicate, seed, plan.settings[point], plan.base(point)))
    return Chunk(tuple(tasks))


def _tidy(rows: list[dict[str, Any]], points: pd.DataFrame) -> pd.DataFrame:
    """One row per run: point, replicate, seed, the swept values, status, error, every KPI."""
    ids = [row["point"] for row in rows]
    frame = pd.DataFrame(
        {
            "point": np.array(ids, dtype=np.int64),
            "replicate": np.array([row["replicate"] for row in rows], dtype=np.int64),
            "seed": np.array([row["seed"] for row in rows], dtype=np.int64),
        }
    )
    swept = points.iloc[ids].reset_index(drop=True)
    for column in swept.columns:
        frame[column] = swept[column].to_numpy()
    frame["status"] = pd.Series([row["status"] for row in rows], dtype="str")
    frame["error"] = pd.Series([row["error"] for row in rows], dtype="str")
    for name in KPIS:
        frame[name] = np.array([row["kpis"].get(name, np.nan) for row in rows], dtype=float)
    return frame


# --- statistics and the end of a sweep ----------------------------------------------------


def summarise(
    runs: pd.DataFrame, params: list[str], level: float = 0.95, bounds: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Per point and KPI: mean, std and (cut) t interval over successful replicates, and
    failures; `stats.summarise_kpis` for all points at once. `bounds`: columns (point),
    kpi, low, high."""
    from channelsim.experiments import stats  # scipy: not needed by worker processes

    points = pd.Index(sorted(runs["point"].unique()), name="point")
    ok = runs[runs["status"] == "ok"]
    table = stats.summarise_kpis(ok, KPIS, by=["point"], level=level, bounds=bounds, groups=points)
    first = runs.drop_duplicates("point").set_index("point")
    failed = (runs["status"] == "failed").groupby(runs["point"]).sum()
    for p in reversed(params):
        table.insert(1, p, first.loc[table["point"], p].to_numpy())
    table["failed"] = failed.reindex(table["point"]).to_numpy().astype(int)
    return table


# Swept settings that change what a KPI can be (reps in post <= headcount, ...).
BOUNDING = ("reps.headcount", "dealers.per_region", "market.", "strategy")


def point_bounds(plan: SweepPlan) -> pd.DataFrame:
    """Each KPI's possible range at each point, from the base scenario unless a swept
    setting changes it."""
    base = plan.definition.scenario
    if not any(p.path.startswith(BOUNDING) for p in plan.definition.params):
        return bounds_table({base.name: base})
    return bounds_table(
        {i: _point_scenario(base, settings) for i, settings in enumerate(plan.settings)},
        by="point",
    )


def _point_scenario(base: Scenario, settings: dict[str, Any]) -> Scenario:
    try:
        return scenario_with(base, settings)
    except ChannelsimError:  # the point's runs failed; its KPIs are empty anyway
        return base


def _finish(
    plan: SweepPlan,
    folder: results.ResultsDir,
    manifest: dict[str, Any],
    done_before: int,
    ran: int,
    executor: str,
    draw: Draw | None = None,
) -> SweepResult:
    from channelsim.experiments import sensitivity

    runs = read_runs(folder.path, manifest)
    if len(runs) != plan.runs or runs.duplicated(KEYS).any():
        raise SweepStopped(
            f"{folder.path / RUNS}: holds {len(runs)} runs, expected {plan.runs} distinct; "
            "continue with --resume"
        )
    params = [p.path for p in plan.definition.params]
    summary = summarise(runs, params, bounds=point_bounds(plan))
    results.write_parquet(folder.file("summary.parquet"), summary)
    failed = runs[runs["status"] == "failed"][[*KEYS, "seed", *params, "error"]]
    result = SweepResult(folder.path, runs, summary, done_before, ran, failed, executor)
    files = ["points.csv", f"{RUNS}/", "summary.parquet"]
    if plan.definition.design in SENSITIVITY_DESIGNS:
        try:
            result.sensitivity = sensitivity.write_sensitivity(folder.path, manifest, runs)
            files.append("sensitivity.csv")
        except SweepError as exc:
            result.notes.append(f"sensitivity not computed: {exc}")
        if not plan.definition.common_seeds:
            result.notes.append(
                "note: every point has its own seeds, so run-to-run noise adds to every "
                "parameter's index; --common-seeds removes it"
            )
    if draw is not None:
        files += draw(result, plan)
    sessions = manifest.get("sessions", [])
    result.lost_workers = [w for s in sessions for w in s.get("lost_workers", [])]
    result.rescheduled_chunks = sum(s.get("rescheduled_chunks", 0) for s in sessions)
    manifest.update(
        failed_runs=len(failed),
        lost_workers=result.lost_workers,
        rescheduled_chunks=result.rescheduled_chunks,
        finished=_now(),
        files=files,
    )
    folder.complete(manifest)
    return result


def _check_workers(cluster: DaskCluster) -> None:
    """Every Dask worker must run the same channelsim code as this process."""
    try:
        found = cluster.client.run(code_fingerprint)
    except Exception as exc:  # noqa: BLE001 - any failure here means workers cannot run us
        raise SweepError(
            f"--scheduler {cluster.address}: the workers cannot run channelsim "
            f"({type(exc).__name__}: {exc}); install channelsim on every worker"
        ) from None
    ours = code_fingerprint()
    other = sorted(worker for worker, value in found.items() if value != ours)
    if other:
        raise SweepError(
            f"--scheduler {cluster.address}: worker(s) {', '.join(other)} run different "
            "channelsim code than this machine; install the same version everywhere"
        )


def _executor_report(executor: Executor) -> dict[str, Any]:
    if isinstance(executor, DaskCluster):
        return {
            "lost_workers": list(executor.lost_workers),
            "rescheduled_chunks": len(executor.rescheduled),
        }
    return {}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
