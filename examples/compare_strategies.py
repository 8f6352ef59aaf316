"""Compare the three bundled channel strategies from Python, as `channelsim compare` does.

    python examples/compare_strategies.py [--weeks 52] [--replicates 4] [--out DIR]

Prints company profit and market share per strategy with 95% intervals, and the paired
difference of each strategy to direct selling; with --out, also writes the results folder
that `channelsim report` turns into an HTML report.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

import channelsim

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


def interval(row: pd.Series, centre: str, spec: str) -> str:
    """'mean [low, high]' of one row of a summary or differences table."""
    return f"{row[centre]:{spec}} [{row['ci_low']:{spec}}, {row['ci_high']:{spec}}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--replicates", type=int, default=4)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    strategies = [
        channelsim.load_scenario(SCENARIOS / f"{name}.yaml", {"weeks": args.weeks})
        for name in ("direct", "intermediary", "parallel")
    ]
    comparison = channelsim.compare(strategies, replicates=args.replicates, seed=1)

    summary = comparison.summary.set_index(["scenario", "kpi"])
    print(f"{'strategy':14s} {'company profit':>26s} {'market share':>22s}")
    for name in comparison.names:
        profit = interval(summary.loc[(name, "company_profit")], "mean", ",.0f")
        share = interval(summary.loc[(name, "market_share")], "mean", ".3f")
        print(f"{name:14s} {profit:>26s} {share:>22s}")

    differences = comparison.differences.set_index(["scenario", "kpi"])
    print(f"\npaired difference to {comparison.baseline} (company profit):")
    for name in comparison.names[1:]:
        row = differences.loc[(name, "company_profit")]
        print(
            f"  {name:12s} {row['mean_diff']:+,.0f} [{row['ci_low']:+,.0f}, {row['ci_high']:+,.0f}]"
        )

    if args.out:
        print(f"\nResults in {channelsim.save(comparison, args.out)}")


if __name__ == "__main__":
    main()
