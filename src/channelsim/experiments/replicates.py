"""Replications: per-run seeds, running one (scenario, seed), and tidy tables of many runs.

Seeds are derived with numpy's SeedSequence from one base seed, so replicate i has the same
seed whichever executor runs it and however many workers there are; the same replicate
seeds are used for every scenario of a comparison (common random numbers).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from channelsim.experiments.executors import Executor, InProcess
from channelsim.model.channel_model import ChannelModel
from channelsim.model.metrics import KPIS
from channelsim.scenario.schema import Scenario


def replicate_seeds(base_seed: int, replicates: int) -> list[int]:
    """One independent 63-bit seed per replicate, derived deterministically from `base_seed`."""
    children = np.random.SeedSequence(base_seed).spawn(replicates)
    return [int(child.generate_state(1, np.uint64)[0] >> np.uint64(1)) for child in children]


@dataclass(frozen=True)
class RunSpec:
    """One run to do: a scenario, a seed, and the labels that identify it in tables."""

    scenario: Scenario
    seed: int
    labels: dict[str, Any] = field(default_factory=dict)


@dataclass
class RunOutput:
    labels: dict[str, Any]
    seed: int
    kpis: dict[str, float]
    weekly: pd.DataFrame


def run_spec(spec: RunSpec) -> RunOutput:
    """Run one simulation; a plain top-level function so any executor can ship it."""
    result = ChannelModel(spec.scenario, seed=spec.seed).run()
    weekly = pd.DataFrame(result.weekly)
    weekly["week"] = weekly["week"].astype(int)
    return RunOutput(spec.labels, spec.seed, result.kpis, weekly)


def replicate_specs(
    scenario: Scenario, seeds: Sequence[int], labels: dict[str, Any] | None = None
) -> list[RunSpec]:
    return [
        RunSpec(scenario, seed, {**(labels or {}), "replicate": i}) for i, seed in enumerate(seeds)
    ]


def run_all(
    specs: Sequence[RunSpec],
    executor: Executor | None = None,
    on_done: Callable[[RunOutput], None] | None = None,
) -> list[RunOutput]:
    """Run every spec and return outputs in the order of `specs`, whatever order they finish."""
    executor = executor or InProcess()
    outputs: list[RunOutput | None] = [None] * len(specs)
    for index, output in executor.map_unordered(run_spec, specs):
        outputs[index] = output
        if on_done is not None:
            on_done(output)
    return [o for o in outputs if o is not None]


def kpi_table(outputs: Iterable[RunOutput]) -> pd.DataFrame:
    """One row per run: its labels, its seed, and every KPI."""
    rows = [{**o.labels, "seed": o.seed, **o.kpis} for o in outputs]
    return pd.DataFrame(rows)


def weekly_table(outputs: Iterable[RunOutput]) -> pd.DataFrame:
    """All runs' weekly series stacked, labelled like the KPI table."""
    frames = []
    for o in outputs:
        frame = o.weekly.copy()
        for key, value in reversed(list(o.labels.items())):
            frame.insert(0, key, value)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


@dataclass
class RunResults:
    """Replicates of one scenario: per-replicate KPIs, weekly series, and KPI intervals."""

    scenario: Scenario
    base_seed: int
    seeds: list[int]
    kpis: pd.DataFrame
    weekly: pd.DataFrame
    summary: pd.DataFrame
    workers: int = 1


def run_replicates(
    scenario: Scenario,
    replicates: int | None = None,
    seed: int | None = None,
    executor: Executor | None = None,
    on_done: Callable[[], None] | None = None,
    workers: int = 1,
) -> RunResults:
    """`replicates` (default: the scenario's) runs of one scenario on seeds from `seed`."""
    from channelsim.experiments import stats  # scipy: not needed by worker processes
    from channelsim.experiments.bounds import bounds_table

    n = scenario.replicates if replicates is None else replicates
    base_seed = scenario.seed if seed is None else seed
    seeds = replicate_seeds(base_seed, n)
    outputs = run_all(
        replicate_specs(scenario, seeds),
        executor,
        on_done=(lambda _o: on_done()) if on_done else None,
    )
    kpis = kpi_table(outputs)
    return RunResults(
        scenario=scenario,
        base_seed=base_seed,
        seeds=seeds,
        kpis=kpis,
        weekly=weekly_table(outputs),
        summary=stats.summarise_kpis(kpis, KPIS, bounds=bounds_table({scenario.name: scenario})),
        workers=workers,
    )
