"""Executors: in-process, local processes and a real Dask cluster give the same tables, and a
Dask sweep survives a worker killed mid-sweep.

The cluster is a `dask scheduler` and two `dask worker` processes (one thread each, no
nanny, so a killed worker stays dead) on 127.0.0.1 with ports chosen by the OS.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import SMALL

from channelsim.experiments import sweep_run
from channelsim.experiments.sweep import define, plan
from channelsim.scenario.loading import deep_merge
from channelsim.storage import results

CHANNELSIM = [sys.executable, "-c", "from channelsim.cli import main; main()"]
DASK = [sys.executable, "-m", "dask"]
PARAMS = ["reps.commission.rate=0.02:0.1:5", "engagement.large_accounts=open,rep_only"]


class Cluster:
    """A scheduler and workers as separate processes; their logs go to files."""

    def __init__(self, folder: Path, workers: int) -> None:
        self.folder = folder
        file = folder / "scheduler.json"
        self.scheduler = self._start(
            "scheduler",
            [*DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
             "--scheduler-file", str(file)],
        )  # fmt: skip
        self.address = self._wait_for_address(file)
        self.workers = [
            self._start(
                f"worker{i}",
                [
                    *DASK,
                    "worker",
                    self.address,
                    "--host",
                    "127.0.0.1",
                    "--nthreads",
                    "1",
                    "--no-nanny",
                    "--no-dashboard",
                ],
            )  # fmt: skip
            for i in range(workers)
        ]
        from distributed import Client

        with Client(self.address, timeout=60, set_as_default=False) as client:
            client.wait_for_workers(workers, timeout=120)
            client.run(
                importlib.import_module, "channelsim.experiments.sweep_run"
            )  # warm, like a real pool

    def _start(self, name: str, command: list[str]) -> subprocess.Popen:
        log = open(self.folder / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)

    def _wait_for_address(self, file: Path) -> str:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if file.is_file():
                try:
                    return json.loads(file.read_text())["address"]
                except (ValueError, KeyError):
                    pass  # being written
            if self.scheduler.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError(f"the Dask scheduler did not start; see {self.folder}")

    def stop(self) -> None:
        for process in [*self.workers, self.scheduler]:
            if process.poll() is None:
                process.terminate()
        for process in [*self.workers, self.scheduler]:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Iterator[Cluster]:
    """One cluster for the module; the worker-loss test kills one of its two workers."""
    running = Cluster(tmp_path_factory.mktemp("cluster"), workers=2)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> tuple[Path, sweep_run.SweepResult]:
    """A scenario file and the in-process sweep every other executor must reproduce."""
    folder = tmp_path_factory.mktemp("reference")
    path = folder / "small.yaml"
    path.write_text(yaml.safe_dump(deep_merge(SMALL, {"weeks": 13})))
    return path, sweep_run.run_sweep(the_plan(path), folder / "out")


def the_plan(scenario_file: Path):
    return plan(define(scenario_file, params=PARAMS, replicates=2, seed=17))


def test_local_processes_and_dask_give_the_in_process_tables_bit_for_bit(
    tmp_path, reference, cluster
):
    scenario_file, expected = reference
    pool = sweep_run.run_sweep(the_plan(scenario_file), tmp_path / "processes", workers=2)
    dask = sweep_run.run_sweep(
        the_plan(scenario_file), tmp_path / "dask", scheduler=cluster.address
    )
    for other in (pool, dask):
        pd.testing.assert_frame_equal(expected.runs, other.runs, check_exact=True)
        pd.testing.assert_frame_equal(expected.summary, other.summary, check_exact=True)
    assert pool.executor == "2 local processes"
    assert dask.executor.startswith(f"Dask scheduler {cluster.address}")
    assert dask.lost_workers == []


def test_an_optimisation_on_dask_asks_and_gets_the_in_process_trials(cluster):
    import channelsim

    scenario = channelsim.load_scenario(
        Path(__file__).resolve().parents[1] / "scenarios" / "validation" / "logit.yaml",
        {"weeks": 4, "market.segments.0.customers": 400},
    )
    levers = {"pricing.flattened_price": "0.3:0.8:11", "pricing.list_price": "0.3:0.8:11"}
    runs = dict(trials=4, replicates=2, seed=5, confirm=2, batch=2)
    here = channelsim.optimize(scenario, levers, "company_profit:max", **runs)
    dask = channelsim.optimize(
        scenario, levers, "company_profit:max", scheduler=cluster.address, **runs
    )
    pd.testing.assert_frame_equal(here.trials, dask.trials, check_exact=True)
    pd.testing.assert_frame_equal(here.confirmation, dask.confirmation, check_exact=True)


def test_a_worker_killed_mid_sweep_is_replaced_and_reported(tmp_path, reference, cluster):
    scenario_file, expected = reference
    out = tmp_path / "dask"
    command = [*CHANNELSIM, "sweep", str(scenario_file), "--replicates", "2", "--seed", "17"]
    command += [arg for p in PARAMS for arg in ("--param", p)]
    command += ["--scheduler", cluster.address, "--chunk-size", "1", "--out", str(out), "-q"]
    sweep = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while not list((out / "runs").glob("*.parquet")) and sweep.poll() is None:
        time.sleep(0.01)
    cluster.workers[0].kill()
    stdout, stderr = sweep.communicate(timeout=180)
    assert sweep.returncode == 0, stderr
    assert cluster.workers[0].poll() is not None
    assert "Dask: lost 1 worker(s)" in stdout
    manifest = json.loads((out / "manifest.json").read_text())
    assert len(manifest["lost_workers"]) == 1
    assert manifest["rescheduled_chunks"] >= 1
    assert results.ResultsDir(out).is_complete
    pd.testing.assert_frame_equal(sweep_run.read_runs(out), expected.runs, check_exact=True)
