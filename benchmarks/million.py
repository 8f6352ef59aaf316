"""The million-customer case: model time, peak memory, and a hash of everything it produced.

    python benchmarks/million.py [--repeat 1] [--all-on] [--profile N]

Runs `scenarios/parallel.yaml` scaled to 1,000,002 customers x 104 weeks (the overrides of
benchmarks/run_time.py) in a fresh process, and prints the model time (construction and
104 steps), the peak resident memory of that process, and a SHA-256 of the KPIs and every
weekly series (their bytes), so an optimisation can show it changed no result. `--profile N`
prints the N most expensive functions (cProfile, cumulative time) of one run.
"""

from __future__ import annotations

import argparse
import json
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
times, digests = [], []
for _ in range(repeat):
    profiler = cProfile.Profile() if profile else None
    start = time.perf_counter()
    if profiler:
        profiler.enable()
    model = ChannelModel(sc, seed=1)
    result = model.run()
    if profiler:
        profiler.disable()
    times.append(time.perf_counter() - start)
    digest = hashlib.sha256(json.dumps(result.kpis, sort_keys=True).encode())
    for name in sorted(result.weekly):
        digest.update(name.encode())
        digest.update(np.ascontiguousarray(result.weekly[name], dtype=float).tobytes())
    digests.append(digest.hexdigest())
if profile:
    pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(profile)
print(json.dumps({"customers": model.population.size, "seconds": times, "digests": digests,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--all-on", action="store_true", help="every mechanism switched on")
    parser.add_argument("--profile", type=int, default=0, metavar="N")
    args = parser.parse_args()
    overrides = MILLION + (ALL_ON if args.all_on else [])
    scenario = str(ROOT / "scenarios" / "parallel.yaml")
    out = subprocess.run(
        [sys.executable, "-c", CHILD, scenario, str(args.repeat), str(args.profile), *overrides],
        check=True,
        capture_output=True,
        text=True,
    )
    if args.profile:
        print(out.stderr)
    data = json.loads(out.stdout)
    times = sorted(data["seconds"])
    print(
        f"customers {data['customers']:,d}  best {times[0]:.2f} s  median "
        f"{times[len(times) // 2]:.2f} s  peak {data['peak_mb']:.0f} MB"
    )
    for digest in sorted(set(data["digests"])):
        print(f"sha256 {digest}")


if __name__ == "__main__":
    main()
