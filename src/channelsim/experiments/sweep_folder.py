"""A sweep's folder: start it, resume it, and read it back trusting nothing in it.

`manifest.json` is validated against `SweepManifest` (pydantic) before any field is used,
and every Parquet part in `runs/` is checked before its runs count: a regular file inside
the folder, the columns and types a sweep writes, keys inside the design, each run's seed
the plan's seed, no run twice. A part that fails is named with the advice to delete it and
`--resume`, which redoes its runs; nothing wrong is ever counted as done.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from channelsim.experiments.sweep import SweepError, SweepPlan, comparable, differences
from channelsim.model.kpis import KPIS
from channelsim.storage import results

RUNS = "runs"
KEYS = ["point", "replicate"]
STATUSES = ("ok", "failed")
MAX_MANIFEST_BYTES = 512 << 20  # the seeds of a million runs take about 20 MB


class SweepManifest(BaseModel):
    """The fields of a sweep's manifest.json that resume and sensitivity rely on."""

    model_config = ConfigDict(extra="allow")

    kind: str  # "sweep", or a job built on sweeps ("explore")
    status: Literal["incomplete", "complete"]
    definition: dict[str, Any]
    design: dict[str, Any]
    points: int = Field(ge=1)
    runs: int = Field(ge=1)
    seeds: list[list[int]]
    sessions: list[dict[str, Any]] = []


def read_manifest(path: Path) -> dict[str, Any]:
    """The manifest as a dict, after checking it against `SweepManifest`."""
    path = Path(path)
    if path.is_symlink() or not path.is_file():
        raise SweepError(f"{path}: expected the sweep's manifest.json as a regular file")
    if path.stat().st_size > MAX_MANIFEST_BYTES:
        raise SweepError(f"{path}: larger than {MAX_MANIFEST_BYTES >> 20} MB; not a manifest")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SweepError(f"{path}: cannot read the sweep manifest ({exc})") from None
    if not isinstance(data, dict):
        raise SweepError(
            f"{path}: not a sweep manifest (expected a JSON object, found {_json_kind(data)})"
        )
    try:
        SweepManifest.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise SweepError(f"{path}: not a valid sweep manifest: {where}: {first['msg']}") from None
    return data


def prepare(
    folder: results.ResultsDir, plan: SweepPlan, resume: bool, command: str
) -> dict[str, Any]:
    """Create the folder for a new sweep, or check that the one to resume is the same sweep."""
    path = folder.path
    description = plan.definition.describe()
    existing = path / "manifest.json"
    if existing.is_file() or existing.is_symlink():
        manifest = read_manifest(existing)
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
        results.write_text(path / results.INCOMPLETE, results.INCOMPLETE_TEXT)
        manifest["status"] = "incomplete"
        results.write_csv(path / "points.csv", plan.design.points().reset_index())
        return manifest
    if resume and path.exists() and has_content(path):
        raise SweepError(f"{path}: nothing to resume here (no manifest.json); choose --out")
    folder.create(allow_existing=True)
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
    manifest["versions"].update(library_versions())
    results.write_json(path / "manifest.json", manifest)
    results.write_csv(path / "points.csv", plan.design.points().reset_index())
    return manifest


