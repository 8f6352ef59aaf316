"""Where runs execute: in this process, in local worker processes, or on a Dask cluster.

Every executor yields `(index, result)` pairs as runs finish; callers put results back in
order, so the outcome never depends on the executor or the number of workers. Local worker
processes are forked from a fresh 'forkserver' process that has imported the engine once
(where the platform has one; 'spawn' elsewhere): no state of the caller leaks into them,
and a worker starts in milliseconds instead of re-importing numpy, pandas and Mesa.
`workers` (where present) is how many items run at once, which callers use to size tasks.

Interrupts: worker processes never see Ctrl-C (SIGINT is blocked while the forkserver and
the workers are started, so even one interrupted during its start-up prints nothing); the
main process gets the KeyboardInterrupt and terminates them. A worker, and the forkserver,
exit as soon as the main process is gone (killed), instead of lingering with their memory
(`parent_watch`).
"""

from __future__ import annotations

import importlib.util
import multiprocessing
import os
import signal
import socket
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from contextlib import contextmanager
from multiprocessing import resource_tracker
from typing import Any, Protocol, TypeVar

from channelsim.experiments import parent_watch

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


# What a worker needs to run simulations; the forkserver imports it once for every worker,
# after the module that makes it exit with its parent. Mesa next: its logger inspects the
# import stack, which costs more with more modules loaded.
ENGINE_MODULES = [
    "channelsim.experiments.parent_watch",
    "mesa",
    "channelsim.model.channel_model",
    "channelsim.experiments.replicates",
    "channelsim.experiments.sweep_run",
]


