"""Time one replicate and measure peak memory, for the budget in docs/performance.md.

Usage: python benchmarks/run_time.py [--repeat 3]
Each case runs in a fresh subprocess so its peak resident memory (ru_maxrss) is its own.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

ALL_ON = [
    "online.enabled=true",
    "telesales.enabled=true",
    "insurance.enabled=true",
    "reps.role=mixed",
    "reps.channel_manager_share=0.3",
    "engagement.large_accounts=deal_registration",
    "dealers.exit.replace=true",
    "reps.quota.method=data_driven",
]
MILLION = [
    "market.segments.large_accounts.customers=2000",
    "market.segments.smes.customers=40000",
    "market.segments.individuals.customers=124667",
]

CASES = {
    "parallel.yaml (51,000 customers, 104 weeks)": [],
    "parallel.yaml, every mechanism on": ALL_ON,
    "1,000,000 customers, 104 weeks": MILLION,
    "1,000,000 customers, every mechanism on": MILLION + ALL_ON,
}

CHILD = """
import json, resource, sys, time
from channelsim.model.channel_model import ChannelModel
from channelsim.scenario.loading import load_scenario
sc = load_scenario(sys.argv[1], sys.argv[3:])
times = []
for _ in range(int(sys.argv[2])):
    start = time.perf_counter()
    model = ChannelModel(sc, seed=1)
    result = model.run()
    times.append(time.perf_counter() - start)
print(json.dumps({"customers": model.population.size, "weeks": sc.weeks, "seconds": times,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "revenue": result.kpis["revenue"]}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    scenario = str(ROOT / "scenarios" / "parallel.yaml")
    print(f"{'case':45s} {'customers':>10s} {'best s':>8s} {'median s':>9s} {'peak MB':>8s}")
    for name, overrides in CASES.items():
        repeat = args.repeat if "1,000,000" not in name else 1
        out = subprocess.run(
            [sys.executable, "-c", CHILD, scenario, str(repeat), *overrides],
            check=True,
            capture_output=True,
            text=True,
        )
        data = json.loads(out.stdout)
        times = sorted(data["seconds"])
        median = times[len(times) // 2]
        print(
            f"{name:45s} {data['customers']:>10,d} {times[0]:>8.2f} {median:>9.2f} "
            f"{data['peak_mb']:>8.0f}"
        )


if __name__ == "__main__":
    main()
