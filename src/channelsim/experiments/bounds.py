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

from channelsim.model import kpis
from channelsim.scenario.schema import Scenario


def kpi_bounds(scenario: Scenario) -> dict[str, tuple[float, float]]:
    """(lowest, highest) possible value of every KPI in this scenario: its record's bounds
    (shares in [0, 1], counts and rates >= 0, money any sign), capped where the scenario
    says more (reps in post <= headcount, dealers trading <= dealer slots, customers)."""
    out = {
        k.name: (k.bounds[0], math.inf if k.bounds[1] is None else k.bounds[1])
        for k in kpis.CATALOGUE
    }
    customers = sum(scenario.market.customer_counts().values())
    population = scenario.market.population
    table = population.data.dealers if population and population.data else None
    dealers = (
        int(table.region.size)
        if table is not None
        else sum(scenario.dealer_count(r.name) for r in scenario.market.regions)
    )
    caps = {
        "reps_active": scenario.reps.headcount,
        "dealers_active": dealers if scenario.strategy != "direct" else 0,
        "customers_active": customers,
        "new_customers": customers,
    }
    for name, cap in caps.items():
        if name in out:
            out[name] = (out[name][0], float(cap))
    return out


def bounds_table(scenarios: Mapping[Any, Scenario], by: str | None = None) -> pd.DataFrame:
    """Long table (by), kpi, low, high for each scenario; without `by`, one scenario's."""
    rows = [
        {**({by: key} if by else {}), "kpi": kpi, "low": low, "high": high}
        for key, scenario in scenarios.items()
        for kpi, (low, high) in kpi_bounds(scenario).items()
    ]
    return pd.DataFrame(rows)
