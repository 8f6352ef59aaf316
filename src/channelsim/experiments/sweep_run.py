"""Running a sweep: chunks of runs on an executor, an incremental Parquet dataset, resume.

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

import fcntl
import json
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from channelsim.errors import ChannelsimError
from channelsim.experiments.bounds import bounds_table
from channelsim.experiments.designs import SENSITIVITY_DESIGNS
from channelsim.experiments.executors import DaskCluster, Executor, describe, open_executor
from channelsim.experiments.replicates import RunSpec, run_spec
from channelsim.experiments.sweep import (
    SweepError,
    SweepPlan,
    code_fingerprint,
    comparable,
    differences,
)
from channelsim.model.kpis import KPIS
from channelsim.scenario.loading import scenario_with
from channelsim.scenario.schema import Scenario
from channelsim.storage import results

MAX_CHUNK = 25
TASKS_PER_WORKER = 4
RUNS = "runs"
KEYS = ["point", "replicate"]


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
) -> Any:
    """Run (or continue) a sweep into `out` and write the tables, charts and manifest.

    `on_progress(done, total)` is called once before the first run and after every chunk.
    Raises SweepStopped when stopped early; whatever finished stays in `runs/`. Once every
    run is saved, `finish(plan, folder, manifest, runs_before, ran, executor)` writes the
    tables and completes the folder, with the lock still held, and its result is returned:
    by default the sweep's own (a SweepResult); `channelsim explore` passes its analysis.
    """
    folder = results.ResultsDir(out)
    if not (folder.path / "manifest.json").is_file():
        folder.check(allow_existing=resume)  # before connecting to anything
    with open_executor(workers, scheduler) as executor:
        if isinstance(executor, DaskCluster):
            _check_workers(executor)
        manifest = _prepare(folder, plan, resume, command)
        with _locked(folder.path):
            done = _done_runs(folder.path / RUNS, plan)
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
            return (finish or _finish)(plan, folder, manifest, len(done), ran, describe(executor))


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
            results.write_parquet(folder.path / RUNS / f"part-{first:09d}.parquet", frame)
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


# --- the folder: start, resume, read, finish -----------------------------------------------


def _prepare(
    folder: results.ResultsDir, plan: SweepPlan, resume: bool, command: str
) -> dict[str, Any]:
    """Create the folder for a new sweep, or check that the one to resume is the same sweep."""
    path = folder.path
    description = plan.definition.describe()
    existing = path / "manifest.json"
    if existing.is_file():
        manifest = _read_manifest(existing)
        if not resume:
            state = "a finished" if manifest.get("status") == "complete" else "an unfinished"
            raise SweepError(
                f"{path}: holds {state} sweep; add --resume to continue it, or choose another --out"
            )
        changed = differences(manifest.get("definition", {}), description)
        if "code" in changed or "numpy" in changed:
            raise SweepError(
                f"{path}: cannot resume: the channelsim code or numpy version changed since "
                "this sweep started, so old and new runs would come from different models; "
                "start a new sweep with another --out"
            )
        if changed:
            raise SweepError(
                f"{path}: cannot resume: the sweep definition differs from the one in "
                f"{existing.name} ({', '.join(changed)}); use the same scenario, --param, "
                "--set, --design, --samples, --replicates and --seed, or choose another --out"
            )
        same_design = comparable(manifest.get("design", {})) == comparable(plan.design.describe())
        if not same_design or manifest.get("seeds") != plan.seeds.tolist():
            raise SweepError(
                f"{path}: cannot resume: the design points or run seeds computed now differ "
                f"from those in {existing.name} (a different scipy or SALib version?)"
            )
        results.write_csv(path / "points.csv", plan.design.points().reset_index())
        return manifest
    if resume and path.exists() and _has_content(path):
        raise SweepError(f"{path}: nothing to resume here (no manifest.json); choose --out")
    folder.create(allow_existing=resume)
    manifest = results.manifest(
        command,
        kind=plan.kind,
        status="incomplete",
        definition=description,
        design=plan.design.describe(),
        points=plan.points,
        runs=plan.runs,
        seeds=plan.seeds.tolist(),
        seed_derivation=plan.seed_derivation,
    )
    manifest["versions"].update(_library_versions())
    results.write_json(path / "manifest.json", manifest)
    results.write_csv(path / "points.csv", plan.design.points().reset_index())
    return manifest


def _library_versions() -> dict[str, str]:
    """Versions of the libraries a sweep adds (designs, indices, cluster)."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for package in ("scipy", "SALib", "dask", "distributed"):
        try:
            out[package] = version(package)
        except PackageNotFoundError:
            out[package] = "not installed"
    return out


