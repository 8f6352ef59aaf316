"""What a sweep is: a base scenario, swept parameters, a design, replicates and a seed.

A sweep comes from the command line (`--param PATH=SPEC`) or from a sweep file, a YAML
document with the same content that names its scenario file relative to itself:

    scenario: ../parallel.yaml
    design: grid
    replicates: 3
    seed: 1
    set: {weeks: 52}
    params:
      reps.commission.rate: 0.02:0.10:5
      engagement.large_accounts: [open, rep_only, rep_assists_dealer]

`plan` turns a definition into design points and per-run seeds, and builds every point's
scenario with `scenario_with`, so a bad path or value is reported before any run starts.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from channelsim.errors import InputError, ScenarioError
from channelsim.experiments import resources
from channelsim.experiments.designs import (
    DESIGNS,
    Design,
    DesignError,
    Param,
    design_size,
    make_design,
)
from channelsim.experiments.replicates import replicate_seeds
from channelsim.model.kpis import KPIS
from channelsim.scenario.loading import check_path, load_scenario, scenario_with
from channelsim.scenario.schema import Scenario
from channelsim.storage import inputs

RESERVED = {
    "seed": "each run's seed comes from the sweep seed; use --seed",
    "replicates": "use --replicates",
    "name": "the scenario name is not a lever",
}


class SweepError(ScenarioError):
    """Bad sweep input; the message is meant for the user as it is."""


@dataclass(frozen=True)
class SweepDefinition:
    """Everything that determines a sweep's results (and so must match to resume it)."""

    scenario: Scenario
    scenario_file: str
    params: tuple[Param, ...]
    design: str = "grid"
    samples: int | None = None
    replicates: int = 1
    seed: int = 0
    overrides: tuple[str, ...] = ()
    common_seeds: bool = False

    def describe(self) -> dict[str, Any]:
        """Plain JSON-ready description; `comparable` of it decides whether a resume matches."""
        return {
            "scenario_file": self.scenario_file,
            "overrides": list(self.overrides),
            "design": self.design,
            "samples": self.samples,
            "replicates": self.replicates,
            "seed": self.seed,
            "seeds": "common" if self.common_seeds else "independent",
            "params": {p.path: p.describe() for p in self.params},
            "kpis": list(KPIS),
            "code": code_fingerprint(),
            "numpy": np.__version__,
            "scenario": self.scenario.model_dump(mode="json"),
        }


# What decides a run's numbers: the model, the schema's defaults, seeds and designs.
RESULT_CODE = ("model", "scenario", "experiments/replicates.py", "experiments/designs.py",
               "experiments/sweep.py", "experiments/sweep_run.py")  # fmt: skip


