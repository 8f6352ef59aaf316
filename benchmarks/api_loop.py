"""Many small runs: a loop of `channelsim.run` against the bare model loop, in one process.

    python benchmarks/api_loop.py [--runs 20] [--rounds 5]

The scenario is `scenarios/parallel.yaml` scaled to 10,002 customers and 52 weeks. Each
round runs `--runs` seeds through the bare loop (`ChannelModel(scenario, seed).run()`) and
then the same seeds through `channelsim.run(scenario, replicates=1, seed=...)`; the median
round of each is shown, their throughput ratio, and the per-run overhead of the API split
into its parts (resource check, seeds, tables, bounds, summary), timed on the same results.
Times are CPU seconds of this process (`time.process_time`), so other jobs on the machine
slow them less than wall time; the wall-time ratio is shown too.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import channelsim
from channelsim.experiments import replicates, resources, stats
from channelsim.experiments.bounds import bounds_table
from channelsim.model.channel_model import ChannelModel
from channelsim.model.kpis import KPIS

ROOT = Path(__file__).resolve().parents[1]
SMALL = [
    "market.segments.large_accounts.customers=20",
    "market.segments.smes.customers=400",
    "market.segments.individuals.customers=1247",
    "weeks=52",
]


def per_run(fn, seeds: list[int], clock=time.process_time) -> float:
    start = clock()
    for seed in seeds:
        fn(seed)
    return (clock() - start) / len(seeds)


def both(fn, seeds: list[int]) -> tuple[float, float]:
    """(CPU, wall) seconds per run."""
    start = time.perf_counter()
    cpu = per_run(fn, seeds)
    return cpu, (time.perf_counter() - start) / len(seeds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    scenario = channelsim.load_scenario(ROOT / "scenarios" / "parallel.yaml", SMALL)
    model = ChannelModel(scenario, seed=0)
    print(f"{model.population.size:,d} customers x {scenario.weeks} weeks")
    bare, api = [], []
    for r in range(args.rounds):
        seeds = list(range(r * args.runs, (r + 1) * args.runs))
        bare.append(both(lambda s: ChannelModel(scenario, seed=s).run(), seeds))
        api.append(both(lambda s: channelsim.run(scenario, replicates=1, seed=s), seeds))
    b, a = statistics.median(c for c, _ in bare), statistics.median(c for c, _ in api)
    bw, aw = statistics.median(w for _, w in bare), statistics.median(w for _, w in api)
    print(f"load average {os.getloadavg()[0]:.2f}; median of {args.rounds} rounds of {args.runs}")
    print(f"bare ChannelModel(...).run() loop  {1 / b:7.2f} runs/CPU s  {b * 1e3:7.1f} CPU ms/run")
    print(f"channelsim.run loop                {1 / a:7.2f} runs/CPU s  {a * 1e3:7.1f} CPU ms/run")
    print(f"API throughput / bare throughput   {b / a:7.2f} (CPU), {bw / aw:.2f} (wall)")
    print(f"API overhead per run               {(a - b) * 1e3:7.1f} CPU ms")
    # The API's own steps, on one finished run (repeated for a stable figure).
    spec = replicates.replicate_specs(scenario, replicates.replicate_seeds(1, 1))[0]
    output = replicates.run_spec(spec)
    result = ChannelModel(scenario, seed=spec.seed).run()
    kpis = replicates.kpi_table([output])
    bounds = bounds_table({scenario.name: scenario})
    parts = {
        "resource check": lambda _: resources.check_run(scenario, 1, 1, in_memory=True),
        "replicate seeds": lambda _: replicates.replicate_seeds(1, 1),
        "weekly DataFrame of the run": lambda _: replicates.weekly_frame(result.weekly),
        "KPI table": lambda _: replicates.kpi_table([output]),
        "stacked weekly table": lambda _: replicates.weekly_table([output]),
        "KPI bounds": lambda _: bounds_table({scenario.name: scenario}),
        "summary (means and intervals)": lambda _: stats.summarise_kpis(kpis, KPIS, bounds=bounds),
    }
    for name, fn in parts.items():
        print(f"  {name:32s} {per_run(fn, list(range(50))) * 1e3:7.2f} CPU ms")


if __name__ == "__main__":
    main()
