"""Running candidate scenarios on a set of seeds: the evaluation behind `optimize` (and
any other search, such as a calibration, that scores parameter dicts by simulation).

Kept apart from the study code so that worker processes import only the model, not Optuna
or scipy, when they unpickle `run_task`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from channelsim.errors import ScenarioError
from channelsim.experiments.executors import Executor
from channelsim.experiments.replicates import RunSpec, run_spec
from channelsim.scenario.loading import scenario_with
from channelsim.scenario.schema import Scenario


class OptimizeStopped(RuntimeError):
    """The search stopped before the end (a lost executor); it can be resumed."""


@dataclass(frozen=True)
class RunTask:
    candidate: int
    replicate: int
    seed: int
    base: Scenario
    settings: dict[str, Any]


def run_task(task: RunTask) -> tuple[int, int, dict[str, float] | None, str]:
    """One run of one candidate; a run that raises is reported, not re-raised."""
    try:
        scenario = scenario_with(task.base, task.settings)
        return task.candidate, task.replicate, run_spec(RunSpec(scenario, task.seed)).kpis, ""
    except Exception as exc:  # noqa: BLE001 - a model failure is data for the trials table
        return task.candidate, task.replicate, None, f"{type(exc).__name__}: {exc}"


Replicates = list[dict[str, float]]


def run_candidates(
    executor: Executor, base: Scenario, seeds: Sequence[int], candidates: Sequence[dict[str, Any]]
) -> Iterator[tuple[int, Replicates | None, str]]:
    """Run every candidate on every seed; yield (index, per-replicate KPIs or None, error)
    as each candidate's last run finishes."""
    tasks = []
    for i, settings in enumerate(candidates):
        try:
            scenario_with(base, settings)
        except ScenarioError as exc:
            yield i, None, str(exc)
            continue
        tasks += [RunTask(i, r, int(s), base, settings) for r, s in enumerate(seeds)]
    done: dict[int, dict[int, dict[str, float]]] = defaultdict(dict)
    errors: dict[int, str] = {}
    stream = executor.map_unordered(run_task, tasks)
    try:
        while True:
            try:
                _, (i, r, kpis, error) = next(stream)
            except StopIteration:
                return
            except Exception as exc:
                raise OptimizeStopped(
                    f"the executor failed ({type(exc).__name__}: {exc}); finished trials are "
                    "saved; continue with --resume"
                ) from exc
            done[i][r] = kpis or {}
            if error:
                errors.setdefault(i, f"replicate {r}: {error}")
            if len(done[i]) == len(seeds):
                rows = [done[i][k] for k in range(len(seeds))]
                yield (i, None, errors[i]) if i in errors else (i, rows, "")
    finally:
        stream.close()
