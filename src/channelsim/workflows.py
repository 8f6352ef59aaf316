"""The `run` job end to end: replicate, write tables and charts, mark the folder complete."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from channelsim import charts, experiment, results, stats
from channelsim.executors import make_executor
from channelsim.metrics import KPIS
from channelsim.schema import Scenario


@dataclass
class RunJob:
    folder: Path
    kpis: pd.DataFrame
    summary: pd.DataFrame


def run_scenario(
    scenario: Scenario,
    out: Path,
    replicates: int,
    seed: int,
    workers: int = 1,
    command: str = "",
    on_done: Callable[[], None] | None = None,
) -> RunJob:
    """Run `replicates` of one scenario and write manifest, KPIs, weekly series and charts."""
    folder = results.ResultsDir(out)
    folder.create()
    seeds = experiment.replicate_seeds(seed, replicates)
    specs = experiment.replicate_specs(scenario, seeds)
    outputs = experiment.run_all(
        specs, make_executor(workers), on_done=(lambda _o: on_done()) if on_done else None
    )
    kpis = experiment.kpi_table(outputs)
    weekly = experiment.weekly_table(outputs)
    summary = stats.summarise_kpis(kpis, KPIS)
    results.write_csv(folder.file("kpis.csv"), kpis)
    results.write_parquet(folder.file("timeseries.parquet"), weekly)
    results.write_csv(folder.file("summary.csv"), summary)
    charts.save_figures(charts.run_charts(kpis, weekly), folder.file("charts"))
    folder.complete(
        results.manifest(
            command,
            kind="run",
            scenario=scenario.model_dump(mode="json"),
            base_seed=seed,
            replicates=replicates,
            seeds=seeds,
            workers=workers,
            files=["kpis.csv", "timeseries.parquet", "summary.csv", "charts/"],
        )
    )
    return RunJob(out, kpis, summary)
