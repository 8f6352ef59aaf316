"""What values each KPI can take, so that no interval claims the impossible.

A share lies in [0, 1], a count is never negative, reps in post never exceed the headcount.
`stats` cuts every interval to these bounds; the true mean lies within them, so cutting
never lowers an interval's coverage.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from channelsim.model.metrics import KPIS
from channelsim.scenario.schema import Scenario

INF = math.inf
SHARES = (
    "market_share",
    "repeat_purchase_rate",
    "revenue_telesales_share",
    "pipeline_advance_rate",
    "crm_share",
)
SIGNED = ("company_profit", "channel_margin", "ga_margin", "dealer_margin", "dealer_profit_mean")


def kpi_bounds(scenario: Scenario) -> dict[str, tuple[float, float]]:
    """(lowest, highest) possible value of every KPI in this scenario."""
    out = {
        k: (0.0, 1.0) if k in SHARES else (-INF, INF) if k in SIGNED else (0.0, INF) for k in KPIS
    }
    regions = len(scenario.market.regions)
    customers = sum(
        sum(s.customers.values()) if isinstance(s.customers, dict) else s.customers * regions
        for s in scenario.market.segments
    )
    dealers = sum(scenario.dealer_count(r.name) for r in scenario.market.regions)
    caps = {
        "reps_active": scenario.reps.headcount,
        "dealers_active": dealers if scenario.strategy != "direct" else 0,
        "customers_active": customers,
        "new_customers": customers,
    }
    for name, cap in caps.items():
        if name in out:
            out[name] = (0.0, float(cap))
    return out


def bounds_table(scenarios: Mapping[Any, Scenario], by: str | None = None) -> pd.DataFrame:
    """Long table (by), kpi, low, high for each scenario; without `by`, one scenario's."""
    rows = [
        {**({by: key} if by else {}), "kpi": kpi, "low": low, "high": high}
        for key, scenario in scenarios.items()
        for kpi, (low, high) in kpi_bounds(scenario).items()
    ]
    return pd.DataFrame(rows)