def _has_content(path: Path) -> bool:
    """Anything beyond a bare start (the INCOMPLETE marker, the lock, an empty runs/)."""
    for item in path.iterdir():
        if item.name in (results.INCOMPLETE, ".lock"):
            continue
        if item.name == RUNS and item.is_dir() and not any(item.iterdir()):
            continue
        return True
    return False


def _read_manifest(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SweepError(f"{path}: cannot read the sweep manifest ({exc})") from None


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on the folder so two sweeps never write the same runs."""
    handle = open(path / ".lock", "a+")  # noqa: SIM115 - held for the whole sweep
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SweepError(f"{path}: another sweep is writing to this folder") from None
        yield
    finally:
        handle.close()


def _done_runs(runs_dir: Path, plan: SweepPlan) -> set[int]:
    """Run numbers already saved; leftovers of an interrupted write are removed."""
    runs_dir.mkdir(parents=True, exist_ok=True)
    done: set[int] = set()
    for leftover in runs_dir.glob(".*.tmp"):
        leftover.unlink(missing_ok=True)
    for part in sorted(runs_dir.glob("*.parquet")):
        try:
            table = pq.read_table(part, columns=KEYS).to_pandas()
        except Exception as exc:  # noqa: BLE001 - any unreadable file gets the same advice
            raise SweepError(
                f"{part}: cannot read ({exc}); delete it and --resume to redo its runs"
            ) from None
        for point, replicate in zip(table["point"], table["replicate"], strict=True):
            run = int(point) * plan.definition.replicates + int(replicate)
            if run in done:
                raise SweepError(f"{part}: run (point {point}, replicate {replicate}) twice")
            done.add(run)
    return done


def read_runs(folder: Path) -> pd.DataFrame:
    """The runs table of a sweep folder, sorted by (point, replicate)."""
    runs_dir = Path(folder) / RUNS
    parts = sorted(runs_dir.glob("*.parquet"))
    if not parts:
        raise SweepError(f"{runs_dir}: no runs saved")
    frame = pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)
    return frame.sort_values(KEYS, kind="stable").reset_index(drop=True)


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
) -> SweepResult:
    from channelsim.output import sweep_charts
    from channelsim.output.charts import save_figures

    runs = read_runs(folder.path)
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
            result.sensitivity = write_sensitivity(folder.path, manifest, runs)
            files.append("sensitivity.csv")
        except SweepError as exc:
            result.notes.append(f"sensitivity not computed: {exc}")
        if not plan.definition.common_seeds:
            result.notes.append(
                "note: every point has its own seeds, so run-to-run noise adds to every "
                "parameter's index; --common-seeds removes it"
            )
    figures = sweep_charts.sweep_figures(runs, params, plan.definition.design, result.sensitivity)
    if figures:
        save_figures(figures, folder.file("charts"))
        files.append("charts/")
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


def write_sensitivity(
    folder: Path, manifest: dict[str, Any] | None = None, runs: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Sensitivity indices of a sobol or morris sweep into `sensitivity.csv`."""
    from channelsim.experiments import sensitivity

    folder = Path(folder)
    manifest = manifest or _read_manifest(folder / "manifest.json")
    if manifest.get("kind") != "sweep":
        raise SweepError(f"{folder}: not a sweep folder (no sweep manifest.json)")
    runs = read_runs(folder) if runs is None else runs
    design = manifest["design"]
    table = sensitivity.analyse(runs, design, list(KPIS), seed=manifest["definition"]["seed"])
    results.write_csv(folder / "sensitivity.csv", table)
    return table


def sensitivity_job(folder: Path) -> pd.DataFrame:
    """`channelsim sensitivity DIR`: indices and their chart for a finished sweep."""
    from channelsim.output import sweep_charts
    from channelsim.output.charts import save_figures

    folder = Path(folder)
    if not (folder / "manifest.json").is_file():
        raise SweepError(f"{folder}: no manifest.json; expected a sweep results folder")
    manifest = _read_manifest(folder / "manifest.json")
    if manifest.get("status") != "complete":
        raise SweepError(f"{folder}: the sweep is not finished; complete it with --resume")
    table = write_sensitivity(folder, manifest)
    save_figures(sweep_charts.sensitivity_figures(table), folder / "charts")
    return table


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


def report_text(result: SweepResult, params: list[str], limit: int = 12) -> str:
    """What the terminal shows after a sweep: runs, failures, lost workers, best points."""
    from channelsim.output.display import number

    lines = []
    if result.done_before:
        lines.append(f"resumed: {result.done_before} runs were already saved; ran {result.ran}")
    if result.lost_workers:
        lines.append(
            f"Dask: lost {len(result.lost_workers)} worker(s) "
            f"({', '.join(result.lost_workers)}); {result.rescheduled_chunks} chunk(s) "
            "rescheduled on other workers"
        )
    if len(result.failed):
        lines.append(f"FAILED runs: {len(result.failed)} (recorded in runs/ with their error)")
        for row in result.failed.head(5).itertuples(index=False):
            lines.append(
                f"  point {row.point} replicate {row.replicate} seed {row.seed}: {row.error}"
            )
    lines.extend(result.notes)
    kpi = "company_profit" if "company_profit" in set(result.summary["kpi"]) else None
    if kpi:
        table = result.summary[result.summary["kpi"] == kpi]
        table = table.sort_values("mean", ascending=False).head(limit)
        shown = pd.DataFrame(
            {
                "point": table["point"],
                **{p: table[p].map(_short) for p in params},
                f"{kpi} mean": table["mean"].map(number),
                "95% CI": [
                    "-" if np.isnan(lo) else f"[{number(lo)}, {number(hi)}]"
                    for lo, hi in zip(table["ci_low"], table["ci_high"], strict=True)
                ],
                "failed": table["failed"],
            }
        )
        title = f"Design points by mean {kpi}" + (
            f" (best {limit} of {result.summary['point'].nunique()})"
            if result.summary["point"].nunique() > limit
            else ""
        )
        lines += ["", title, shown.to_string(index=False)]
        lines += edge_notes(result.summary, params, kpi)
    if result.sensitivity is not None:
        lines += ["", sensitivity_text(result.sensitivity)]
    lines += ["", f"Results in {result.folder}"]
    return "\n".join(lines)


def edge_notes(summary: pd.DataFrame, params: list[str], kpi: str) -> list[str]:
    """A warning for each numeric lever whose best value (by mean `kpi`) is the lowest or
    highest value tried: the optimum may lie outside the swept range."""
    table = summary[summary["kpi"] == kpi].dropna(subset=["mean"])
    if table.empty:
        return []
    best = table.loc[table["mean"].idxmax()]
    notes = []
    for p in params:
        values = pd.to_numeric(table[p], errors="coerce")
        if values.isna().any() or values.nunique() < 2:
            continue  # words (rules) have no edge; one value is no range
        value = float(values.loc[best.name])
        for edge, word, side in (
            (values.min(), "lowest", "below"),
            (values.max(), "highest", "above"),
        ):
            if value == edge:
                notes.append(
                    f"note: the best {kpi} is at the {word} value of {p} tried ({_short(value)}): "
                    f"the best may lie {side} it; widen the range"
                )
    return notes


def sensitivity_text(table: pd.DataFrame) -> str:
    """Parameters ranked by ST (Sobol) or mu* (Morris) for the headline KPIs."""
    from channelsim.output.display import number
    from channelsim.output.sweep_charts import HEADLINE

    key = "ST" if "ST" in table.columns else "mu_star"
    lines = []
    for kpi in HEADLINE:
        frame = table[table["kpi"] == kpi].sort_values(key, ascending=False)
        if len(frame):
            ranked = ", ".join(
                f"{r.parameter} {number(getattr(r, key))}" for r in frame.itertuples(index=False)
            )
            lines.append(f"{kpi} ({key}): {ranked}")
    return "\n".join(lines)


def _short(value: Any) -> str:
    """A swept value for the terminal: floats to 4 significant digits."""
    return f"{value:.4g}" if isinstance(value, float | np.floating) else str(value)
