"""Experimental designs: which parameter values each design point of a sweep gets.

A parameter is either a list of levels (numbers or words) or a numeric range. The grid is
the full factorial of the levels. Latin hypercube samples come from `scipy.stats.qmc`;
Sobol (Saltelli's scheme over a scrambled Sobol sequence) and Morris trajectories come from
SALib, so the same seed gives the same samples as calling those libraries directly.

Ranges are sampled on the unit interval and mapped to values: `linear` spreads them evenly,
`log` evenly in log10, `int` uniformly over the integers low..high. In a Latin hypercube a
list is a categorical parameter (each level equally likely). Sobol and Morris need numeric
ranges, because their indices are defined over a continuous input space.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

DESIGNS = ("grid", "lhs", "sobol", "morris")
SENSITIVITY_DESIGNS = ("sobol", "morris")
MORRIS_LEVELS = 4
Scale = Literal["linear", "int", "log"]


class DesignError(ValueError):
    """A design that cannot be built from the parameters given; the message is for the user."""


@dataclass(frozen=True)
class Param:
    """One swept parameter: a scenario's dotted path and its levels or its range."""

    path: str
    values: tuple[Any, ...] | None = None
    low: float | None = None
    high: float | None = None
    scale: Scale = "linear"

    @property
    def is_range(self) -> bool:
        return self.values is None

    def describe(self) -> dict[str, Any]:
        """A plain description for the manifest (and for comparing sweeps on resume)."""
        if self.values is not None:
            return {"values": list(self.values)}
        return {"low": self.low, "high": self.high, "scale": self.scale}

    def from_unit(self, u: np.ndarray) -> list[Any]:
        """Map unit-interval samples to this parameter's values."""
        if self.values is not None:
            index = np.minimum((u * len(self.values)).astype(int), len(self.values) - 1)
            return [self.values[i] for i in index]
        low, high = float(self.low), float(self.high)  # type: ignore[arg-type]
        if self.scale == "int":
            ints = np.minimum(np.floor(low + u * (high - low + 1)), high)
            return [int(v) for v in ints]
        if self.scale == "log":
            return _clean(10 ** (math.log10(low) + u * (math.log10(high) - math.log10(low))))
        return _clean(low + u * (high - low))

    def salib_bounds(self) -> list[float]:
        """Bounds of the space SALib samples in (log10 for log ranges, [low, high+1) for int)."""
        low, high = float(self.low), float(self.high)  # type: ignore[arg-type]
        if self.scale == "log":
            return [math.log10(low), math.log10(high)]
        if self.scale == "int":
            return [low, high + 1.0]
        return [low, high]

    def from_salib(self, x: np.ndarray) -> list[Any]:
        """Map SALib samples (in `salib_bounds`) to this parameter's values."""
        if self.scale == "log":
            return _clean(10**x)
        if self.scale == "int":
            return [int(v) for v in np.minimum(np.floor(x), float(self.high))]  # type: ignore[arg-type]
        return _clean(x)


@dataclass(frozen=True)
class Design:
    """The design points (one row each, a column per parameter path) and how they were made."""

    name: str
    values: dict[str, list[Any]]
    samples: int | None = None
    problem: dict[str, Any] | None = None
    matrix: np.ndarray | None = None
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(next(iter(self.values.values())))

    def settings(self) -> list[dict[str, Any]]:
        """Per point, the {path: value} settings as the scenario receives them."""
        return [{path: col[i] for path, col in self.values.items()} for i in range(self.size)]

    def points(self) -> pd.DataFrame:
        """The points table: index `point`, a column per path; mixed numbers and words as text."""
        data = {}
        for path, col in self.values.items():
            kinds = {type(v) for v in col}
            mixed = len(kinds) > 1 and not kinds <= {int, float}
            data[path] = [str(v) for v in col] if mixed else col
        frame = pd.DataFrame(data)
        frame.index.name = "point"
        return frame

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "points": self.size,
            "samples": self.samples,
            "options": self.options,
            "problem": self.problem,
            "matrix": None if self.matrix is None else self.matrix.tolist(),
        }


def design_size(params: list[Param], design: str, samples: int | None) -> int:
    """Points the design will have, computed from the counts alone (nothing is sampled)."""
    if design == "grid":
        return math.prod(len(p.values) for p in params if p.values is not None)
    per_sample = {"lhs": 1, "sobol": len(params) + 2, "morris": len(params) + 1}
    return (samples or 0) * per_sample.get(design, 1)


