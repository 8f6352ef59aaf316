"""CPU seconds of the engine alone on the bundled scenario, against an older checkout.

    python benchmarks/engine_time.py [--rounds 5] [--runs 5] [--old-main DIR] [--all-on]

Each round runs, in a fresh process per checkout (alternating), `--runs` runs of
`ChannelModel(scenario, seed).run()` on `scenarios/parallel.yaml` (51,000 customers, 182
weeks with the warm-up), timed with `time.process_time` (CPU, so the load of other
processes matters less than for wall time), and prints the median CPU seconds per run of
each checkout and their ratio. At this size a week is about 60 numpy calls on arrays of
about a thousand elements, so the cost per call counts more than the arithmetic.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_time import ALL_ON  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import json, sys, time
from channelsim.model.channel_model import ChannelModel
from channelsim.scenario.loading import load_scenario
sc = load_scenario(sys.argv[1], sys.argv[3:])
ChannelModel(sc, seed=0).run()  # warm: first-call costs are not the engine's
cpus = []
for seed in range(1, int(sys.argv[2]) + 1):
    start = time.process_time()
    ChannelModel(sc, seed=seed).run()
    cpus.append(time.process_time() - start)
print(json.dumps(cpus))
"""


def measure(checkout: Path | None, runs: int, overrides: list[str]) -> list[float]:
    """CPU seconds of each run in one fresh process of `checkout` (None: this one)."""
    python, env = sys.executable, dict(os.environ)
    if checkout is not None and (checkout / ".venv").is_dir():
        python = str(checkout / ".venv" / "bin" / "python")
    elif checkout is not None:
        env["PYTHONPATH"] = str(checkout / "src")
    scenario = str(ROOT / "scenarios" / "parallel.yaml")
    out = subprocess.run(
        [python, "-c", CHILD, scenario, str(runs), *overrides],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=5, help="runs per process")
    parser.add_argument("--old-main", type=Path, help="checkout of an earlier commit")
    parser.add_argument("--all-on", action="store_true", help="every mechanism switched on")
    args = parser.parse_args()
    overrides = ALL_ON if args.all_on else []
    checkouts: dict[str, Path | None] = {"this checkout": None}
    if args.old_main:
        checkouts["old main"] = args.old_main
    found: dict[str, list[float]] = {name: [] for name in checkouts}
    load = [os.getloadavg()[0]]
    for _ in range(args.rounds):
        for name, checkout in checkouts.items():
            found[name].extend(measure(checkout, args.runs, overrides))
    load.append(os.getloadavg()[0])
    print(f"load average {load[0]:.2f} at the start, {load[1]:.2f} at the end")
    medians = {name: statistics.median(cpus) for name, cpus in found.items()}
    for name, cpus in found.items():
        print(
            f"{name:14s} {len(cpus)} runs: CPU median {medians[name]:.4f} s, best {min(cpus):.4f} s"
        )
    if "old main" in medians:
        ratio = medians["this checkout"] / medians["old main"]
        print(f"CPU per run, this checkout / old main: {ratio:.3f}")


if __name__ == "__main__":
    main()