def code_fingerprint() -> str:
    """A hash of the channelsim source that computes results (presentation code left out).

    Resuming with different model code would mix runs of two models in one table, so a
    sweep records this and refuses to resume when it has changed.
    """
    package = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        relative = path.relative_to(package).as_posix()
        if not any(relative == part or relative.startswith(part + "/") for part in RESULT_CODE):
            continue
        digest.update(relative.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def comparable(description: Mapping[str, Any]) -> dict[str, Any]:
    """The parts of a description that change results (not where the files were)."""
    plain = json.loads(json.dumps(description, default=str))
    return {k: v for k, v in plain.items() if k not in ("scenario_file", "overrides")}


def differences(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """Names of the top-level settings that differ between two descriptions."""
    a, b = comparable(old), comparable(new)
    return [key for key in sorted(set(a) | set(b)) if a.get(key) != b.get(key)]


# --- parsing ----------------------------------------------------------------------------


def parse_param(text: str) -> tuple[str, str]:
    """Split `PATH=SPEC` from the command line."""
    path, sep, spec = text.partition("=")
    if not sep or not path.strip() or not spec.strip():
        raise SweepError(
            f"--param {text!r}: expected PATH=SPEC, e.g. reps.commission.rate=0.02:0.1:5 "
            "or engagement.large_accounts=open,rep_only"
        )
    return path.strip(), spec.strip()


def parse_spec(path: str, spec: Any) -> Param:
    """Read one parameter's SPEC: `a:b:n`, `a,b,c`, `a:b`, `int:a:b`, `log:a:b`, or a list."""
    where = f"--param {path}={spec}"
    if path in RESERVED:
        raise SweepError(f"--param {path}: cannot be swept; {RESERVED[path]}")
    if isinstance(spec, list):
        if not spec or any(isinstance(v, dict | list) for v in spec):
            raise SweepError(f"{where}: expected a non-empty list of numbers or words")
        return Param(path, values=tuple(spec))
    if not isinstance(spec, str):
        return Param(path, values=(spec,))
    scale = "linear"
    body = spec
    for prefix in ("int", "log"):
        if spec.startswith(prefix + ":"):
            scale, body = prefix, spec[len(prefix) + 1 :]
    if ":" in body:
        parts = body.split(":")
        if len(parts) == 3 and scale == "linear":
            return Param(path, values=_spaced(where, *parts))
        if len(parts) == 2:
            low, high = _number(where, parts[0]), _number(where, parts[1])
            return _range(where, path, low, high, scale)
        raise SweepError(
            f"{where}: expected a:b:n (n values from a to b), a range a:b, int:a:b, log:a:b, "
            "or a list a,b,c"
        )
    if scale != "linear":
        raise SweepError(f"{where}: {scale}: needs a range a:b, e.g. {scale}:1:100")
    items = [item.strip() for item in body.split(",")]
    if any(not item for item in items):
        raise SweepError(f"{where}: empty item in the list")
    return Param(path, values=tuple(_scalar(where, item) for item in items))


def _spaced(where: str, a: str, b: str, n: str) -> tuple[Any, ...]:
    low, high = _number(where, a), _number(where, b)
    try:
        count = int(n)
    except ValueError:
        raise SweepError(f"{where}: n in a:b:n must be a whole number, found {n!r}") from None
    if count < 1:
        raise SweepError(f"{where}: n in a:b:n must be >= 1, found {count}")
    if count > resources.max_runs():
        raise SweepError(
            f"{where}: {count:,} values are more than a sweep may run (limit "
            f"{resources.max_runs():,} runs; raise it with CHANNELSIM_MAX_RUNS)"
        )
    values = np.linspace(low, high, count)
    if _is_int(a) and _is_int(b) and all(float(v).is_integer() for v in values):
        return tuple(int(v) for v in values)
    return tuple(float(f"{v:.12g}") for v in values)


def _range(where: str, path: str, low: float, high: float, scale: str) -> Param:
    if not low < high:
        raise SweepError(f"{where}: a range a:b needs a < b, found {low} and {high}")
    if scale == "log" and low <= 0:
        raise SweepError(f"{where}: log:a:b needs a > 0, found {low}")
    if scale == "int" and not (float(low).is_integer() and float(high).is_integer()):
        raise SweepError(f"{where}: int:a:b needs whole numbers, found {low} and {high}")
    return Param(path, low=low, high=high, scale=scale)  # type: ignore[arg-type]


def _number(where: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise SweepError(f"{where}: {text!r} is not a number") from None
    if not math.isfinite(value):
        raise SweepError(f"{where}: {text!r} is not a finite number")
    return value


def _is_int(text: str) -> bool:
    return text.strip().lstrip("+-").isdigit()


def _scalar(where: str, text: str) -> Any:
    """One listed value, read as strictly as a `--set` value (no tags, dates, NaN, aliases)."""
    try:
        value = inputs.yaml_value(text, where)
    except InputError as exc:
        raise SweepError(str(exc)) from None
    if value is None or isinstance(value, dict | list):
        raise SweepError(f"{where}: {text!r} is not a number or a word")
    return value


# --- sweep files ------------------------------------------------------------------------


class SweepFile(BaseModel):
    """The content of a sweep file (unknown keys are errors, like in scenario files)."""

    model_config = ConfigDict(extra="forbid")

    scenario: str = Field(min_length=1)
    params: dict[str, str | float | int | bool | list[Any]] = Field(min_length=1)
    design: str = "grid"
    samples: int | None = Field(None, ge=1)
    replicates: int | None = Field(None, ge=1, le=100_000)
    seed: int | None = Field(None, ge=0)
    common_seeds: bool = False
    set: dict[str, Any] = {}


def read_source(path: Path) -> Any:
    """The YAML of a scenario or sweep file, through the hardened reader (a bad file is
    reported here, whichever kind it was meant to be)."""
    try:
        return inputs.read_yaml(path, "scenario or sweep file")
    except InputError as exc:
        raise SweepError(str(exc)) from None


def is_sweep_file(data: Any) -> bool:
    """A YAML mapping with `params` is a sweep file (a scenario has no such key)."""
    return isinstance(data, dict) and "params" in data


def read_sweep_file(path: Path, data: Any) -> SweepFile:
    """Check a sweep file's content; `data` is what `read_source` read from `path`."""
    try:
        return SweepFile.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        found = "" if first["type"] == "missing" else f" (found {_short(first.get('input'))})"
        message = "unknown key" if first["type"] == "extra_forbidden" else first["msg"]
        raise SweepError(f"{path}: {where}: {message}{found}") from None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def define(
    source: Path,
    params: Sequence[str] = (),
    design: str | None = None,
    samples: int | None = None,
    replicates: int | None = None,
    seed: int | None = None,
    overrides: Iterable[str] = (),
    common_seeds: bool = False,
) -> SweepDefinition:
    """A definition from a scenario or sweep file plus command-line options (which win)."""
    specs: dict[str, Any] = {}
    fixed: list[str] = []
    scenario_path = source
    data = read_source(source)
    if is_sweep_file(data):
        content = read_sweep_file(source, data)
        scenario_path = source.parent / content.scenario
        specs.update(content.params)
        fixed = [f"{k}={json.dumps(v)}" for k, v in content.set.items()]
        design = design or content.design
        samples = samples if samples is not None else content.samples
        replicates = replicates or content.replicates
        seed = content.seed if seed is None else seed
        common_seeds = common_seeds or content.common_seeds
    given: set[str] = set()
    for text in params:
        path, spec = parse_param(text)
        if path in given:
            raise SweepError(f"--param {path}: given twice")
        given.add(path)
        specs[path] = spec
    fixed.extend(overrides)
    design = design or "grid"
    if design not in DESIGNS:
        raise SweepError(f"design {design!r}: expected one of {', '.join(DESIGNS)}")
    parsed = tuple(parse_spec(path, spec) for path, spec in specs.items())
    fixed_paths = {text.partition("=")[0].strip() for text in fixed}
    both = sorted(fixed_paths & set(specs))
    if both:
        raise SweepError(f"{', '.join(both)}: both swept (--param) and fixed (--set); choose one")
    base = load_scenario(scenario_path, fixed)
    for param in parsed:  # a path that names no setting is refused before any value is made
        try:
            check_path(base, param.path, "--param")
        except ScenarioError as exc:
            raise SweepError(str(exc)) from None
    return SweepDefinition(
        scenario=base,
        scenario_file=str(scenario_path),
        params=parsed,
        design=design,
        samples=samples,
        replicates=replicates or base.replicates,
        seed=base.seed if seed is None else seed,
        overrides=tuple(fixed),
        common_seeds=common_seeds,
    )


# --- the plan: points, seeds, validated scenarios -----------------------------------------


@dataclass(frozen=True)
class SweepPlan:
    """The design points, their settings and every run's seed (points x replicates)."""

    definition: SweepDefinition
    design: Design
    settings: tuple[dict[str, Any], ...]
    seeds: np.ndarray
    workers: int = 1  # the local workers at once its memory check allowed for

    @property
    def points(self) -> int:
        return len(self.settings)

    @property
    def runs(self) -> int:
        return self.points * self.definition.replicates

    kind = "sweep"  # the manifest's kind of folder

    def base(self, point: int) -> Scenario:
        """The scenario a point's settings apply to: the one base scenario of a sweep."""
        return self.definition.scenario

    @property
    def seed_derivation(self) -> str:
        """How the run seeds were derived, in words for the manifest."""
        if self.definition.common_seeds:
            return (
                "SeedSequence(seed, spawn_key=(replicate,)): the same at every point, top 63 bits"
            )
        return "SeedSequence(seed, spawn_key=(point, replicate)), top 63 bits"


def run_seeds(seed: int, points: int, replicates: int, common: bool = False) -> np.ndarray:
    """Seed of (point, replicate): SeedSequence(seed, spawn_key=(point, replicate)), 63 bits.

    The same as `SeedSequence(seed).spawn(points)[point].spawn(replicates)[replicate]`, so a
    run's seed depends only on the sweep seed and its place in the design, never on which
    executor or worker runs it. With `common`, replicate r has the same seed at every point
    (common random numbers), the seeds `channelsim run --seed` gives its replicates.
    """
    if common:
        return np.tile(np.array(replicate_seeds(seed, replicates), dtype=np.int64), (points, 1))
    out = np.empty((points, replicates), dtype=np.int64)
    for p in range(points):
        for r in range(replicates):
            state = np.random.SeedSequence(seed, spawn_key=(p, r)).generate_state(1, np.uint64)
            out[p, r] = int(state[0] >> np.uint64(1))
    return out


def count_runs(definition: SweepDefinition) -> tuple[int, int]:
    """(design points, runs) from the counts alone; refused beyond the limits at once."""
    d = definition
    points = design_size(list(d.params), d.design, d.samples)
    runs = points * d.replicates
    resources.check_runs(runs, points, d.replicates, f"{d.design} design")
    return points, runs


def plan(definition: SweepDefinition, workers: int | str = 1) -> SweepPlan:
    """Make the design, check the points' scenarios, and derive the run seeds.

    The size is checked before anything is made. Up to MAX_CHECKED distinct points are
    validated here, and beyond that the points holding each parameter's lowest and highest
    value; any other point that breaks a rule fails as a run, recorded with its reason.
    Their memory is checked for `workers` runs at once; `"auto"` chooses the count from
    the checked points (`resources.auto_workers`: the largest sets what fits), recorded
    in the plan.
    """
    count_runs(definition)
    try:
        design = make_design(
            list(definition.params), definition.design, definition.samples, definition.seed
        )
    except DesignError as exc:
        raise SweepError(str(exc)) from None
    settings = tuple(design.settings())
    checked = {
        p: _point_scenario(definition, settings, p) for p in _points_to_check(design, settings)
    }
    if resources.worker_count(workers) == "auto":
        workers = resources.auto_workers(list(checked.values()), definition.replicates)
    for point, scenario in checked.items():
        try:
            resources.check_run(scenario, definition.replicates, int(workers), in_memory=False)
        except ScenarioError as exc:
            raise SweepError(f"design point {point} ({_shown(settings[point])}): {exc}") from None
    seeds = run_seeds(
        definition.seed, len(settings), definition.replicates, definition.common_seeds
    )
    return SweepPlan(definition, design, settings, seeds, int(workers))


def _point_scenario(
    definition: SweepDefinition, settings: Sequence[dict[str, Any]], point: int
) -> Scenario:
    try:
        return scenario_with(definition.scenario, settings[point])
    except ScenarioError as exc:
        raise SweepError(f"design point {point} ({_shown(settings[point])}): {exc}") from None


def _shown(values: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in values.items())


MAX_CHECKED = 2_000


def _points_to_check(design: Design, settings: Sequence[dict[str, Any]]) -> list[int]:
    """The first MAX_CHECKED distinct points, then each parameter's extremes and levels."""
    chosen: dict[str, int] = {}
    for point, values in enumerate(settings[: MAX_CHECKED * 4]):
        key = json.dumps(values, sort_keys=True, default=str)
        chosen.setdefault(key, point)
        if len(chosen) >= MAX_CHECKED:
            break
    extra: set[int] = set()
    for column in design.values.values():
        numeric = [i for i, v in enumerate(column) if isinstance(v, int | float)]
        if column and len(numeric) == len(column):
            extra.add(min(numeric, key=column.__getitem__))
            extra.add(max(numeric, key=column.__getitem__))
        else:
            first: dict[str, int] = {}
            for i, v in enumerate(column):
                first.setdefault(repr(v), i)
                if len(first) > MAX_CHECKED:
                    break
            extra.update(first.values())
    return sorted(set(chosen.values()) | extra)
