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
    folder: Path
    names: list[str]
    baseline: str
    replicates: int
    seeds: list[int]
    kpis: pd.DataFrame
    weekly: pd.DataFrame
    summary: pd.DataFrame
    differences: pd.DataFrame


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
    """The named baseline, or the first scenario when none is named."""
    names = [s.name for s in scenarios]
    if baseline is None:
        return names[0]
    if baseline not in names:
        raise ScenarioError(f"--baseline {baseline!r}: no such scenario; expected one of {names}")
    return baseline


def replicates_for(scenarios: Sequence[Scenario], replicates: int | None) -> int:
    """The replicates asked for, or the first scenario's."""
    return replicates or scenarios[0].replicates


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
    """Run every scenario on the same seeds and write tables, charts and the manifest.

    `replicates` and `seed` default to the first scenario's. The folder stays marked
    INCOMPLETE until every file is written.
    """
    names = [s.name for s in scenarios]
    if len(set(names)) != len(names):
        raise ScenarioError(f"scenario names must be distinct, found {names}")
    base_name = choose_baseline(scenarios, baseline)
    n = replicates_for(scenarios, replicates)
    base_seed = scenarios[0].seed if seed is None else seed

    folder = results.ResultsDir(out)
    folder.create()
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
    weekly = experiment.weekly_table(outputs)
    kpi_names = [k for k in KPIS if k in kpis.columns]
    summary = stats.summarise_kpis(kpis, kpi_names, by=["scenario"])
    differences = stats.paired_differences(kpis, kpi_names, base_name)

    results.write_csv(folder.file("kpis.csv"), kpis)
    results.write_parquet(folder.file("timeseries.parquet"), weekly)
    results.write_csv(folder.file("summary.csv"), summary)
    results.write_csv(folder.file("differences.csv"), differences)
    figures = charts.compare_charts(kpis, weekly, summary, differences)
    charts.save_figures(figures, folder.file("charts"))
    folder.complete(
        results.manifest(
            command,
            kind="compare",
            versions={**results.versions(), **_versions("scipy", "matplotlib")},
            working_directory=os.getcwd(),
            scenarios=[s.model_dump(mode="json") for s in scenarios],
            names=names,
            baseline=base_name,
            base_seed=base_seed,
            replicates=n,
            seeds=seeds,
            workers=workers,
            statistics="paired t intervals (scipy.stats.ttest_rel) on replicate pairs; "
            "summary intervals are t intervals of the mean",
            files=list(FILES),
        )
    )
    return Comparison(out, names, base_name, n, seeds, kpis, weekly, summary, differences)


def _versions(*packages: str) -> dict[str, str]:
    """Versions of the packages that compute the statistics and draw the charts."""
    from importlib.metadata import version

    return {package: version(package) for package in packages}
