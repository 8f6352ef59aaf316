"""Sensitivity indices of a sobol or morris sweep, per parameter and KPI (SALib).

The model is stochastic, so each design point has R replicates. The indices are computed
on the replicate mean of each point: they describe how the parameters drive the expected
KPI, and the run-to-run noise, which would otherwise count as variance no parameter
explains, shrinks by R. (Analysing one replicate at a time instead would give R sets of
indices whose spread shows the noise; the mean is what a strategist asks about.)

Sobol: first-order S1 and total ST with bootstrap confidence half-widths (SALib
`analyze.sobol`, Saltelli/Jansen estimators). Morris: mu* (mean absolute elementary effect:
the KPI change over a step, divided by the step as a fraction of the parameter's range, so
values are comparable across parameters), its confidence half-width, mu and sigma (SALib
`analyze.morris`). A KPI that does not vary over the design, or that
is undefined at some point (NaN), gets NaN indices rather than numbers from 0/0.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from channelsim.experiments.sweep import SweepError
from channelsim.model.kpis import KPIS
from channelsim.storage import results

SOBOL_COLUMNS = ("S1", "S1_conf", "ST", "ST_conf")
MORRIS_COLUMNS = ("mu", "mu_star", "mu_star_conf", "sigma")
RESAMPLES = 200


def replicate_means(runs: pd.DataFrame, kpis: Sequence[str], points: int) -> pd.DataFrame:
    """Mean of each KPI over a point's successful replicates, one row per design point."""
    ok = runs[runs["status"] == "ok"]
    means = ok.groupby("point")[list(kpis)].mean().reindex(range(points))
    missing = means.index[ok.groupby("point").size().reindex(range(points)).isna()]
    if len(missing):
        shown = ", ".join(str(p) for p in missing[:10])
        raise SweepError(
            f"sensitivity needs a result at every design point; point(s) {shown} "
            "have only failed runs"
        )
    return means


def analyse(
    runs: pd.DataFrame, design: dict[str, Any], kpis: Sequence[str], seed: int
) -> pd.DataFrame:
    """Long table: method, kpi, parameter and the method's indices."""
    method = design.get("name")
    if method not in ("sobol", "morris"):
        raise SweepError(
            f"sensitivity indices need a sobol or morris design; this sweep used {method!r}"
        )
    problem = design["problem"]
    matrix = np.asarray(design["matrix"], dtype=float)
    means = replicate_means(runs, kpis, len(matrix))
    rows = []
    for kpi in kpis:
        y = means[kpi].to_numpy(dtype=float)
        defined = bool(np.all(np.isfinite(y)) and np.ptp(y) > 0)
        if method == "sobol":
            indices = _sobol(problem, y, design, seed) if defined else None
            columns = SOBOL_COLUMNS
        else:
            indices = _morris(problem, matrix, y, design, seed) if defined else None
            columns = MORRIS_COLUMNS
        for j, name in enumerate(problem["names"]):
            values = {c: float(indices[c][j]) if indices else np.nan for c in columns}
            rows.append({"method": method, "kpi": kpi, "parameter": name, **values})
    return pd.DataFrame(rows)


def _sobol(problem: dict[str, Any], y: np.ndarray, design: dict[str, Any], seed: int) -> Any:
    from SALib.analyze import sobol

    second = bool(design.get("options", {}).get("calc_second_order", False))
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return sobol.analyze(
            problem, y, calc_second_order=second, num_resamples=RESAMPLES, seed=seed
        )


def _morris(
    problem: dict[str, Any], x: np.ndarray, y: np.ndarray, design: dict[str, Any], seed: int
) -> Any:
    from SALib.analyze import morris

    levels = int(design.get("options", {}).get("num_levels", 4))
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return morris.analyze(problem, x, y, num_resamples=RESAMPLES, num_levels=levels, seed=seed)


# --- the job: indices of a finished sweep folder -------------------------------------------


def write_sensitivity(
    folder: Path, manifest: dict[str, Any] | None = None, runs: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Sensitivity indices of a sobol or morris sweep into `sensitivity.csv`."""
    from channelsim.experiments import sweep_folder

    folder = Path(folder)
    manifest = manifest or sweep_folder.read_manifest(folder / "manifest.json")
    runs = sweep_folder.read_runs(folder, manifest) if runs is None else runs
    seed = manifest["definition"].get("seed", 0)
    if not isinstance(seed, int):
        raise SweepError(f"{folder}/manifest.json: definition.seed is not a whole number")
    table = analyse(runs, manifest["design"], list(KPIS), seed=seed)
    results.write_csv(results.ResultsDir(folder).file("sensitivity.csv"), table)
    return table
