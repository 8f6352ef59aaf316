"""Results folders of `run` and `compare` (tables, charts and a manifest, written safely),
and the sensitivity indices added to a finished sweep's folder.

The folder is created first (so a bad folder fails before anything is drawn) and stays
marked INCOMPLETE until every file is written and the manifest says complete.
"""

from __future__ import annotations

import os
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING

from channelsim.experiments import stats
from channelsim.output import display
from channelsim.storage import results

if TYPE_CHECKING:
    import pandas as pd

    from channelsim.experiments.comparison import Comparison
    from channelsim.experiments.replicates import RunResults
    from channelsim.experiments.sweep import SweepPlan
    from channelsim.experiments.sweep_run import SweepResult

RUN_FILES = ["kpis.csv", "timeseries.parquet", "summary.csv", "charts/"]
COMPARE_FILES = [
    "manifest.json",
    "kpis.csv",
    "timeseries.parquet",
    "summary.csv",
    "differences.csv",
    "pairwise.csv",
    "conflict_costs.csv",
    "charts/",
]


def save_run(
    run: RunResults, out: Path, command: str = "", excel: bool = False, charts: bool = True
) -> Path:
    """Write the folder `channelsim run` writes, holding its lock (`results.xlsx` if `excel`,
    no charts/ unless `charts`)."""
    folder = results.ResultsDir(out)
    folder.check()
    with folder.locked():
        _write_run(run, folder, command, excel, charts)
    return Path(out)


def _write_run(
    run: RunResults,
    folder: results.ResultsDir,
    command: str,
    excel: bool = False,
    charts: bool = True,
) -> None:
    folder.create()
    results.write_csv(folder.file("kpis.csv"), run.kpis)
    results.write_parquet(folder.file("timeseries.parquet"), run.weekly)
    results.write_csv(folder.file("summary.csv"), run.summary)
    if charts:
        from channelsim.output import charts as drawing  # matplotlib: only when drawing
        from channelsim.output import network, rendering

        recipes = {
            **drawing.run_recipes(run.kpis, run.weekly, run.scenario.currency),
            **network.network_recipes([run.scenario]),
        }
        rendering.save_recipes(recipes, folder.file("charts"), run.workers)
    if excel:
        write_workbook(folder.file("results.xlsx"), workbook(run))
    folder.complete(
        results.manifest(
            command,
            kind="run",
            scenario=run.scenario.model_dump(mode="json"),
            base_seed=run.base_seed,
            replicates=len(run.seeds),
            seeds=run.seeds,
            workers=run.workers,
            warmup_notes=display.warmup_notes(run.warmup_losses),
            files=_listed(RUN_FILES, charts) + (["results.xlsx"] if excel else []),
        )
    )


def save_comparison(
    job: Comparison,
    out: Path,
    command: str = "",
    lock: bool = True,
    excel: bool = False,
    charts: bool = True,
) -> Path:
    """Write the folder `channelsim compare` writes, holding its lock (unless the caller
    holds it already: `lock=False`); no charts/ unless `charts`, rendered on as many local
    processes as the comparison ran on."""
    folder = results.ResultsDir(out)
    folder.check()
    if lock:
        with folder.locked():
            _write_comparison(job, folder, command, excel, charts)
    else:
        _write_comparison(job, folder, command, excel, charts)
    job.folder = Path(out)
    return Path(out)


