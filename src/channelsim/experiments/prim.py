"""PRIM scenario discovery (Friedman and Fisher, 1999): boxes where a condition is common.

Given sampled inputs `x` (one column per uncertain input) and a yes/no condition `y` per
sample, PRIM looks for a box (a low and a high limit per input) inside which the condition
holds for most samples (density) while holding most of the samples where it holds at all
(coverage). Pure numpy and scipy; no plotting and no files.

Peeling. From the box holding every sample, each step considers, for every input, cutting
off the `alpha` share of the box's samples with the lowest values, or with the highest
(at least one sample; with tied values, all samples of the tied value). It takes the cut
with the largest gain in density per share of all samples removed,
`(density_after - density_before) / (mass_before - mass_after)` (the objective of EMA
Workbench's lenient PRIM: it does not favour cuts that remove many tied samples). It stops
when the density is 1, when no cut leaves at least `min_mass` of the samples, or when no
input can be cut. The boxes along the way are the peeling trajectory, from high coverage
and low density to low coverage and high density.

Choosing and pasting. The chosen box is the one with the highest coverage among those
with density >= `threshold` (of equal coverages, the later and denser; if no box reaches
`threshold`, the densest). Pasting then widens it again: each step
considers, for every limit, letting back in the `alpha` share of the box's size of the
nearest samples beyond it, and takes the one with the largest density if that density is
not lower than the box's; it stops when no such widening is left. Pasting undoes cuts that
peeling made on an input by chance.

A limit that excludes no sample the other limits let in is opened again: it changes nothing
about the box and would only be reported as an idle restriction.

Covering. Further boxes are searched for in the samples outside the boxes found so far,
as long as the new box reaches `threshold`; coverage is always counted against every
sample where the condition holds, so the boxes' coverages add up.

Significance of a limit (Bryant and Lempert, 2010, with an exact test). For each limit,
take the box with that limit removed (the input's full range on that side): it holds T'
samples, H' of which satisfy the condition. The box is a subset of those T' samples; if
the limit did not matter, its T samples would be a random draw from them, and the number
of hits H in it hypergeometric. The limit's p-value is P(X >= H) for X ~ Hypergeometric
(T', H', T): small when the limit really concentrates the condition. EMA Workbench uses
the binomial approximation of the same test.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats


@dataclass(frozen=True)
class Box:
    """One box: limits per input (inclusive), and how much of the condition it catches."""

    low: np.ndarray
    high: np.ndarray
    coverage: float
    density: float
    mass: float
    samples: int
    hits: int
    restricted: tuple[str, ...]


@dataclass(frozen=True)
class FoundBox:
    """A box of the result: its peeling trajectory, the chosen box, and its limits' p-values."""

    trajectory: list[Box]
    chosen: int
    box: Box
    p_low: dict[str, float]
    p_high: dict[str, float]


@dataclass(frozen=True)
class PrimResult:
    inputs: tuple[str, ...]
    low: np.ndarray
    high: np.ndarray
    boxes: list[FoundBox] = field(default_factory=list)

    def limits(self) -> pd.DataFrame:
        """One row per restricted input of each box: its limits, the box's coverage,
        density and mass, and the p-value of each limit (NaN where the side is open)."""
        rows = []
        for number, found in enumerate(self.boxes, start=1):
            box = found.box
            for name in box.restricted:
                j = self.inputs.index(name)
                rows.append(
                    {
                        "box": number,
                        "input": name,
                        "low": float(box.low[j]),
                        "high": float(box.high[j]),
                        "coverage": box.coverage,
                        "density": box.density,
                        "mass": box.mass,
                        "p_low": found.p_low.get(name, np.nan),
                        "p_high": found.p_high.get(name, np.nan),
                    }
                )
        columns = ["box", "input", "low", "high", "coverage", "density", "mass"]
        return pd.DataFrame(rows, columns=[*columns, "p_low", "p_high"])

    def trajectories(self) -> pd.DataFrame:
        """Every box's peeling trajectory: step, coverage, density, mass, restricted inputs."""
        rows = [
            {
                "box": number,
                "step": step,
                "coverage": b.coverage,
                "density": b.density,
                "mass": b.mass,
                "restricted": len(b.restricted),
                "chosen": step == found.chosen,
            }
            for number, found in enumerate(self.boxes, start=1)
            for step, b in enumerate(found.trajectory)
        ]
        columns = ["box", "step", "coverage", "density", "mass", "restricted", "chosen"]
        return pd.DataFrame(rows, columns=columns)


