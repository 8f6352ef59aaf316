"""Measure the start-up transient of the bundled scenarios (how docs/model.md's default
warm-up was chosen).

    python benchmarks/warmup.py [REPLICATES]

Runs each scenario without warm-up for three purchase cycles and applies MSER-5 (White
1997: the truncation point that minimises the standard error of the mean of what is left,
on batch means of 5 weeks, searched over the first half) to the mean weekly series across
replicates of the stock of customers buying from the company and of weekly churn. Prints
the truncation week of each series beside one purchase cycle (the longest cycle_weeks).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import channelsim

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ["direct", "intermediary", "parallel", "s_company_before", "pc_insurer_parallel"]
SERIES = ("customers_active", "churned_customers")
BATCH = 5


def mser(series: np.ndarray, batch: int = BATCH) -> int:
    """MSER-k truncation point in weeks (a multiple of `batch`)."""
    n = series.size // batch
    means = series[: n * batch].reshape(n, batch).mean(axis=1)
    best, cut = np.inf, 0
    for d in range(n // 2):
        rest = means[d:]
        score = rest.var() / rest.size
        if score < best:
            best, cut = score, d
    return cut * batch


def main() -> None:
    replicates = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    print(f"{'scenario':22s} cycle  " + "  ".join(f"{s:>18s}" for s in SERIES))
    for name in SCENARIOS:
        base = channelsim.load_scenario(ROOT / "scenarios" / f"{name}.yaml")
        cycle = max(s.cycle_weeks for s in base.market.segments)
        sc = base.with_overrides({"warmup_weeks": 0, "weeks": 3 * cycle})
        weekly = channelsim.run(sc, replicates=replicates, seed=11).weekly
        mean = weekly.groupby("week")[list(SERIES)].mean()
        cuts = [mser(mean[s].to_numpy()) for s in SERIES]
        print(f"{name:22s} {cycle:5d}  " + "  ".join(f"{c:18d}" for c in cuts))


if __name__ == "__main__":
    main()
