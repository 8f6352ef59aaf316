"""Replications: per-run seeds, running one (scenario, seed), and tidy tables of many runs.

Seeds are derived with numpy's SeedSequence from one base seed, so replicate i has the same
seed whichever executor runs it and however many workers there are; the same replicate
seeds are used for every scenario of a comparison (common random numbers).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from channelsim.errors import ScenarioError
from channelsim.experiments import warmup
from channelsim.experiments.executors import Executor, InProcess
from channelsim.model.kpis import CATALOGUE
from channelsim.model.metrics import KPIS
from channelsim.scenario.schema import Scenario

if TYPE_CHECKING:
    from channelsim.model.channel_model import ChannelModel

# Money KPIs always have a value, but for a mean over dealers (a direct strategy has none).
MONEY_KPIS = frozenset(k.name for k in CATALOGUE if k.unit == "money") - {"dealer_profit_mean"}


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


class NonFiniteResult(ScenarioError):
    """A run whose KPIs overflowed (inf, or NaN where a value must exist)."""


def run_spec(spec: RunSpec) -> RunOutput:
    """Run one simulation; a plain top-level function so any executor can ship it.

    The engine (and Mesa with it) is imported here, where a run is made: a command whose runs
    are on workers never imports it, which spares it a third of a second.
    """
    from channelsim.model.channel_model import ChannelModel

    model = ChannelModel(spec.scenario, seed=spec.seed)
    try:
        with np.errstate(over="raise"):  # an overflow is never a result
            result = model.run()
    except FloatingPointError as exc:
        raise NonFiniteResult(_overflowed(spec.scenario, spec.seed, str(exc))) from None
    finally:
        _forget(model)
    check_finite(result.kpis, spec.scenario, spec.seed)
    return RunOutput(spec.labels, spec.seed, result.kpis, weekly_frame(result.weekly))


def weekly_frame(weekly: dict[str, np.ndarray]) -> pd.DataFrame:
    """One run's weekly series as a table, weeks as integers."""
    frame = pd.DataFrame(weekly)
    frame["week"] = frame["week"].astype(int)
    return frame


def _forget(model: ChannelModel) -> None:
    """Let a finished model be freed. Mesa numbers agents in a class-level dict keyed by
    model (`mesa.Agent._ids`, Mesa 3.3), which otherwise keeps every model a process ever
    ran, and its weekly rows and arrays, alive: 0.5-2 MB per replicate, without end in a
    worker of a long sweep."""
    from mesa import Agent

    ids = getattr(Agent, "_ids", None)
    if isinstance(ids, dict):
        ids.pop(model, None)


def check_finite(kpis: dict[str, float], scenario: Scenario, seed: int) -> None:
    """Refuse a result that overflowed: no KPI may be infinite, and no money KPI NaN.

    Other KPIs are NaN where they do not apply (a loss ratio without insurance, a mean over
    no dealers), so NaN alone is no sign of trouble there.
    """
    bad = [
        name
        for name, value in kpis.items()
        if math.isinf(value) or (math.isnan(value) and name in MONEY_KPIS)
    ]
    if bad:
        shown = ", ".join(f"{name}={kpis[name]}" for name in bad[:3])
        raise NonFiniteResult(_overflowed(scenario, seed, shown))


def _overflowed(scenario: Scenario, seed: int, what: str) -> str:
    from channelsim.experiments.resources import largest_settings

    return (
        f"scenario {scenario.name!r}, seed {seed}: the numbers overflowed ({what}); some "
        f"settings are too large for double precision; the largest are "
        f"{largest_settings(scenario)}"
    )


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
    outputs: list[RunOutput | None] = [None] * len(specs)
    for index, output in run_each(specs, executor):
        outputs[index] = output
        if on_done is not None:
            on_done(output)
    return [o for o in outputs if o is not None]


def run_each(
    specs: Sequence[RunSpec], executor: Executor | None = None
) -> Iterator[tuple[int, RunOutput]]:
    """(index in `specs`, output) as each run finishes, for callers that save as they go."""
    stream = (executor or InProcess()).map_unordered(run_spec, specs)
    try:
        yield from stream
    finally:
        stream.close()


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
    """Replicates of one scenario: per-replicate KPIs, weekly series, and KPI intervals.

    When the run was written to a folder (`channelsim.run(..., out=...)`), `weekly` is read
    from its `timeseries.parquet` when first asked for, so a long run never holds it all.
    """

    scenario: Scenario
    base_seed: int
    seeds: list[int]
    kpis: pd.DataFrame
    summary: pd.DataFrame
    workers: int = 1
    folder: Path | None = None
    _weekly: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def weekly(self) -> pd.DataFrame:
        """Every replicate's weekly series, stacked (column `replicate` first)."""
        if self._weekly is None and self.folder is not None:
            self._weekly = pd.read_parquet(self.folder / "timeseries.parquet")
        return self._weekly if self._weekly is not None else pd.DataFrame()

    @property
    def warmup_losses(self) -> pd.DataFrame:
        """Dealers lost in the warm-up, which the KPIs leave out (`experiments.warmup`)."""
        return warmup.warmup_losses(self.weekly)


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
        summary=stats.summarise_kpis(kpis, KPIS, bounds=bounds_table({scenario.name: scenario})),
        workers=workers,
        _weekly=weekly_table(outputs),
    )
