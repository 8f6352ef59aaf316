"""What an optimisation is: a scenario, levers with ranges, objectives, constraints, a budget.

It comes from the command line (`--param`, `--objective`, `--constraint`) or from an
optimiser file, a YAML document that names its scenario file relative to itself:

    scenario: ../parallel.yaml
    params:
      dealers.markup: 0.10:0.40
      pricing.list_price: 90:110
    objectives: [company_profit:max]
    constraints: ["market_share>=start"]
    trials: 40
    replicates: 3
    seed: 1
    set: {weeks: 52}

Levers use the sweep syntax (`a:b` a range, `int:a:b`, `log:a:b`, `a:b:n` n ordered levels,
`a,b,c` a list). A constraint's bound is a number or `start`, the KPI's mean for the
scenario as given on the same seeds. Everything is checked before any run starts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from channelsim.errors import ChannelsimError, InputError, ScenarioError
from channelsim.experiments.designs import Param
from channelsim.experiments.sweep import code_fingerprint, parse_param, parse_spec
from channelsim.model.metrics import KPIS
from channelsim.scenario.loading import load_scenario, scenario_with
from channelsim.scenario.schema import Scenario
from channelsim.storage import inputs

MAX_TRIALS = 100_000


# Why `workers="auto"` is refused: the default batch of trials is the worker count.
NO_AUTO_WORKERS = (
    "the default batch of trials is the number of workers, so the trials proposed would "
    "follow the machine; give a number"
)


class OptimizeError(ChannelsimError):
    """Bad optimisation input; the message is meant for the user as it is."""


@dataclass(frozen=True)
class Objective:
    kpi: str
    direction: Literal["maximize", "minimize"]

    @property
    def text(self) -> str:
        return f"{self.kpi}:{'max' if self.direction == 'maximize' else 'min'}"

    def better(self, a: float, b: float) -> bool:
        """Whether `a` is strictly better than `b` for this objective."""
        return a > b if self.direction == "maximize" else a < b


@dataclass(frozen=True)
class Constraint:
    """`kpi >= bound` or `kpi <= bound` on the replicate mean; `bound` None means `start`."""

    kpi: str
    op: Literal[">=", "<="]
    bound: float | None

    @property
    def text(self) -> str:
        return f"{self.kpi}{self.op}{'start' if self.bound is None else _g(self.bound)}"

    def violation(self, mean: float, bound: float) -> float:
        """How far the mean is on the wrong side of the bound (<= 0: satisfied)."""
        return bound - mean if self.op == ">=" else mean - bound


def parse_objective(text: str) -> Objective:
    kpi, _, way = text.strip().partition(":")
    kpi, way = kpi.strip(), way.strip().lower()
    if way not in ("max", "min"):
        raise OptimizeError(
            f"--objective {text!r}: expected KPI:max or KPI:min, e.g. company_profit:max"
        )
    return Objective(_kpi(kpi, f"--objective {text!r}"), "maximize" if way == "max" else "minimize")


_CONSTRAINT = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(>=|<=)\s*(\S+)\s*$")


def parse_constraint(text: str) -> Constraint:
    match = _CONSTRAINT.match(text)
    if not match:
        raise OptimizeError(
            f"--constraint {text!r}: expected KPI>=X or KPI<=X (X a number or 'start'), "
            "e.g. market_share>=0.2"
        )
    kpi, op, bound = match.groups()
    kpi = _kpi(kpi, f"--constraint {text!r}")
    if bound == "start":
        return Constraint(kpi, op, None)  # type: ignore[arg-type]
    try:
        value = float(bound)
    except ValueError:
        raise OptimizeError(
            f"--constraint {text!r}: {bound!r} is not a number or 'start'"
        ) from None
    if not np.isfinite(value):
        raise OptimizeError(f"--constraint {text!r}: the bound must be a finite number")
    return Constraint(kpi, op, value)  # type: ignore[arg-type]


def _kpi(name: str, where: str) -> str:
    if name not in KPIS:
        import difflib

        close = difflib.get_close_matches(name, KPIS, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]}?" if close else "; `channelsim kpis` lists them"
        raise OptimizeError(f"{where}: unknown KPI {name!r}{hint}")
    return name


@dataclass(frozen=True)
class OptimizeDefinition:
    """Everything that determines the trials (and so must match to resume a study)."""

    scenario: Scenario
    scenario_file: str
    params: tuple[Param, ...]
    objectives: tuple[Objective, ...]
    constraints: tuple[Constraint, ...] = ()
    trials: int = 50
    replicates: int = 3
    seed: int = 0
    confirm: int = 12
    overrides: tuple[str, ...] = ()

    @property
    def population(self) -> int:
        """NSGA-II's generation size: about five generations in the budget, 4 to 50."""
        return max(4, min(50, self.trials // 5))

    def describe(self) -> dict[str, Any]:
        """Plain JSON-ready description; `comparable` parts of it decide a resume."""
        import optuna

        return {
            "scenario_file": self.scenario_file,
            "overrides": list(self.overrides),
            "params": {p.path: p.describe() for p in self.params},
            "objectives": [o.text for o in self.objectives],
            "constraints": [c.text for c in self.constraints],
            "replicates": self.replicates,
            "seed": self.seed,
            "sampler": "TPE" if len(self.objectives) == 1 else "NSGA-II",
            "population": None if len(self.objectives) == 1 else self.population,
            "trials": self.trials,
            "confirm": self.confirm,
            "code": code_fingerprint(),
            "numpy": np.__version__,
            "optuna": optuna.__version__,
            "scenario": self.scenario.model_dump(mode="json"),
        }


# What may differ when a study is resumed: where files were, the budget, the confirmation.
NOT_COMPARED = ("scenario_file", "overrides", "trials", "confirm", "population")


def differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    a, b = (
        {k: v for k, v in json.loads(json.dumps(d, default=str)).items() if k not in NOT_COMPARED}
        for d in (old, new)
    )
    return [key for key in sorted(set(a) | set(b)) if a.get(key) != b.get(key)]


# --- optimiser files ----------------------------------------------------------------------


class OptimizeFile(BaseModel):
    """The content of an optimiser file (unknown keys are errors, as in scenario files)."""

    model_config = ConfigDict(extra="forbid")

    scenario: str = Field(min_length=1)
    params: dict[str, str | float | int | bool | list[Any]] = Field(min_length=1)
    objectives: list[str] | str
    constraints: list[str] = []
    trials: int | None = Field(None, ge=1, le=MAX_TRIALS)
    replicates: int | None = Field(None, ge=1, le=10_000)
    seed: int | None = Field(None, ge=0)
    confirm: int | None = Field(None, ge=0, le=100_000)
    set: dict[str, Any] = {}


def is_optimize_file(path: Path) -> bool:
    """A YAML mapping with `objectives` is an optimiser file (a scenario has no such key)."""
    try:
        return "objectives" in inputs.read_yaml(path, "optimiser file")
    except InputError:
        return False


def read_optimize_file(path: Path) -> OptimizeFile:
    try:
        return OptimizeFile.model_validate(inputs.read_yaml(path, "optimiser file"))
    except InputError as exc:
        raise OptimizeError(str(exc)) from None
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        found = "" if first["type"] == "missing" else f" (found {first.get('input')!r})"
        message = "unknown key" if first["type"] == "extra_forbidden" else first["msg"]
        raise OptimizeError(f"{path}: {where}: {message}{found}") from None


def define(
    source: Path,
    params: Sequence[str] = (),
    objectives: Sequence[str] = (),
    constraints: Sequence[str] = (),
    trials: int | None = None,
    replicates: int | None = None,
    seed: int | None = None,
    confirm: int | None = None,
    overrides: Iterable[str] = (),
) -> OptimizeDefinition:
    """A definition from a scenario or optimiser file plus options (options win)."""
    specs: dict[str, Any] = {}
    fixed: list[str] = []
    scenario_path = source
    file_objectives: list[str] = []
    file_constraints: list[str] = []
    if is_optimize_file(source):
        content = read_optimize_file(source)
        scenario_path = source.parent / content.scenario
        specs.update(content.params)
        fixed = [f"{k}={json.dumps(v)}" for k, v in content.set.items()]
        file_objectives = (
            [content.objectives] if isinstance(content.objectives, str) else content.objectives
        )
        file_constraints = content.constraints
        trials = trials or content.trials
        replicates = replicates or content.replicates
        seed = content.seed if seed is None else seed
        confirm = content.confirm if confirm is None else confirm
    given: set[str] = set()
    for text in params:
        path, spec = parse_param(text)
        if path in given:
            raise OptimizeError(f"--param {path}: given twice")
        given.add(path)
        specs[path] = spec
    fixed.extend(overrides)
    both = sorted({t.partition("=")[0].strip() for t in fixed} & set(specs))
    if both:
        raise OptimizeError(f"{', '.join(both)}: both searched (--param) and fixed (--set)")
    return build(
        load_scenario(scenario_path, fixed),
        specs,
        list(objectives) or file_objectives,
        list(constraints) or file_constraints,
        trials=trials,
        replicates=replicates,
        seed=seed,
        confirm=confirm,
        scenario_file=str(scenario_path),
        overrides=tuple(fixed),
    )


def build(
    base: Scenario,
    specs: dict[str, Any],
    objectives: Sequence[str],
    constraints: Sequence[str] = (),
    *,
    trials: int | None = None,
    replicates: int | None = None,
    seed: int | None = None,
    confirm: int | None = None,
    scenario_file: str = "(python)",
    overrides: tuple[str, ...] = (),
) -> OptimizeDefinition:
    """A checked definition from a scenario and the texts of levers, objectives, constraints."""
    if not specs:
        raise OptimizeError("give at least one lever with --param PATH=LO:HI")
    parsed = tuple(parse_spec(path, spec) for path, spec in specs.items())
    for p in parsed:
        if p.values is not None and len(set(map(repr, p.values))) < 2:
            raise OptimizeError(
                f"--param {p.path}: a lever needs at least two values; fix it with --set"
            )
    goals = tuple(parse_objective(t) for t in objectives)
    if not goals:
        raise OptimizeError("give what to optimise with --objective KPI:max or KPI:min")
    if len({g.kpi for g in goals}) < len(goals):
        raise OptimizeError("--objective: the same KPI is given twice")
    limits = tuple(parse_constraint(t) for t in constraints)
    _check_corners(base, parsed)
    n = replicates or base.replicates
    return OptimizeDefinition(
        scenario=base,
        scenario_file=scenario_file,
        params=parsed,
        objectives=goals,
        constraints=limits,
        trials=trials or 50,
        replicates=n,
        seed=base.seed if seed is None else seed,
        confirm=4 * n if confirm is None else confirm,
        overrides=overrides,
    )


def _check_corners(base: Scenario, params: Sequence[Param]) -> None:
    """Every lever's extreme values must make a valid scenario (a typo fails here, at once)."""
    for p in params:
        values = list(p.values) if p.values is not None else [p.low, p.high]
        if p.scale == "int" and p.values is None:
            values = [int(v) for v in values]  # type: ignore[arg-type]
        for value in values:
            try:
                scenario_with(base, {p.path: value})
            except ScenarioError as exc:
                raise OptimizeError(f"--param {p.path} (trying {value!r}): {exc}") from None


def _g(value: float) -> str:
    return f"{value:.12g}"
