"""Time one run of a bundled scenario under each pricing-policy combination.

Usage: python benchmarks/pricing_policies.py [scenario.yaml] [weeks]
Prints seconds per run and per price review (reviews every pricing.policy.reprice_weeks).
"""

from __future__ import annotations

import sys
import time

from channelsim.model.channel_model import ChannelModel
from channelsim.scenario.loading import load_scenario

COMBINATIONS = {
    "all fixed": [],
    "dealer best response": ["pricing.policy.dealer=best_response"],
    "dealer chain best response": [
        "pricing.policy.wholesale=best_response",
        "pricing.policy.general_agent=best_response",
        "pricing.policy.dealer=best_response",
    ],
    "list price + rep best response": [
        "pricing.policy.list_price=best_response",
        "pricing.policy.rep=best_response",
    ],
    "every tier best response": [
        f"pricing.policy.{tier}=best_response"
        for tier in ("wholesale", "list_price", "general_agent", "dealer", "rep")
    ],
    "every tier adaptive": [
        f"pricing.policy.{tier}=adaptive"
        for tier in ("wholesale", "list_price", "general_agent", "dealer", "rep")
    ],
}


def main() -> None:
    path = sys.argv[1] if len(sys.argv) > 1 else "scenarios/parallel.yaml"
    weeks = int(sys.argv[2]) if len(sys.argv) > 2 else 104
    base_seconds = None
    for label, settings in COMBINATIONS.items():
        scenario = load_scenario(path, [*settings, f"weeks={weeks}"])
        start = time.perf_counter()
        model = ChannelModel(scenario, seed=1)
        model.run()
        seconds = time.perf_counter() - start
        base_seconds = seconds if base_seconds is None else base_seconds
        reviews = len(model.price_history)
        per_review = (seconds - base_seconds) / reviews if reviews else 0.0
        print(f"{label:32s} {seconds:6.2f} s/run  {reviews:3d} reviews  {per_review:5.2f} s/review")


if __name__ == "__main__":
    main()