def library_versions() -> dict[str, str]:
    """Versions of the libraries a sweep adds (designs, indices, cluster)."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for package in ("scipy", "SALib", "dask", "distributed"):
        try:
            out[package] = version(package)
        except PackageNotFoundError:
            out[package] = "not installed"
    return out


def has_content(path: Path) -> bool:
    """Anything beyond a bare start (the INCOMPLETE marker, the lock, an empty runs/)."""
    for item in path.iterdir():
        if item.name in (results.INCOMPLETE, results.LOCK):
            continue
        if item.name == RUNS and item.is_dir() and not any(item.iterdir()):
            continue
        return True
    return False


def done_runs(runs_dir: Path, plan: SweepPlan) -> set[int]:
    """Run numbers already saved, each part checked; leftovers of a cut write are removed."""
    runs_dir.mkdir(parents=True, exist_ok=True)
    results.remove_leftovers(runs_dir)
    replicates = plan.definition.replicates
    params = [p.path for p in plan.definition.params]
    done: set[int] = set()
    for part in _parts(runs_dir):
        frame = read_part(part, plan.points, replicates, params, plan.seeds)
        for point, replicate in zip(frame["point"], frame["replicate"], strict=True):
            run = int(point) * replicates + int(replicate)
            if run in done:
                raise _bad_part(part, f"run (point {point}, replicate {replicate}) is saved twice")
            done.add(run)
    return done


def read_part(
    part: Path,
    points: int,
    replicates: int,
    params: list[str],
    seeds: np.ndarray | None = None,
) -> pd.DataFrame:
    """One chunk file, checked: columns, types, keys inside the design, the plan's seeds."""
    try:
        table = pq.read_table(part)
    except Exception as exc:  # noqa: BLE001 - any unreadable file gets the same advice
        raise _bad_part(part, f"cannot read ({type(exc).__name__}: {exc})") from None
    schema = table.schema
    expected = [*KEYS, "seed", *params, "status", "error", *KPIS]
    missing = [c for c in expected if c not in schema.names]
    if missing:
        raise _bad_part(part, f"columns missing: {', '.join(missing[:5])}")
    for column in [*KEYS, "seed"]:
        kind = schema.field(column).type
        if not pa.types.is_integer(kind):
            raise _bad_part(part, f"column {column!r} holds {kind}, not integers")
    for column in KPIS:
        kind = schema.field(column).type
        if not (pa.types.is_floating(kind) or pa.types.is_integer(kind) or pa.types.is_null(kind)):
            raise _bad_part(part, f"KPI column {column!r} holds {kind}, not numbers")
    for column in ("status", "error"):
        kind = schema.field(column).type
        if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
            raise _bad_part(part, f"column {column!r} holds {kind}, not text")
    frame = table.to_pandas()
    if frame.empty:
        raise _bad_part(part, "holds no runs")
    point, replicate = frame["point"].to_numpy(), frame["replicate"].to_numpy()
    if (point < 0).any() or (point >= points).any():
        raise _bad_part(part, f"a point outside the design's 0..{points - 1}")
    if (replicate < 0).any() or (replicate >= replicates).any():
        raise _bad_part(part, f"a replicate outside 0..{replicates - 1}")
    if not frame["status"].isin(STATUSES).all():
        raise _bad_part(part, "a run's status is neither 'ok' nor 'failed'")
    if seeds is not None and not np.array_equal(frame["seed"].to_numpy(), seeds[point, replicate]):
        raise _bad_part(part, "a run's seed is not the plan's seed for its point and replicate")
    ok = frame["status"] == "ok"
    values = frame.loc[ok, list(KPIS)].to_numpy(dtype=float)
    if np.isinf(values).any():
        raise _bad_part(part, "a successful run has an infinite KPI")
    return frame


def read_runs(folder: Path, manifest: dict[str, Any] | None = None) -> pd.DataFrame:
    """The runs table of a sweep folder, sorted by (point, replicate), every part checked."""
    folder = Path(folder)
    manifest = manifest or read_manifest(folder / "manifest.json")
    runs_dir = folder / RUNS
    parts = _parts(runs_dir) if runs_dir.is_dir() else []
    if not parts:
        raise SweepError(f"{runs_dir}: no runs saved")
    points = int(manifest["points"])
    replicates = int(manifest["runs"]) // points
    params = list(manifest["definition"].get("params", {}))
    seeds = np.asarray(manifest["seeds"], dtype=np.int64)
    seeds = seeds if seeds.shape == (points, replicates) else None
    frames = [read_part(p, points, replicates, params, seeds) for p in parts]
    frame = pd.concat(frames, ignore_index=True)
    if frame.duplicated(KEYS).any():
        raise SweepError(f"{runs_dir}: a run is saved twice; delete the part that repeats it")
    return frame.sort_values(KEYS, kind="stable").reset_index(drop=True)


def _parts(runs_dir: Path) -> list[Path]:
    """The Parquet parts, refusing anything that is not a regular file of this folder."""
    parts = []
    for item in sorted(runs_dir.iterdir()):
        if item.name.startswith("."):
            continue
        if item.is_symlink() or not item.is_file() or item.suffix != ".parquet":
            raise _bad_part(item, "not a Parquet part written by a sweep")
        parts.append(item)
    return parts


def _bad_part(part: Path, why: str) -> SweepError:
    return SweepError(f"{part}: {why}; delete it and --resume to redo its runs")


def _json_kind(value: Any) -> str:
    return {list: "a list", type(None): "null", str: "text"}.get(type(value), type(value).__name__)
