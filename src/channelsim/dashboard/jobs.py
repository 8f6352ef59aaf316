"""Runs in the background: a worker process pool, jobs a page can poll, a per-session cache.

A run goes through `channelsim.api.run` on a thread of the server, with an executor that
hands its replicates to a long-lived process pool (replaced if a worker dies); the page
only polls the job's counter, so it stays responsive while the model runs elsewhere.
Results are cached per browser session by (scenario settings, seed, replicates): moving a
lever back is instant.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any, TypeVar

from channelsim import api
from channelsim.errors import ChannelsimError
from channelsim.scenario.schema import Scenario

T = TypeVar("T")
R = TypeVar("R")
CACHE_SIZE = 32


def new_pool(workers: int) -> ProcessPoolExecutor:
    """Worker processes started with 'spawn' (no state of the server leaks in)."""
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))


class WorkerDied(ChannelsimError):
    """A worker process ended in the middle of a run (killed, or out of memory)."""


class WorkerPool:
    """The server's worker processes, replaced when one of them dies.

    A `ProcessPoolExecutor` whose worker died is broken for good: it fails every task given
    to it, so without this every later run would fail until the server restarts. The runs
    that were on the pool when it broke fail with `WorkerDied`; the next run gets new
    workers. `generation` counts the pools, so two runs that see the same pool break
    replace it once.
    """

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.generation = 0
        self._pool = new_pool(workers)
        self._lock = threading.Lock()

    def submit(self, fn: Callable[[T], R], item: T) -> tuple[Future, int]:
        """Give `fn(item)` to a worker; returns its future and the pool generation it ran on."""
        with self._lock:
            try:
                return self._pool.submit(fn, item), self.generation
            except BrokenProcessPool:  # broke before anyone noticed: replace it now
                self._replace()
                return self._pool.submit(fn, item), self.generation

    def broken(self, generation: int) -> None:
        """A task of pool `generation` found it broken: replace it unless that is done."""
        with self._lock:
            if generation == self.generation:
                self._replace()

    def _replace(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool = new_pool(self.workers)
        self.generation += 1

    def shutdown(self) -> None:
        with self._lock:
            self._pool.shutdown(wait=True, cancel_futures=True)


class PoolExecutor:
    """An executor for `api.run` on the server's worker pool (kept between runs)."""

    def __init__(self, pool: WorkerPool) -> None:
        self.pool = pool

    def map_unordered(self, fn: Callable[[T], R], items: Sequence[T]) -> Iterator[tuple[int, R]]:
        pending: dict[Future, tuple[int, int]] = {}  # future -> (item, pool generation)
        try:
            for i, item in enumerate(items):
                future, generation = self.pool.submit(fn, item)
                pending[future] = (i, generation)
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    i, generation = pending.pop(future)
                    try:
                        result = future.result()
                    except BrokenProcessPool:
                        self.pool.broken(generation)
                        raise WorkerDied(
                            "a worker process stopped during the run (killed, or out of "
                            "memory?); the workers have been restarted: press Run to try again"
                        ) from None
                    yield i, result
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


def start(job: Job, pool: WorkerPool) -> Job:
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

    def submit(self, scenario: Scenario, seed: int, replicates: int, pool: WorkerPool) -> str:
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
