"""The `compare` job: several scenarios, the same replicate seeds, paired differences.

Every scenario runs with the same replicate seeds (common random numbers). The model draws
each mechanism from its own child stream of the seed, so replicate i of two scenarios sees
the same randomness wherever their settings agree, and the difference between them is
measured on pairs (paired t intervals) rather than on two independent samples.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from channelsim import charts, experiment, results, stats
from channelsim.executors import make_executor
from channelsim.metrics import KPIS
from channelsim.scenario import ScenarioError, load_scenario
from channelsim.schema import Scenario

FILES = (
    "manifest.json",
    "kpis.csv",
    "timeseries.parquet",
    "summary.csv",
    "differences.csv",
    "charts/",
)


@dataclass
class Comparison:
    """The tables of a comparison; `folder` is where they were written, if they were."""

    names: list[str]
    baseline: str
    base_seed: int
    replicates: int
    seeds: list[int]
    kpis: pd.DataFrame
    weekly: pd.DataFrame
    summary: pd.DataFrame
    differences: pd.DataFrame
    folder: Path | None = None


def load_scenarios(paths: Sequence[Path], overrides: Iterable[str] = ()) -> list[Scenario]:
    """Load every scenario file with the same overrides; names must be distinct."""
    if len(paths) < 2:
        raise ScenarioError("compare needs at least two scenario files")
    overrides = tuple(overrides)
    scenarios = [load_scenario(path, overrides) for path in paths]
    seen: dict[str, Path] = {}
    for path, scenario in zip(paths, scenarios, strict=True):
        if scenario.name in seen:
            raise ScenarioError(
                f"{path}: scenario name {scenario.name!r} is also the name of "
                f"{seen[scenario.name]}; give each scenario its own 'name:' setting"
            )
        seen[scenario.name] = path
    return scenarios


def choose_baseline(scenarios: Sequence[Scenario], baseline: str | None) -> str:
    """The named baseline, or the first scenario when none is named; names must be distinct."""
    names = [s.name for s in scenarios]
    if len(set(names)) != len(names):
        raise ScenarioError(f"scenario names must be distinct, found {names}")
    if baseline is None:
        return names[0]
    if baseline not in names:
        raise ScenarioError(f"--baseline {baseline!r}: no such scenario; expected one of {names}")
    return baseline


def replicates_for(scenarios: Sequence[Scenario], replicates: int | None) -> int:
    """The replicates asked for, or the first scenario's."""
    return replicates or scenarios[0].replicates


def run_comparison(
    scenarios: Sequence[Scenario],
    replicates: int | None = None,
    seed: int | None = None,
    baseline: str | None = None,
    workers: int = 1,
    on_done: Callable[[], None] | None = None,
) -> Comparison:
    """Run every scenario on the same replicate seeds and compute summary and differences.

    `replicates` and `seed` default to the first scenario's; nothing is written.
    """
    names = [s.name for s in scenarios]
    base_name = choose_baseline(scenarios, baseline)
    n = replicates_for(scenarios, replicates)
    base_seed = scenarios[0].seed if seed is None else seed
    seeds = experiment.replicate_seeds(base_seed, n)
    specs = [
        spec
        for scenario in scenarios
        for spec in experiment.replicate_specs(scenario, seeds, {"scenario": scenario.name})
    ]
    outputs = experiment.run_all(
        specs, make_executor(workers), on_done=(lambda _o: on_done()) if on_done else None
    )
    kpis = experiment.kpi_table(outputs)
    kpi_names = [k for k in KPIS if k in kpis.columns]
    return Comparison(
        names=names,
        baseline=base_name,
        base_seed=base_seed,
        replicates=n,
        seeds=seeds,
        kpis=kpis,
        weekly=experiment.weekly_table(outputs),
        summary=stats.summarise_kpis(kpis, kpi_names, by=["scenario"]),
        differences=stats.paired_differences(kpis, kpi_names, base_name),
    )


def compare(
    scenarios: Sequence[Scenario],
    out: Path,
    replicates: int | None = None,
    seed: int | None = None,
    baseline: str | None = None,
    workers: int = 1,
    command: str = "",
    on_done: Callable[[], None] | None = None,
) -> Comparison:
    """`run_comparison`, then write tables, charts and the manifest to the folder `out`.

    The folder is created first (so a bad --out fails before any run) and stays marked
    INCOMPLETE until every file is written.
    """
    choose_baseline(scenarios, baseline)
    folder = results.ResultsDir(out)
    folder.create()
    job = run_comparison(scenarios, replicates, seed, baseline, workers, on_done)
    results.write_csv(folder.file("kpis.csv"), job.kpis)
    results.write_parquet(folder.file("timeseries.parquet"), job.weekly)
    results.write_csv(folder.file("summary.csv"), job.summary)
    results.write_csv(folder.file("differences.csv"), job.differences)
    figures = charts.compare_charts(job.kpis, job.weekly, job.summary, job.differences)
    charts.save_figures(figures, folder.file("charts"))
    folder.complete(
        results.manifest(
            command,
            kind="compare",
            versions={**results.versions(), **_versions("scipy", "matplotlib")},
            working_directory=os.getcwd(),
            scenarios=[s.model_dump(mode="json") for s in scenarios],
            names=job.names,
            baseline=job.baseline,
            base_seed=job.base_seed,
            replicates=job.replicates,
            seeds=job.seeds,
            workers=workers,
            statistics="paired t intervals (scipy.stats.ttest_rel) on replicate pairs; "
            "summary intervals are t intervals of the mean",
            files=list(FILES),
        )
    )
    job.folder = Path(out)
    return job


def _versions(*packages: str) -> dict[str, str]:
    """Versions of the packages that compute the statistics and draw the charts."""
    from importlib.metadata import version

    return {package: version(package) for package in packages}