def process_context() -> multiprocessing.context.BaseContext:
    """The start method for local workers: a forkserver preloaded with the engine, or spawn.

    Setting the forkserver's preload list is the one process-wide multiprocessing setting
    channelsim makes; it changes no start method and only affects forkserver workers. The
    environment then names this process as the forkserver's parent (`parent_watch`).
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(ENGINE_MODULES)
    os.environ[parent_watch.PARENT] = str(os.getpid())
    return context


def start_workers_early() -> None:
    """Start the forkserver now, so it imports the engine while the caller does other work."""
    context = process_context()
    if context.get_start_method() == "forkserver":
        from multiprocessing import forkserver

        with _sigint_blocked():  # the forkserver, and so every worker, starts with it blocked
            forkserver.ensure_running()


class LocalProcesses:
    """Run in `workers` local processes, keeping at most 2 x workers runs in flight."""

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise ValueError(f"workers must be >= 1, found {workers}")
        self.workers = workers

    def map_unordered(self, fn: Callable[[T], R], items: Sequence[T]) -> Iterator[tuple[int, R]]:
        others = set(multiprocessing.active_children())
        pool = ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=process_context(),
            initializer=_worker_started,
            initargs=(os.getpid(),),
        )
        pending: dict[Any, int] = {}
        queue = iter(enumerate(items))
        finished = False
        try:
            with _sigint_blocked():  # workers start here, inheriting the blocked signal
                for index, item in queue:
                    pending[pool.submit(fn, item)] = index
                    if len(pending) >= 2 * self.workers:
                        break
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    index = pending.pop(future)
                    yield index, future.result()
                    with _sigint_blocked():
                        for next_index, item in queue:
                            pending[pool.submit(fn, item)] = next_index
                            break
            finished = True
        finally:
            if finished:
                pool.shutdown(wait=True)
            else:  # interrupted, failed or stopped early: do not wait for runs in flight
                _terminate(pool, others)


@contextmanager
def _sigint_blocked() -> Iterator[None]:
    """Hold back SIGINT while worker processes are started; it is delivered right after.

    multiprocessing's resource tracker is started first: starting it unblocks SIGINT on its
    way out (CPython's `resource_tracker.ensure_running`), which inside the block would let
    the forkserver import the engine, a second or so, with Ctrl-C live in it.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    resource_tracker.ensure_running()
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def _worker_started(parent: int) -> None:
    """In each worker: ignore Ctrl-C (the main process handles it) and exit with `parent`."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    parent_watch.exit_with(parent)


def _terminate(pool: ProcessPoolExecutor, others: set[Any]) -> None:
    """Stop a pool at once: cancel queued work and end its processes.

    concurrent.futures has no public way to end running workers before Python 3.14
    (`terminate_workers`), so its processes are the children started since the pool was
    made (`others` were there before), which also covers one interrupted as it started.
    """
    processes = [p for p in multiprocessing.active_children() if p not in others]
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(timeout=5)
        if process.is_alive():
            process.kill()


def make_executor(workers: int = 1) -> Executor:
    """In-process for one worker, local processes for more."""
    return InProcess() if workers <= 1 else LocalProcesses(workers)


class ExecutorError(OSError):
    """An executor that cannot start (unreachable scheduler, bad address); for the user."""


class DaskCluster:
    """Run on a Dask distributed cluster through its scheduler address.

    Each item is one task, submitted with `retries` so a task that raises is tried again.
    When a worker dies, the scheduler itself gives the tasks it held to other workers; the
    scheduler's `remove-worker` events tell us which workers were lost and which of our
    tasks were being run or held by them (`lost_workers`, `rescheduled`).
    """

    def __init__(self, address: str, retries: int = 2, connect_timeout: float = 10.0) -> None:
        from distributed import Client

        check_address(address)
        _check_reachable(address, connect_timeout)
        _check_answers(address, connect_timeout)
        try:
            self.client = Client(address, timeout=connect_timeout, set_as_default=False)
        except Exception as exc:  # noqa: BLE001 - any failure to connect is one message
            reason = _first_line(exc)
            raise ExecutorError(f"--scheduler {address}: cannot connect ({reason})") from None
        self.address = address
        self.retries = retries
        self.lost_workers: list[str] = []
        self.rescheduled: set[int] = set()
        self._since = self._last_event_time()

    @property
    def workers(self) -> int:
        """Threads in the cluster now (at least 1, so a cluster still starting can be used)."""
        info = self.client.scheduler_info(n_workers=-1)["workers"]
        return max(1, sum(w.get("nthreads", 1) for w in info.values()))

    def map_unordered(self, fn: Callable[[T], R], items: Sequence[T]) -> Iterator[tuple[int, R]]:
        from distributed import as_completed

        token = uuid.uuid4().hex[:8]
        futures = [
            self.client.submit(fn, item, key=f"channelsim-{token}-{i}", retries=self.retries)
            for i, item in enumerate(items)
        ]
        index = {future.key: i for i, future in enumerate(futures)}
        pending = set(futures)
        try:
            for future in as_completed(futures, loop=self.client.loop):
                pending.discard(future)
                result = future.result()
                future.release()
                self._read_events(index)
                yield index[future.key], result
        finally:
            if pending:
                self.client.cancel(list(pending))
            self._read_events(index)

    def describe(self) -> str:
        return f"Dask scheduler {self.address} ({self.workers} worker threads)"

    def close(self) -> None:
        self.client.close()

    def _last_event_time(self) -> float:
        events = self.client.get_events("all")
        return max((t for t, _ in events), default=0.0)

    def _read_events(self, index: dict[Any, int]) -> None:
        """Record workers removed since we started and which of our tasks they held."""
        for stamp, event in self.client.get_events("all"):
            if stamp <= self._since or not isinstance(event, dict):
                continue
            self._since = stamp
            if event.get("action") != "remove-worker" or event.get("expected"):
                continue
            self.lost_workers.append(str(event.get("worker")))
            held = set(event.get("processing-tasks", ())) | set(
                event.get("lost-computed-tasks", ())
            )
            self.rescheduled.update(index[key] for key in held if key in index)


MAX_HANDSHAKE_FRAMES = 64
MAX_HANDSHAKE_BYTES = 1 << 20
SCHEMES = {"tcp": None, "tls": None, "ucx": ("ucp", "distributed_ucxx"), "ws": ("websockets",),
           "wss": ("websockets",)}  # fmt: skip


def check_address(address: str) -> None:
    """Refuse address schemes Dask cannot use here (http://, or ucx:// without its package)."""
    scheme, sep, _ = address.partition("://")
    if not sep:
        return  # host:port means tcp://
    if scheme not in SCHEMES:
        raise ExecutorError(
            f"--scheduler {address}: unsupported address scheme {scheme + '://'!r}; expected "
            "tcp://HOST:PORT (or tls://, ucx://, ws://), e.g. tcp://scheduler-host:8786"
        )
    needs = SCHEMES[scheme]
    if needs and not any(importlib.util.find_spec(name) for name in needs):
        raise ExecutorError(
            f"--scheduler {address}: {scheme}:// needs the Python package {needs[0]!r}, "
            "which is not installed here"
        )


def _check_answers(address: str, timeout: float) -> None:
    """Ask the scheduler who it is, within `timeout`: a server that accepts the connection
    but never answers, or answers something else, would otherwise hang the Dask client."""
    import asyncio

    from distributed.comm import connect

    async def identity() -> Any:
        comm = await connect(address, timeout=timeout)
        try:
            await comm.write({"op": "identity", "reply": True})
            return await comm.read()
        finally:
            comm.abort()

    async def bounded() -> Any:
        return await asyncio.wait_for(identity(), timeout)

    try:
        reply = asyncio.run(bounded())
    except TimeoutError:
        raise ExecutorError(
            f"--scheduler {address}: no answer within {timeout:g} s; is a Dask scheduler "
            "listening there?"
        ) from None
    except Exception as exc:  # noqa: BLE001 - garbage in any form is the same problem
        raise ExecutorError(
            f"--scheduler {address}: does not answer as a Dask scheduler ({_first_line(exc)})"
        ) from None
    if not isinstance(reply, dict) or reply.get("type") != "Scheduler":
        raise ExecutorError(
            f"--scheduler {address}: answered, but not as a Dask scheduler; check the address"
        )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _check_reachable(address: str, timeout: float) -> None:
    """Fail fast with a clear message when nothing listens at a tcp:// or tls:// address."""
    scheme, sep, rest = address.partition("://")
    if not sep:
        scheme, rest = "tcp", address
    if scheme not in ("tcp", "tls"):
        return
    host, _, port = rest.rpartition(":")
    if not host or not port.isdigit():
        raise ExecutorError(
            f"--scheduler {address}: expected tcp://HOST:PORT, e.g. tcp://scheduler-host:8786"
        )
    try:
        connection = socket.create_connection((host.strip("[]"), int(port)), timeout=timeout)
    except OSError as exc:
        raise ExecutorError(
            f"--scheduler {address}: no Dask scheduler reachable ({exc.strerror or exc})"
        ) from None
    with connection:
        if scheme == "tcp":
            _check_framing(address, connection)


def _check_framing(address: str, connection: socket.socket) -> None:
    """A Dask server speaks first: an 8-byte little-endian length, then that many bytes that
    start with the frame count. Check both are plausible before Dask's own reader allocates
    whatever a stranger's first bytes say."""
    try:
        size = int.from_bytes(_receive(connection, 8), "little")
        if not 16 <= size <= MAX_HANDSHAKE_BYTES:
            raise ValueError(f"a greeting of {size:,} bytes")
        frames = int.from_bytes(_receive(connection, size)[:8], "little")
        if not 1 <= frames <= MAX_HANDSHAKE_FRAMES:
            raise ValueError(f"a greeting of {frames:,} frames")
    except TimeoutError:
        raise ExecutorError(
            f"--scheduler {address}: accepted the connection but sent nothing; is a Dask "
            "scheduler listening there?"
        ) from None
    except (OSError, ValueError) as exc:
        raise ExecutorError(
            f"--scheduler {address}: does not answer as a Dask scheduler ({exc})"
        ) from None


def _receive(connection: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = connection.recv(size - len(data))
        if not chunk:
            raise ValueError("the connection closed")
        data += chunk
    return data


@contextmanager
def open_executor(workers: int = 1, scheduler: str | None = None) -> Iterator[Executor]:
    """The executor for these options, closed (Dask client disconnected) afterwards."""
    if scheduler is None:
        yield make_executor(workers)
        return
    cluster = DaskCluster(scheduler)
    try:
        yield cluster
    finally:
        cluster.close()


def describe(executor: Executor) -> str:
    """A short description for progress output and manifests."""
    if isinstance(executor, DaskCluster):
        return executor.describe()
    if isinstance(executor, LocalProcesses):
        return f"{executor.workers} local processes"
    return "in-process"
