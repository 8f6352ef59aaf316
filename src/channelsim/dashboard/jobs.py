"""Runs in the background: a worker process pool, jobs a page can poll, a per-session cache.

A run goes through `channelsim.api.run` on a thread of the server, with an executor that
hands its replicates to a long-lived process pool; the page only polls the job's counter,
so it stays responsive while the model runs elsewhere. Results are cached per browser
session by (scenario settings, seed, replicates): moving a lever back is instant.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, TypeVar

from channelsim import api
from channelsim.scenario.schema import Scenario

T = TypeVar("T")
R = TypeVar("R")
CACHE_SIZE = 32


def new_pool(workers: int) -> ProcessPoolExecutor:
    """Worker processes started with 'spawn' (no state of the server leaks in)."""
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))


class PoolExecutor:
    """An executor for `api.run` on an existing process pool (kept between runs)."""

    def __init__(self, pool: ProcessPoolExecutor) -> None:
        self.pool = pool

    def map_unordered(self, fn: Callable[[T], R], items: Sequence[T]) -> Iterator[tuple[int, R]]:
        pending: dict[Future, int] = {self.pool.submit(fn, item): i for i, item in enumerate(items)}
        try:
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    yield pending.pop(future), future.result()
        finally:
            for future in pending:
                future.cancel()


def run_key(scenario: Scenario, seed: int, replicates: int) -> str:
    """What a run's results depend on: every setting, the base seed and the replicates."""
    text = json.dumps(
        [scenario.model_dump(mode="json"), seed, replicates], sort_keys=True, allow_nan=True
    )
    return hashlib.sha256(text.encode()).hexdigest()[:24]


@dataclass
class Job:
    """One scenario's replicates running on a background thread."""

    scenario: Scenario
    seed: int
    replicates: int
    done: int = 0
    result: api.RunResults | None = None
    error: str | None = None
    thread: threading.Thread | None = field(default=None, repr=False)

    @property
    def finished(self) -> bool:
        return self.result is not None or self.error is not None


def start(job: Job, pool: ProcessPoolExecutor) -> Job:
    """Run `job` on a daemon thread; its `done` counts finished replicates."""

    def count() -> None:
        job.done += 1

    def work() -> None:
        try:
            job.result = api.run(
                job.scenario, job.replicates, job.seed, executor=PoolExecutor(pool), on_done=count
            )
        except Exception as exc:  # shown on the page; a failed run must not kill the server
            job.error = f"{job.scenario.name}: {exc}"

    job.thread = threading.Thread(target=work, name=f"channelsim-{job.scenario.name}", daemon=True)
    job.thread.start()
    return job


class Runs:
    """One browser session's runs: finished results (a bounded cache) and running jobs."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self.results: OrderedDict[str, api.RunResults] = OrderedDict()
        self.jobs: dict[str, Job] = {}

    def get(self, key: str) -> api.RunResults | None:
        if key in self.results:
            self.results.move_to_end(key)
            return self.results[key]
        return None

    def submit(
        self, scenario: Scenario, seed: int, replicates: int, pool: ProcessPoolExecutor
    ) -> str:
        """Start the run unless its results are cached or it is running; return its key."""
        key = run_key(scenario, seed, replicates)
        if key not in self.results and key not in self.jobs:
            self.jobs[key] = start(Job(scenario, seed, replicates), pool)
        return key

    def collect(self) -> list[str]:
        """Move finished jobs into the cache; return the errors of failed ones."""
        errors = []
        for key, job in list(self.jobs.items()):
            if not job.finished:
                continue
            del self.jobs[key]
            if job.error:
                errors.append(job.error)
            else:
                self.results[key] = job.result  # type: ignore[assignment]
                while len(self.results) > self.size:
                    self.results.popitem(last=False)
        return errors

    def progress(self, keys: Sequence[str]) -> tuple[int, int]:
        """(replicates finished, replicates asked for) over the runs `keys`."""
        done = total = 0
        for key in keys:
            if key in self.results:
                n = len(self.results[key].seeds)
                done, total = done + n, total + n
            elif key in self.jobs:
                job = self.jobs[key]
                done, total = done + job.done, total + job.replicates
        return done, total


def settings_key(*parts: Any) -> str:
    """A short stable key for widget names (a scenario source, a path)."""
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:10]
