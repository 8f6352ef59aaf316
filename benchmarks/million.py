"""The million-customer case: model time, peak memory, and a hash of everything it produced.

    python benchmarks/million.py [--repeat 1] [--all-on] [--profile N] [--old-main DIR]
                                 [--set KEY=VALUE ...]

Runs `scenarios/parallel.yaml` scaled to 1,000,002 customers x 104 weeks (the overrides of
benchmarks/run_time.py) in a fresh process, and prints the model time (construction and
104 steps), the peak resident memory of that process, and a SHA-256 of the KPIs and every
weekly series (their bytes), so an optimisation can show it changed no result. `--profile N`
prints the N most expensive functions (cProfile, cumulative time) of one run.
`--old-main DIR` (a checkout with its own `.venv`, or only its `src/`, then run with this
interpreter) runs that code too, alternating fresh processes with this checkout's, and
prints the ratio of the median model times (wall and CPU seconds of the model process).
`--set KEY=VALUE` overrides a setting of this checkout's runs only (an older checkout may
not know the key): `--set warmup_weeks=0` compares with a checkout from before the warm-up.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_time import ALL_ON, MILLION  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import cProfile, hashlib, json, pstats, resource, sys, time
import numpy as np
from channelsim.model.channel_model import ChannelModel
from channelsim.scenario.loading import load_scenario
repeat, profile = int(sys.argv[2]), int(sys.argv[3])
sc = load_scenario(sys.argv[1], sys.argv[4:])
times, cpus, digests = [], [], []
for _ in range(repeat):
    profiler = cProfile.Profile() if profile else None
    start, cpu = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    model = ChannelModel(sc, seed=1)
    result = model.run()
    if profiler:
        profiler.disable()
    times.append(time.perf_counter() - start)
    cpus.append(time.process_time() - cpu)
    digest = hashlib.sha256(json.dumps(result.kpis, sort_keys=True).encode())
    for name in sorted(result.weekly):
        digest.update(name.encode())
        digest.update(np.ascontiguousarray(result.weekly[name], dtype=float).tobytes())
    digests.append(digest.hexdigest())
if profile:
    pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(profile)
print(json.dumps({"customers": model.population.size, "seconds": times, "cpu": cpus,
                  "digests": digests,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def measure(checkout: Path | None, repeat: int, profile: int, overrides: list[str]) -> dict:
    """One fresh process of `checkout` (None: this one) running the case `repeat` times."""
    scenario = str(ROOT / "scenarios" / "parallel.yaml")
    python, env = sys.executable, dict(os.environ)
    if checkout is not None and (checkout / ".venv").is_dir():
        python = str(checkout / ".venv" / "bin" / "python")
    elif checkout is not None:
        env["PYTHONPATH"] = str(checkout / "src")
    out = subprocess.run(
        [python, "-c", CHILD, scenario, str(repeat), str(profile), *overrides],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    if profile:
        print(out.stderr)
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="fresh processes per checkout")
    parser.add_argument("--all-on", action="store_true", help="every mechanism switched on")
    parser.add_argument("--profile", type=int, default=0, metavar="N")
    parser.add_argument("--old-main", type=Path, help="checkout of an earlier commit, with .venv")
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="this checkout only"
    )
    args = parser.parse_args()
    overrides = MILLION + (ALL_ON if args.all_on else [])
    checkouts: dict[str, Path | None] = {"this checkout": None}
    if args.old_main:
        checkouts["old main"] = args.old_main
    found: dict[str, list[dict]] = {name: [] for name in checkouts}
    for _ in range(args.repeat):
        for name, checkout in checkouts.items():
            mine = args.set if checkout is None else []
            found[name].append(measure(checkout, 1, args.profile, overrides + mine))
    print(f"load average {os.getloadavg()[0]:.2f}")
    medians = {}
    for name, runs in found.items():
        times = sorted(t for run in runs for t in run["seconds"])
        cpus = sorted(t for run in runs for t in run["cpu"])
        medians[name] = (times[len(times) // 2], cpus[len(cpus) // 2])
        peak = max(run["peak_mb"] for run in runs)
        digests = sorted({d for run in runs for d in run["digests"]})
        print(
            f"{name:14s} customers {runs[0]['customers']:,d}  wall best {times[0]:.2f} s "
            f"median {medians[name][0]:.2f} s  CPU median {medians[name][1]:.2f} s  "
            f"peak {peak:.0f} MB\n{'':14s} sha256 {' '.join(digests)}"
        )
    if "old main" in medians:
        new, old = medians["this checkout"], medians["old main"]
        print(
            f"model time, this checkout / old main: wall {new[0] / old[0]:.2f}, "
            f"CPU {new[1] / old[1]:.2f}"
        )


if __name__ == "__main__":
    main()
