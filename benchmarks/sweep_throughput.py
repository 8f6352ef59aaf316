"""Sweep throughput: runs per second with 1 and 2 local workers (and Dask), and efficiency.

Usage: python benchmarks/sweep_throughput.py [--points 8] [--replicates 2] [--weeks 52] [--dask]

The sweep is a grid over `reps.commission.rate` on scenarios/parallel.yaml (51,000
customers) shortened to `--weeks`. Throughput counts from the moment the sweep starts its
executor (worker start-up included) to the last run saved; the tables, summary and charts
written after the last run are timed separately. Efficiency = speedup / workers against the
1-worker sweep. A plain loop of the same runs without the sweep machinery gives the overhead.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from channelsim import sweep_run
from channelsim.experiment import RunSpec, run_spec
from channelsim.scenario import scenario_with
from channelsim.sweep import define, plan

ROOT = Path(__file__).resolve().parents[1]


class Clock:
    """Progress callback that notes when the runs start and when the last one is saved."""

    def __init__(self) -> None:
        self.start = self.end = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.perf_counter()
        if not self.start:
            self.start = now
        if done == total:
            self.end = now


def sweep_once(the_plan, folder: Path, **executor) -> tuple[float, float]:
    clock = Clock()
    started = time.perf_counter()
    sweep_run.run_sweep(the_plan, folder, on_progress=clock, **executor)
    return clock.end - clock.start, time.perf_counter() - clock.end + (clock.start - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=8)
    parser.add_argument("--replicates", type=int, default=2)
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--dask", action="store_true", help="also a 2-worker Dask LocalCluster")
    args = parser.parse_args()

    definition = define(
        ROOT / "scenarios" / "parallel.yaml",
        params=[f"reps.commission.rate=0.02:0.10:{args.points}"],
        replicates=args.replicates,
        seed=1,
        overrides=[f"weeks={args.weeks}"],
    )
    the_plan = plan(definition)
    runs = the_plan.runs
    print(f"{runs} runs of parallel.yaml, {args.weeks} weeks; load average {os.getloadavg()}")

    started = time.perf_counter()
    for point, settings in enumerate(the_plan.settings):
        for seed in the_plan.seeds[point]:
            run_spec(RunSpec(scenario_with(definition.scenario, settings), int(seed)))
    loop = time.perf_counter() - started
    print(f"plain loop, no sweep machinery: {loop:.1f} s, {runs / loop:.2f} runs/s")

    cases = {"1 worker (in-process)": {"workers": 1}, "2 local processes": {"workers": 2}}
    rates = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, executor in cases.items():
            seconds, after = sweep_once(the_plan, Path(tmp) / name.split()[0], **executor)
            rates[name] = runs / seconds
            print(f"{name}: {seconds:.1f} s, {rates[name]:.2f} runs/s (+{after:.1f} s tables)")
        if args.dask:
            from distributed import LocalCluster

            with LocalCluster(n_workers=2, threads_per_worker=1, processes=True) as cluster:
                seconds, after = sweep_once(
                    the_plan, Path(tmp) / "dask", scheduler=cluster.scheduler_address
                )
            rates["Dask, 2 workers"] = runs / seconds
            print(f"Dask, 2 workers: {seconds:.1f} s, {rates['Dask, 2 workers']:.2f} runs/s")
    base = rates["1 worker (in-process)"]
    print("\n| executor | workers | runs/s | speedup | efficiency |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, rate in rates.items():
        workers = 1 if name.startswith("1 ") else 2
        print(
            f"| {name} | {workers} | {rate:.2f} | {rate / base:.2f} | {rate / base / workers:.2f} |"
        )


if __name__ == "__main__":
    main()