def make_design(params: list[Param], design: str, samples: int | None, seed: int) -> Design:
    """Build the named design; `samples` is ignored by the grid and required by the others."""
    if not params:
        raise DesignError("a sweep needs at least one --param PATH=SPEC")
    if design == "grid":
        if samples is not None:
            raise DesignError(
                "--samples applies to lhs, sobol and morris; a grid's size is set by its values"
            )
        return grid(params)
    if design not in DESIGNS:
        raise DesignError(f"design {design!r}: expected one of {', '.join(DESIGNS)}")
    if samples is None:
        raise DesignError(f"design {design}: give the number of samples with --samples N")
    if design == "lhs":
        return lhs(params, samples, seed)
    if design == "sobol":
        return sobol(params, samples, seed)
    return morris(params, samples, seed)


def grid(params: list[Param]) -> Design:
    """Full factorial: every combination of every parameter's levels, last parameter fastest."""
    ranges = [p.path for p in params if p.is_range]
    if ranges:
        raise DesignError(
            f"grid design: {', '.join(ranges)} given as a range a:b; "
            "a grid needs levels: a:b:n (n evenly spaced values) or a list a,b,c"
        )
    rows = list(itertools.product(*(p.values for p in params)))  # type: ignore[misc]
    return Design("grid", _columns(params, [list(col) for col in zip(*rows, strict=True)]))


def lhs(params: list[Param], samples: int, seed: int) -> Design:
    """Latin hypercube of `samples` points (scipy.stats.qmc, scrambled, seeded with `seed`)."""
    from scipy.stats import qmc  # here: sweep workers import this module, never call it

    unit = qmc.LatinHypercube(d=len(params), rng=seed).random(samples)
    columns = [p.from_unit(unit[:, j]) for j, p in enumerate(params)]
    return Design("lhs", _columns(params, columns), samples=samples)


def salib_problem(params: list[Param], design: str) -> dict[str, Any]:
    """The SALib problem for numeric ranges; lists are refused with the reason."""
    levels = [p.path for p in params if not p.is_range]
    if levels:
        raise DesignError(
            f"{design} design: {', '.join(levels)} given as levels; {design} needs numeric "
            "ranges a:b (optionally int:a:b or log:a:b). Sweep words or fixed levels with "
            "the grid or lhs designs, or fix them with --set"
        )
    return {
        "num_vars": len(params),
        "names": [p.path for p in params],
        "bounds": [p.salib_bounds() for p in params],
    }


def sobol(params: list[Param], samples: int, seed: int) -> Design:
    """Saltelli's scheme for first and total Sobol indices: samples x (D + 2) points."""
    from SALib.sample import sobol as salib_sobol

    if samples < 2 or samples & (samples - 1):
        raise DesignError(
            f"sobol design: --samples must be a power of 2 (e.g. 64, 128), found {samples}"
        )
    problem = salib_problem(params, "sobol")
    matrix = salib_sobol.sample(problem, samples, calc_second_order=False, seed=seed)
    columns = [p.from_salib(matrix[:, j]) for j, p in enumerate(params)]
    return Design(
        "sobol",
        _columns(params, columns),
        samples=samples,
        problem=problem,
        matrix=matrix,
        options={"calc_second_order": False},
    )


def morris(params: list[Param], samples: int, seed: int) -> Design:
    """Morris elementary-effects trajectories: samples x (D + 1) points on a 4-level grid."""
    from SALib.sample import morris as salib_morris

    if samples < 2:
        raise DesignError(f"morris design: --samples (trajectories) must be >= 2, found {samples}")
    problem = salib_problem(params, "morris")
    matrix = salib_morris.sample(problem, samples, num_levels=MORRIS_LEVELS, seed=seed)
    columns = [p.from_salib(matrix[:, j]) for j, p in enumerate(params)]
    return Design(
        "morris",
        _columns(params, columns),
        samples=samples,
        problem=problem,
        matrix=matrix,
        options={"num_levels": MORRIS_LEVELS},
    )


def _columns(params: list[Param], columns: list[list[Any]]) -> dict[str, list[Any]]:
    return {p.path: list(col) for p, col in zip(params, columns, strict=True)}


def _clean(values: np.ndarray) -> list[float]:
    """Plain floats rounded to 12 significant digits (0.06, not 0.06000000000000001)."""
    return [float(f"{v:.12g}") for v in np.asarray(values, dtype=float)]
