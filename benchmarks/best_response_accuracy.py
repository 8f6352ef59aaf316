"""How far exact best responses on step demand land from the textbook's continuous optimum.

    python benchmarks/best_response_accuracy.py SEED

Draws 60 random textbook markets (N stratified valuations, unit cost, own costs of the
general agent and the dealer, valuation range, theta) and prints the largest error of each
price in steps of the demand that tier faces (see docs/pricing-policies.md, "Tolerance"),
and of quantities in customers.
"""

from __future__ import annotations

import sys

import numpy as np

from channelsim.model import policies
from channelsim.model.market import CHANNELS, DEALER, NONE, ONLINE
from channelsim.scenario.schema import PricingPolicy


def sample(values: np.ndarray, offers: tuple[int, ...], theta: float) -> policies.DemandSample:
    n = values.size
    available = np.zeros((n, len(CHANNELS)), bool)
    available[:, [*offers, NONE]] = True
    return policies.DemandSample(
        value=values,
        direct_acceptance=np.full(n, theta),
        price_sensitivity=np.ones(n),
        service_sensitivity=np.zeros(n),
        loyalty=np.zeros(n),
        incumbent=np.full(n, -1, np.int8),
        service=np.zeros((n, len(CHANNELS))),
        offers=available,
        weight=np.ones(n),
        scale=0.0,
    )


def reach(n: int) -> policies.DealerReach:
    ones = np.ones(n)
    return policies.DealerReach(ones, ones, np.zeros(n), ones, ones, 0.2, 0.0)


def economics(**changes) -> policies.Economics:
    base = dict(
        unit_cost=0.0,
        price_floor=0.0,
        flattened=True,
        uses_dealers=True,
        reps_sell=False,
        rep_max_discount=0.0,
        online_enabled=False,
        online_discount=0.0,
        online_cost_per_unit=0.0,
        competitor_price=1e9,
        commission_basis="revenue",
        commission_rate=0.0,
    )
    return policies.Economics(**{**base, **changes})


def main(seed: int) -> None:
    rng = np.random.default_rng(seed)
    worst: dict[str, float] = {}
    counts = {"chains": 0, "dual channel": 0}

    def record(name: str, error: float) -> None:
        worst[name] = max(worst.get(name, 0.0), abs(error))

    chain_policy = PricingPolicy(
        wholesale="best_response", general_agent="best_response", dealer="best_response"
    )
    for _ in range(60):
        n, high = int(rng.integers(50, 2000)), float(rng.uniform(0.5, 3))
        c, c_ga, c_d = (float(x) * high for x in (rng.uniform(0, 0.7), *rng.uniform(0, 0.1, 2)))
        values, step = high * (np.arange(n) + 0.5) / n, high / n
        b = n / high
        if c + c_ga + c_d <= 0.8 * high:
            counts["chains"] += 1
            econ = economics(unit_cost=c, flattened=False, general_agent_cost=c_ga, dealer_cost=c_d)
            d = policies.Decisions(c + 0.1, 1.0, 0.1, 0.2, 0.0)
            d = policies.best_responses(
                d, econ, chain_policy, sample(values, (DEALER,), 1), reach(n)
            )
            prices = policies.chain(d, econ)
            big_a = n - b * (c + c_ga + c_d)
            w1 = c + big_a / (2 * b)
            w2 = w1 + c_ga + big_a / (4 * b)
            record("3 tiers: maker (steps of 1/N)", (prices.company_to_general_agent - w1) / step)
            record("3 tiers: agent", (prices.general_agent_to_dealer - w2) / step)
            record(
                "3 tiers: retail", (prices.dealer_to_customer - w2 - c_d - big_a / (8 * b)) / step
            )
            record("3 tiers: units", (values >= prices.dealer_to_customer).sum() - big_a / 8)
            econ2 = economics(unit_cost=c, dealer_cost=c_d)
            policy2 = PricingPolicy(wholesale="best_response", dealer="best_response")
            d2 = policies.Decisions(c + 0.1, 1.0, 0.0, 0.2, 0.0)
            d2 = policies.best_responses(d2, econ2, policy2, sample(values, (DEALER,), 1), reach(n))
            prices2 = policies.chain(d2, econ2)
            big_a2 = n - b * (c + c_d)
            w = c + big_a2 / (2 * b)
            record("2 tiers: maker", (prices2.company_to_general_agent - w) / step)
            record(
                "2 tiers: retail", (prices2.dealer_to_customer - w - c_d - big_a2 / (4 * b)) / step
            )
            record("2 tiers: units", (values >= prices2.dealer_to_customer).sum() - big_a2 / 4)
        theta, low = float(rng.uniform(0.3, 0.95)), float(rng.uniform(0, 0.5)) * high
        w, p_d = float(rng.uniform(0.1, 0.6)) * high, float(rng.uniform(0.2, 0.8)) * high * theta
        values = low + (high - low) * (np.arange(n) + 0.5) / n
        grid = np.linspace(w, high, 200_001)
        cutoff = np.maximum(grid, (grid - p_d) / (1 - theta))
        profit = (grid - w) * np.clip((high - cutoff) / (high - low), 0, 1)
        if profit.max() > 0.02 * high:  # the dealer can sell at a profit
            counts["dual channel"] += 1
            d = policies.Decisions(w, p_d, 0.0, 0.3, 0.0)
            econ = economics(online_enabled=True)
            s = sample(values, (DEALER, ONLINE), theta)
            d = policies.best_responses(d, econ, PricingPolicy(dealer="best_response"), s, reach(n))
            retail = policies.chain(d, econ).dealer_to_customer
            record(
                "dual channel: retail (steps of (high-low)/N)",
                (retail - grid[profit.argmax()]) / ((high - low) / n),
            )
    print(f"seed {seed}: {counts}")
    for name, error in worst.items():
        print(f"  {name:48s} {error:.3f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
