"""Where runs execute: in this process, or in local worker processes.

Every executor yields `(index, result)` pairs as runs finish; callers put results back in
order, so the outcome never depends on the executor or the number of workers. Worker
processes are started with the 'spawn' method so that no global state leaks in and no
global multiprocessing setting is changed.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any, Protocol, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Executor(Protocol):
    def map_unordered(
        self, fn: Callable[[T], R], items: Sequence[T]
    ) -> Iterator[tuple[int, R]]: ...


class InProcess:
    """Run one after another in this process (the reference for every other executor)."""

    def map_unordered(self, fn: Callable[[T], R], items: Sequence[T]) -> Iterator[tuple[int, R]]:
        for index, item in enumerate(items):
            yield index, fn(item)


class LocalProcesses:
    """Run in `workers` local processes, keeping at most 2 x workers runs in flight."""

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise ValueError(f"workers must be >= 1, found {workers}")
        self.workers = workers

    def map_unordered(self, fn: Callable[[T], R], items: Sequence[T]) -> Iterator[tuple[int, R]]:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=self.workers, mp_context=context) as pool:
            pending: dict[Any, int] = {}
            queue = iter(enumerate(items))
            for index, item in queue:
                pending[pool.submit(fn, item)] = index
                if len(pending) >= 2 * self.workers:
                    break
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    index = pending.pop(future)
                    yield index, future.result()
                    for next_index, item in queue:
                        pending[pool.submit(fn, item)] = next_index
                        break


def make_executor(workers: int = 1) -> Executor:
    """In-process for one worker, local processes for more."""
    return InProcess() if workers <= 1 else LocalProcesses(workers)
