"""The `compare` job: several scenarios, the same replicate seeds, paired differences.

Every scenario runs with the same replicate seeds (common random numbers). The model draws
each mechanism from its own child stream of the seed, so replicate i of two scenarios sees
the same randomness wherever their settings agree, and the difference between them is
measured on pairs (paired t intervals) rather than on two independent samples.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from channelsim.experiments import replicates as experiment
from channelsim.experiments import stats, warmup
from channelsim.experiments.bounds import bounds_table
from channelsim.experiments.conflict import conflict_costs
from channelsim.experiments.executors import Executor, make_executor
from channelsim.model.kpis import KPIS
from channelsim.scenario.differences import differing_settings
from channelsim.scenario.loading import choose_baseline, replicates_for
from channelsim.scenario.schema import Scenario


@dataclass
class Comparison:
    """The tables of a comparison; `folder` is where they were written, if they were."""

    scenarios: list[Scenario]
    names: list[str]
    baseline: str
    base_seed: int
    replicates: int
    seeds: list[int]
    kpis: pd.DataFrame
    weekly: pd.DataFrame
    summary: pd.DataFrame
    differences: pd.DataFrame
    conflict: pd.DataFrame
    pairwise: pd.DataFrame
    workers: int = 1
    folder: Path | None = None

    @property
    def differing(self) -> dict[str, list[object]]:
        """Each setting (dotted path) that is not the same in every scenario."""
        return differing_settings([s.model_dump(mode="json") for s in self.scenarios])

    @property
    def warmup_losses(self) -> pd.DataFrame:
        """Dealers lost in the warm-up, which the KPIs leave out (`experiments.warmup`)."""
        return warmup.warmup_losses(self.weekly)


def pairwise(
    kpis: pd.DataFrame,
    kpi_names: list[str],
    names: list[str],
    differences: pd.DataFrame,
    bounds: pd.DataFrame,
) -> pd.DataFrame:
    """Every pair of scenarios a strategist chooses between, once each: the later given
    minus the earlier, as `differences` with the earlier as the baseline."""
    tables = [differences] + [
        stats.paired_differences(kpis, kpi_names, name, bounds=bounds)
        for name in names
        if name != differences["baseline"].iloc[0]
    ]
    table = pd.concat(tables, ignore_index=True)
    order = {name: i for i, name in enumerate(names)}
    later = table["scenario"].map(order) > table["baseline"].map(order)
    return table[later].reset_index(drop=True)


def run_comparison(
    scenarios: Sequence[Scenario],
    replicates: int | None = None,
    seed: int | None = None,
    baseline: str | None = None,
    workers: int = 1,
    on_done: Callable[[], None] | None = None,
    executor: Executor | None = None,
) -> Comparison:
    """Run every scenario on the same replicate seeds and compute summary and differences.

    `replicates` and `seed` default to the first scenario's; nothing is written.
    """
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
        specs,
        executor or make_executor(workers),
        on_done=(lambda _o: on_done()) if on_done else None,
    )
    return from_tables(
        scenarios,
        base_seed,
        seeds,
        experiment.kpi_table(outputs),
        experiment.weekly_table(outputs),
        base_name,
        workers,
    )


def from_tables(
    scenarios: Sequence[Scenario],
    base_seed: int,
    seeds: Sequence[int],
    kpis: pd.DataFrame,
    weekly: pd.DataFrame,
    baseline: str | None = None,
    workers: int = 1,
) -> Comparison:
    """The comparison of KPI and weekly tables labelled by scenario, all on `seeds`."""
    base_name = choose_baseline(scenarios, baseline)
    kpi_names = [k for k in KPIS if k in kpis.columns]
    bounds = bounds_table({s.name: s for s in scenarios}, by="scenario")
    summary = stats.summarise_kpis(kpis, kpi_names, by=["scenario"], bounds=bounds)
    differences = stats.paired_differences(kpis, kpi_names, base_name, bounds=bounds)
    return Comparison(
        scenarios=list(scenarios),
        names=[s.name for s in scenarios],
        baseline=base_name,
        base_seed=base_seed,
        replicates=len(seeds),
        seeds=list(seeds),
        kpis=kpis,
        weekly=weekly,
        summary=summary,
        differences=differences,
        conflict=conflict_costs(summary),
        pairwise=pairwise(kpis, kpi_names, [s.name for s in scenarios], differences, bounds),
        workers=workers,
    )
