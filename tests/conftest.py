"""Shared fixtures: small scenarios that run in a fraction of a second."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from channelsim.scenario.loading import deep_merge, validate
from channelsim.scenario.schema import Scenario

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"

# Tests never depend on timing: no hypothesis deadline (a loaded CI machine made one flaky).
settings.register_profile("untimed", deadline=None)
settings.load_profile("untimed")

SMALL: dict[str, Any] = {
    "name": "small",
    "strategy": "parallel",
    "weeks": 52,
    "seed": 7,
    "replicates": 3,
    "warmup_weeks": 0,  # tests measure from week 0 to stay fast; tests/test_warmup.py covers it
    "market": {
        "regions": [{"name": "North"}, {"name": "South", "purchasing_power": 0.9}],
        "segments": [
            {
                "name": "large",
                "large_account": True,
                "customers": 60,
                "volume": 20,
                "cycle_weeks": 26,
                "decision_weeks": 6,
                "sales_cycle_stages": 3,
                "valuation": {"low": 90, "high": 160},
                "service_sensitivity": 30,
                "direct_acceptance": 1.05,
                "loyalty": 8,
                "initial_share": 0.4,
            },
            {
                "name": "small",
                "customers": 1200,
                "volume": 1,
                "cycle_weeks": 26,
                "valuation": {"low": 70, "high": 140},
                "service_sensitivity": 20,
                "direct_acceptance": 0.95,
                "loyalty": 3,
                "initial_share": 0.3,
            },
        ],
        "competitor": {"price": 98, "service": 0.5},
        "choice": {"scale": 8},
    },
    "pricing": {
        "list_price": 100,
        "unit_cost": 55,
        "wholesale_price": 70,
        "rep_max_discount": 0.2,
        "rep_discount": 0.03,
    },
    "general_agents": {
        "markup": 0.1,
        "agents": [{"name": "GA", "regions": ["North", "South"]}],
    },
    "dealers": {"per_region": 2, "markup": 0.25, "fixed_cost": 100, "effort_cost": 50},
    "reps": {
        "headcount": 6,
        "capacity": 12,
        "base_salary": 500,
        "commission": {"rate": 0.05, "quota_bonus": 500},
        "attrition": {"market_pay": 700},
    },
}


@pytest.fixture
def make_scenario() -> Callable[..., Scenario]:
    """Build a small valid scenario, with nested overrides merged in."""

    def make(**overrides: Any) -> Scenario:
        return validate(deep_merge(SMALL, overrides), source="test scenario")

    return make


@pytest.fixture
def small_raw() -> dict[str, Any]:
    return deep_merge(SMALL, {})


@pytest.fixture(autouse=True)
def _sigint_handler_restored():
    """A command interrupted in-process (CliRunner) ignores SIGINT on its way out, as a
    process about to exit may; restore the handler for the tests that follow."""
    import signal

    handler = signal.getsignal(signal.SIGINT)
    yield
    signal.signal(signal.SIGINT, handler)
