"""What rep-dealer conflicts cost, per scenario, from the comparison's KPI summary.

Price erosion is money given away by undercutting; the revenue and channel margin that
moved to reps are what the dealer channel lost in conflicts the rep won (the company gains
the margin but pays commission on it); dealer exits while dissatisfied are the exits that
conflicts drove (dissatisfaction rises only with conflicts lost to reps), and the company
margin at risk through them prices those exits: each leaving dealer's company margin over
its last quarter, as a weekly rate, times the weeks left in the run (docs/model.md 3.8).
"""

from __future__ import annotations

import pandas as pd

# (KPI, what the strategist reads, money or not)
ITEMS = (
    ("conflicts", "rep-dealer conflicts (large-account deals both quoted)", False),
    ("conflict_price_erosion", "price given away by undercutting in conflicts", True),
    ("conflict_customers_to_reps", "customers who moved from dealers to reps in conflicts", False),
    ("conflict_revenue_to_reps", "sales that moved from dealers to reps in conflicts", True),
    ("conflict_margin_to_reps", "general agents' and dealers' margin on those sales", True),
    ("dealers_exited_dissatisfied", "dealers who left while dissatisfied by conflicts", False),
    ("conflict_exit_margin_at_risk", "company margin those exits put at risk", True),
)


def conflict_costs(summary: pd.DataFrame) -> pd.DataFrame:
    """Long table: scenario, item, kpi, money, mean, ci_low, ci_high (one row per item)."""
    rows = []
    table = summary.set_index(["scenario", "kpi"])
    for name in dict.fromkeys(summary["scenario"]):
        for kpi, label, money in ITEMS:
            if (name, kpi) not in table.index:
                continue
            row = table.loc[(name, kpi)]
            rows.append(
                {
                    "scenario": name,
                    "item": label,
                    "kpi": kpi,
                    "money": money,
                    "mean": row["mean"],
                    "ci_low": row["ci_low"],
                    "ci_high": row["ci_high"],
                }
            )
    return pd.DataFrame(rows)