def prim(
    x: pd.DataFrame,
    y: Sequence[bool] | np.ndarray,
    alpha: float = 0.05,
    min_mass: float = 0.05,
    threshold: float = 0.8,
    max_boxes: int = 3,
) -> PrimResult:
    """Find up to `max_boxes` boxes over the numeric columns of `x` where `y` is common."""
    values = x.to_numpy(dtype=float)
    hits = np.asarray(y, dtype=bool)
    if values.ndim != 2 or len(values) != len(hits):
        raise ValueError("x needs one row per element of y")
    if not 0 < alpha < 0.5 or not 0 < min_mass < 1:
        raise ValueError("alpha must be in (0, 0.5) and min_mass in (0, 1)")
    inputs = tuple(str(c) for c in x.columns)
    result = PrimResult(inputs, values.min(axis=0), values.max(axis=0))
    total = int(hits.sum())
    remaining = np.ones(len(hits), dtype=bool)
    while total and len(result.boxes) < max_boxes and (hits & remaining).any():
        found = _findmeasure_box(values, hits, remaining, result, alpha, min_mass, threshold, total)
        if not found.box.restricted:
            break
        if result.boxes and found.box.density < threshold:
            break
        result.boxes.append(found)
        remaining &= ~_inside(values, found.box.low, found.box.high)
    return result


def _findmeasure_box(
    x: np.ndarray,
    y: np.ndarray,
    remaining: np.ndarray,
    result: PrimResult,
    alpha: float,
    min_mass: float,
    threshold: float,
    total: int,
) -> FoundBox:
    trajectory = [
        measure_box(x, y, remaining, result.low.copy(), result.high.copy(), result, total)
    ]
    while trajectory[-1].density < 1.0:
        step = peel_step(x, y, remaining, trajectory[-1], alpha, min_mass * len(y))
        if step is None:
            break
        trajectory.append(measure_box(x, y, remaining, *step, result, total))
    good = [i for i, b in enumerate(trajectory) if b.density >= threshold]
    if good:
        chosen = max(good, key=lambda i: (trajectory[i].coverage, i))
    else:
        chosen = max(range(len(trajectory)), key=lambda i: (trajectory[i].density, -i))
    box = paste(x, y, remaining, trajectory[chosen], alpha, result, total)
    box = drop_vacuous(x, y, remaining, box, result, total)
    p_low, p_high = limit_p_values(x, y, remaining, box, result)
    return FoundBox(trajectory, chosen, box, p_low, p_high)


def peel_step(
    x: np.ndarray,
    y: np.ndarray,
    remaining: np.ndarray,
    box: Box,
    alpha: float,
    min_samples: float,
) -> tuple[np.ndarray, np.ndarray] | None:
    """The best single cut of `box` as new (low, high), or None when no cut is allowed."""
    inside = remaining & _inside(x, box.low, box.high)
    n = int(inside.sum())
    k = max(1, int(np.floor(alpha * n)))
    best: tuple[float, np.ndarray, np.ndarray] | None = None
    for j in range(x.shape[1]):
        v = np.sort(x[inside, j])
        for side in ("low", "high"):
            limit = _cut(v, k, side)
            if limit is None:
                continue
            low, high = box.low.copy(), box.high.copy()
            kept = inside & (x[:, j] >= limit if side == "low" else x[:, j] <= limit)
            if side == "low":
                low[j] = limit
            else:
                high[j] = limit
            m = int(kept.sum())
            if m < min_samples or m == 0:
                continue
            gain = (y[kept].mean() - box.density) / ((n - m) / len(y))
            if best is None or gain > best[0]:
                best = (gain, low, high)
    return None if best is None else (best[1], best[2])


