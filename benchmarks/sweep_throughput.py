"""Sweep throughput: runs per second with 1 and 2 local workers (and Dask), and efficiency.

Usage: python benchmarks/sweep_throughput.py [--points 8] [--replicates 2] [--weeks 52] [--dask]
       python benchmarks/sweep_throughput.py --commands 5 [--points 20 ...]

The sweep is a grid over `reps.commission.rate` on scenarios/parallel.yaml (51,000
customers) shortened to `--weeks`. Throughput counts from the moment the sweep starts its
executor (worker start-up included) to the last run saved; the tables, summary and charts
written after the last run are timed separately. Efficiency = speedup / workers against the
1-worker sweep. A plain loop of the same runs without the sweep machinery gives the overhead.

`--commands N` times the whole `channelsim sweep` process instead, as a user types it, with
`--workers 1` and `--workers 2` alternately, N rounds, and gives the medians: there the
workers' forkserver starts while the command itself imports and plans.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from channelsim import api
from channelsim.experiments.replicates import RunSpec, run_spec
from channelsim.experiments.sweep import define, plan
from channelsim.scenario.loading import scenario_with

ROOT = Path(__file__).resolve().parents[1]


class Clock:
    """Progress callback that notes when the runs start, each chunk is saved, and the end."""

    def __init__(self) -> None:
        self.calls: list[tuple[float, int]] = []

    def __call__(self, done: int, total: int) -> None:
        self.calls.append((time.perf_counter(), done))

    def rates(self) -> tuple[float, float]:
        """Runs/s from the start, and from the first saved chunk on (start-up excluded)."""
        (start, _), (first, first_done), (end, total) = (
            self.calls[0], self.calls[1], self.calls[-1],
        )  # fmt: skip
        steady = (total - first_done) / (end - first) if end > first else float("nan")
        return total / (end - start), steady


def sweep_once(the_plan, folder: Path, **executor) -> tuple[float, float, float]:
    clock = Clock()
    api.run_sweep_plan(the_plan, folder, on_progress=clock, **executor)  # with its charts
    overall, steady = clock.rates()
    return overall, steady, time.perf_counter() - clock.calls[-1][0]


def commands(args: argparse.Namespace) -> None:
    """Whole `channelsim sweep` processes, 1 and 2 workers alternately, medians."""
    exe = str(Path(sys.executable).parent / "channelsim")
    base = [exe, "sweep", "scenarios/parallel.yaml", "--param"]
    base += [f"reps.commission.rate=0.02:0.10:{args.points}", "-n", str(args.replicates)]
    base += ["--seed", "1", "--set", f"weeks={args.weeks}", "-q"]
    runs = args.points * args.replicates
    print(f"{runs} runs of parallel.yaml, {args.weeks} weeks; load average {os.getloadavg()}")
    walls: dict[int, list[float]] = {1: [], 2: []}
    with tempfile.TemporaryDirectory() as tmp:
        for round_ in range(args.commands):
            for workers in walls:
                out = Path(tmp) / f"{round_}-{workers}"
                start = time.perf_counter()
                command = [*base, "--workers", str(workers), "--out", str(out)]
                subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
                walls[workers].append(time.perf_counter() - start)
    one, two = statistics.median(walls[1]), statistics.median(walls[2])
    print(f"whole command, median of {args.commands}: 1 worker {one:.2f} s, 2 workers {two:.2f} s")
    print(f"speedup {one / two:.2f}, efficiency {one / two / 2:.2f}; load {os.getloadavg()[0]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=8)
    parser.add_argument("--replicates", type=int, default=2)
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--dask", action="store_true", help="also a 2-worker Dask LocalCluster")
    parser.add_argument("--commands", type=int, metavar="N", help="time whole commands instead")
    args = parser.parse_args()
    if args.commands:
        commands(args)
        return

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
            rates[name] = sweep_once(the_plan, Path(tmp) / name.split()[0], **executor)
        if args.dask:
            from distributed import LocalCluster

            with LocalCluster(n_workers=2, threads_per_worker=1, processes=True) as cluster:
                address = cluster.scheduler_address
                rates["Dask, 2 workers"] = sweep_once(
                    the_plan, Path(tmp) / "dask", scheduler=address
                )
    base = rates["1 worker (in-process)"][0]
    print("\n| executor | workers | runs/s | speedup | efficiency | runs/s after 1st chunk |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, (rate, steady, _) in rates.items():
        workers = 1 if name.startswith("1 ") else 2
        print(
            f"| {name} | {workers} | {rate:.2f} | {rate / base:.2f} | "
            f"{rate / base / workers:.2f} | {steady:.2f} |"
        )
    finishing = ", ".join(f"{name} {after:.1f} s" for name, (_, _, after) in rates.items())
    print(f"Tables, summary and charts after the last run: {finishing}")


if __name__ == "__main__":
    main()
