"""How precisely the optimiser finds the textbook monopoly price p* = 0.6 (docs/optimisation.md).

For seeds 1..5: the error |p - 0.6| of the best trial, searching the list price of the
integrated textbook market (demand steps of 1/N = 0.001) over a continuous range or over
levels 1/N apart, one trial at a time or in batches of 4.

    python benchmarks/optimize_checks.py
"""

from __future__ import annotations

from pathlib import Path

import channelsim

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "validation" / "integrated.yaml"


def error(spec: str, trials: int, batch: int, seed: int) -> float:
    scenario = channelsim.load_scenario(SCENARIO, {"pricing.policy.list_price": "fixed"})
    found = channelsim.optimize(
        scenario, {"pricing.list_price": spec}, "company_profit:max",
        trials=trials, replicates=1, seed=seed, confirm=0, batch=batch,
    )  # fmt: skip
    return abs(float(found.best.iloc[0]["pricing.list_price"]) - 0.6)


def main() -> None:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    print("search                     trials batch  |p - 0.6| for seeds 1..5")
    for spec, trials, batch in [
        ("0.3:0.9", 60, 1),
        ("0.3:0.9:601", 60, 1),
        ("0.3:0.9:601", 60, 4),
        ("0.3:0.9:601", 30, 1),
    ]:
        errors = [error(spec, trials, batch, seed) for seed in range(1, 6)]
        shown = "  ".join(f"{e:.4f}" for e in errors)
        print(f"{spec:<26} {trials:>6} {batch:>5}  {shown}")


if __name__ == "__main__":
    main()