def _cut(v: np.ndarray, k: int, side: str) -> float | None:
    """The new limit that cuts about k of the sorted values `v` off one side (ties: all)."""
    if v[0] == v[-1]:
        return None
    if side == "low":
        limit = v[k] if k < len(v) else v[-1]
        return float(limit if limit > v[0] else v[v > v[0]][0])
    limit = v[-1 - k] if k < len(v) else v[0]
    return float(limit if limit < v[-1] else v[v < v[-1]][-1])


def paste(
    x: np.ndarray,
    y: np.ndarray,
    remaining: np.ndarray,
    box: Box,
    alpha: float,
    result: PrimResult,
    total: int,
) -> Box:
    """Widen `box` limit by limit while the density does not fall (see the module text)."""
    while True:
        inside = remaining & _inside(x, box.low, box.high)
        k = max(1, int(np.floor(alpha * inside.sum())))
        best: Box | None = None
        for j in range(x.shape[1]):
            others = remaining & _inside(x, box.low, box.high, skip=j)
            for side in ("low", "high"):
                beyond = others & (x[:, j] < box.low[j] if side == "low" else x[:, j] > box.high[j])
                if not beyond.any():
                    continue
                v = np.sort(x[beyond, j])
                limit = v[max(0, len(v) - k)] if side == "low" else v[min(len(v), k) - 1]
                low, high = box.low.copy(), box.high.copy()
                (low if side == "low" else high)[j] = limit
                wider = measure_box(x, y, remaining, low, high, result, total)
                if wider.density >= box.density and (best is None or wider.density > best.density):
                    best = wider
        if best is None:
            return box
        box = best


def drop_vacuous(
    x: np.ndarray, y: np.ndarray, remaining: np.ndarray, box: Box, result: PrimResult, total: int
) -> Box:
    """Open every limit that excludes no sample the other limits let in: it says nothing
    (peeling may have cut there before a later cut on another input made it idle)."""
    low, high = box.low.copy(), box.high.copy()
    for j in range(x.shape[1]):
        others = remaining & _inside(x, low, high, skip=j)
        if not (others & (x[:, j] < low[j])).any():
            low[j] = result.low[j]
        if not (others & (x[:, j] > high[j])).any():
            high[j] = result.high[j]
    return measure_box(x, y, remaining, low, high, result, total)


def limit_p_values(
    x: np.ndarray, y: np.ndarray, remaining: np.ndarray, box: Box, result: PrimResult
) -> tuple[dict[str, float], dict[str, float]]:
    """Each restricted limit's one-sided hypergeometric p-value (see the module text)."""
    inside = remaining & _inside(x, box.low, box.high)
    t, h = int(inside.sum()), int(y[inside].sum())
    p_low: dict[str, float] = {}
    p_high: dict[str, float] = {}
    for name in box.restricted:
        j = result.inputs.index(name)
        for side, full, out in (
            ("low", result.low, p_low),
            ("high", result.high, p_high),
        ):
            limit = box.low[j] if side == "low" else box.high[j]
            if limit == full[j]:
                continue
            low, high = box.low.copy(), box.high.copy()
            (low if side == "low" else high)[j] = full[j]
            relaxed = remaining & _inside(x, low, high)
            t_all, h_all = int(relaxed.sum()), int(y[relaxed].sum())
            out[name] = float(stats.hypergeom.sf(h - 1, t_all, h_all, t))
    return p_low, p_high


def measure_box(
    x: np.ndarray,
    y: np.ndarray,
    remaining: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    result: PrimResult,
    total: int,
) -> Box:
    """The box with these limits among the `remaining` samples: its counts and shares."""
    inside = remaining & _inside(x, low, high)
    n, hits = int(inside.sum()), int(y[inside].sum())
    restricted = tuple(
        name
        for j, name in enumerate(result.inputs)
        if low[j] > result.low[j] or high[j] < result.high[j]
    )
    return Box(
        low=low,
        high=high,
        coverage=hits / total,
        density=hits / n if n else 0.0,
        mass=n / len(y),
        samples=n,
        hits=hits,
        restricted=restricted,
    )


def _inside(
    x: np.ndarray, low: np.ndarray, high: np.ndarray, skip: int | None = None
) -> np.ndarray:
    ok = (x >= low) & (x <= high)
    if skip is not None:
        ok[:, skip] = True
    return ok.all(axis=1)