def _write_comparison(
    job: Comparison,
    folder: results.ResultsDir,
    command: str,
    excel: bool = False,
    charts: bool = True,
) -> None:
    folder.create()
    results.write_csv(folder.file("kpis.csv"), job.kpis)
    results.write_parquet(folder.file("timeseries.parquet"), job.weekly)
    results.write_csv(folder.file("summary.csv"), job.summary)
    results.write_csv(folder.file("differences.csv"), job.differences)
    results.write_csv(folder.file("pairwise.csv"), job.pairwise)
    results.write_csv(folder.file("conflict_costs.csv"), job.conflict)
    if charts:
        from channelsim.output import charts as drawing  # matplotlib: only when drawing
        from channelsim.output import network, rendering

        recipes = drawing.compare_recipes(
            job.kpis, job.weekly, job.summary, job.differences, job.scenarios[0].currency
        )
        recipes.update(network.network_recipes(job.scenarios))
        rendering.save_recipes(recipes, folder.file("charts"), job.workers)
    if excel:
        write_workbook(folder.file("results.xlsx"), workbook(job))
    folder.complete(
        results.manifest(
            command,
            kind="compare",
            versions={**results.versions(), **_versions("scipy", "matplotlib")},
            working_directory=os.getcwd(),
            scenarios=[s.model_dump(mode="json") for s in job.scenarios],
            names=job.names,
            baseline=job.baseline,
            base_seed=job.base_seed,
            replicates=job.replicates,
            seeds=job.seeds,
            workers=job.workers,
            statistics=stats.METHOD,
            currency=job.scenarios[0].currency,
            warmup_notes=display.warmup_notes(job.warmup_losses),
            files=_listed(COMPARE_FILES, charts) + (["results.xlsx"] if excel else []),
        )
    )


def workbook(job: RunResults | Comparison) -> bytes:
    """The Excel workbook of a run or a comparison, as bytes."""
    from channelsim.experiments.comparison import Comparison
    from channelsim.output import excel

    if isinstance(job, Comparison):
        return excel.comparison_workbook(
            job.names,
            job.baseline,
            [s.model_dump(mode="json") for s in job.scenarios],
            job.kpis,
            job.weekly,
            job.summary,
            job.differences,
        )
    return excel.run_workbook(
        job.scenario.model_dump(mode="json"), job.kpis, job.weekly, job.summary
    )


def _listed(files: list[str], charts: bool) -> list[str]:
    """A folder's files, without charts/ when none were drawn."""
    return files if charts else [f for f in files if f != "charts/"]


def write_workbook(path: Path, data: bytes) -> Path:
    """Write workbook bytes atomically."""
    results.atomic_write(path, lambda tmp: tmp.write_bytes(data))
    return path


def _versions(*packages: str) -> dict[str, str]:
    """Versions of the packages that compute the statistics and draw the charts."""
    found = {}
    for package in packages:
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "not installed"
    return found


def draw_sweep(result: SweepResult, plan: SweepPlan) -> list[str]:
    """The charts of a finished sweep, into its folder; their names for the manifest."""
    from channelsim.output import fonts, sweep_charts
    from channelsim.output.charts import save_figures

    params = [p.path for p in plan.definition.params]
    with fonts.cjk_fallback():
        figures = sweep_charts.sweep_figures(
            result.runs, params, plan.definition.design, result.sensitivity
        )
        if not figures:
            return []
        save_figures(figures, results.ResultsDir(result.folder).file("charts"))
    return ["charts/"]


def sensitivity_job(folder: Path) -> pd.DataFrame:
    """`channelsim sensitivity DIR`: indices and their chart for a finished sweep."""
    from channelsim.experiments import sweep_folder
    from channelsim.experiments.sensitivity import write_sensitivity
    from channelsim.experiments.sweep import SweepError
    from channelsim.output import fonts, sweep_charts
    from channelsim.output.charts import save_figures

    folder = results.ResultsDir(folder)
    if not (folder.path / "manifest.json").is_file():
        raise SweepError(f"{folder.path}: no manifest.json; expected a sweep results folder")
    with folder.locked():
        manifest = sweep_folder.read_manifest(folder.path / "manifest.json")
        if manifest["status"] != "complete" or not folder.is_complete:
            raise SweepError(f"{folder.path}: the sweep is not finished; complete it with --resume")
        table = write_sensitivity(folder.path, manifest)
        with fonts.cjk_fallback():
            save_figures(sweep_charts.sensitivity_figures(table), folder.file("charts"))
        results.remove_leftovers(folder.path)
    return table
