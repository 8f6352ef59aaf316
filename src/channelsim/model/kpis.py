"""The KPIs as typed records: the one list from which the KPI columns (`KPIS`), the
`channelsim kpis` glossary, chart axis units and the bounds of every interval are derived.

A new KPI is one more record in `CATALOGUE` (its place there is its column's place in
kpis.csv), plus its computation: a weekly flow or stock (metrics.FLOWS/STOCKS), a ratio
in `metrics.derive`, or an end-of-run figure in `metrics.summarise`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

Kind = Literal["flow", "stock", "ratio", "money"]
Measure = Literal["count", "amount", "share", "rate", "signed"]


@dataclass(frozen=True)
class KPI:
    """One key performance indicator of a run.

    kind: `flow` (summed over the run), `stock` (read at the end of the run), `ratio`
    (recomputed from summed parts, never an average of weekly ratios) or `money` (an amount
    of money summed over the run, or per dealer).
    measure: `count` (a number of things: never negative, whole in a run), `amount` (money,
    any sign), `share` (a proportion in [0, 1]), `rate` (a ratio, never negative, that
    may exceed 1) or `signed` (a ratio of any sign).
    unit: what a chart's axis says.
    """

    name: str
    definition: str
    unit: str
    kind: Kind
    measure: Measure

    @property
    def bounds(self) -> tuple[float, float | None]:
        """The range a run's value lies in (upper None: unbounded); money is any sign."""
        if self.measure == "share":
            return (0.0, 1.0)
        if self.measure in ("amount", "signed"):
            return (-math.inf, None)
        return (0.0, None)


def _money(name: str, definition: str, kind: Kind = "money") -> KPI:
    return KPI(name, definition, "money", kind, "amount")


CATALOGUE: tuple[KPI, ...] = (
    _money("revenue", "what customers paid the company's channels"),
    _money(
        "company_revenue",
        "what the company invoiced: direct and online sales at the customer price, "
        "intermediary sales at the wholesale price, net of volume rebates",
    ),
    _money(
        "company_profit",
        "company revenue less unit cost of units sold, rep pay, telesales and online costs, "
        "claims, training and sales managers",
    ),
    _money(
        "channel_margin",
        "general agents' plus dealers' margins after their own unit costs, rebates included: "
        "revenue = company_revenue + channel_margin + ga_unit_costs + dealer_unit_costs",
    ),
    _money("ga_margin", "general agents' margins after their own unit costs, and rebates"),
    _money("dealer_margin", "dealers' margins after their own unit costs, and rebates"),
    _money("rep_compensation", "base salary, commission, overlay and quota bonus paid to reps"),
    _money("cost_of_goods", "unit cost of the units sold"),
    _money("telesales_cost", "cost of the telesales team"),
    _money("online_cost", "cost of serving online orders"),
    _money("claims", "claims paid (insurance only)"),
    _money("revenue_direct", "revenue from sales by reps"),
    _money("revenue_dealer", "revenue from sales by dealers"),
    _money("revenue_online", "revenue from the online channel"),
    _money("revenue_telesales", "revenue from telesales"),
    KPI("units", "units sold through the company's channels", "units", "flow", "count"),
    KPI(
        "market_share",
        "units sold / units demanded by customers whose purchase fell due",
        "share",
        "ratio",
        "share",
    ),
    KPI(
        "customers_active",
        "customers whose last purchase was from the company (end of run)",
        "customers",
        "stock",
        "count",
    ),
    KPI(
        "new_customers",
        "first purchases by customers who had never bought from the company",
        "customers",
        "flow",
        "count",
    ),
    KPI(
        "repeat_purchase_rate",
        "repeat purchases / purchase decisions of existing customers",
        "share",
        "ratio",
        "share",
    ),
    KPI(
        "churned_customers",
        "existing customers who bought from the competitor or not at all",
        "customers",
        "flow",
        "count",
    ),
    KPI(
        "conflicts",
        "large-account deals quoted by both a rep and a dealer",
        "deals",
        "flow",
        "count",
    ),
    _money(
        "conflict_price_erosion", "money lost to undercutting in conflicts that ended in a sale"
    ),
    _money(
        "conflict_revenue_to_reps",
        "revenue of conflicts the rep won: sales that moved from a dealer to the direct channel",
    ),
    _money(
        "conflict_margin_to_reps",
        "general agents' and dealers' normal margin on the units of conflicts the rep won: "
        "channel margin that moved to the company",
    ),
    KPI(
        "avg_price_index",
        "average price paid / the list price in force when each unit was sold "
        "(unit-weighted: revenue / sum of units x current list price)",
        "ratio",
        "ratio",
        "rate",
    ),
    KPI("dealers_active", "dealers trading at the end of the run", "dealers", "stock", "count"),
    KPI("revenue_telesales_share", "telesales revenue / revenue", "share", "ratio", "share"),
    KPI(
        "customers_lost_rep_departure",
        "customers who followed a departing rep to the competitor",
        "customers",
        "flow",
        "count",
    ),
    KPI(
        "rep_attrition",
        "reps who quit per rep-year (annualised rate)",
        "quits per rep-year",
        "ratio",
        "rate",
    ),
    KPI("rep_quits", "reps who quit during the run", "reps", "flow", "count"),
    KPI("reps_active", "reps in post at the end of the run", "reps", "stock", "count"),
    KPI(
        "quota_attainment_mean",
        "mean quarterly quota attainment over reps and quarters",
        "ratio",
        "ratio",
        "rate",
    ),
    KPI(
        "pipeline_advance_rate",
        "share of large-account visits that advanced the deal a stage",
        "share",
        "ratio",
        "share",
    ),
    KPI(
        "dealers_exited", "dealers that left the network during the run", "dealers", "flow", "count"
    ),
    KPI(
        "dealers_exited_dissatisfied",
        "dealers that left while their dissatisfaction, which only conflicts lost to reps "
        "raise, was above the exit threshold",
        "dealers",
        "flow",
        "count",
    ),
    _money("dealer_profit_mean", "cumulative profit per dealer slot"),
    KPI(
        "idle_customers",
        "purchase decisions of existing customers whom no rep, dealer or telesales agent contacted",
        "decisions",
        "flow",
        "count",
    ),
    KPI(
        "loss_ratio",
        "claims / premium (insurance only; empty otherwise)",
        "ratio",
        "ratio",
        "rate",
    ),
    KPI(
        "crm_share",
        "share of customers recorded in the CRM (end of run)",
        "share",
        "stock",
        "share",
    ),
    _money("ga_unit_costs", "general agents' own costs of the units they sold"),
    _money("dealer_unit_costs", "dealers' own costs of the units they sold"),
    KPI("rep_visits", "visits reps made to in-market customers", "visits", "flow", "count"),
    KPI(
        "rep_skill_mean",
        "mean skill of the sellers in post (end of run; 0 novice, 1 best; none without sellers)",
        "skill",
        "stock",
        "share",
    ),
    KPI("coached_visits", "rep visits a sales manager joined", "visits", "flow", "count"),
    _money("training_cost", "money spent on rep training"),
    KPI("promotions", "reps promoted a career step", "promotions", "flow", "count"),
    KPI(
        "forecast_accuracy",
        "mean absolute percentage error of the reps' quarterly sales forecasts against the "
        "sales credited to them (lower is more accurate)",
        "ratio",
        "ratio",
        "rate",
    ),
    KPI(
        "forecast_bias",
        "(forecast - credited sales) / credited sales, summed over reps and quarters: "
        "negative = sandbagging",
        "ratio",
        "ratio",
        "signed",
    ),
    KPI(
        "rep_quits_high_skill",
        "reps with skill >= reps.skill.high who quit during the run",
        "reps",
        "flow",
        "count",
    ),
    KPI(
        "rep_attrition_high_skill",
        "high-skill reps who quit per high-skill rep-year (annualised rate)",
        "quits per rep-year",
        "ratio",
        "rate",
    ),
    _money("management_cost", "salaries of the sales managers who coach"),
    _money("career_pay", "pay steps of promoted reps (part of rep_compensation)"),
    _money(
        "conflict_exit_margin_at_risk",
        "company margin (invoiced - cost of goods) that flowed through the dealers who left "
        "dissatisfied by conflicts, at its rate over each one's last 13 weeks, times the weeks "
        "left in the run: what their exits put at risk",
    ),
    KPI(
        "conflict_customers_to_reps",
        "customers of conflicts the rep won: purchases that moved from a dealer to the "
        "direct channel",
        "customers",
        "flow",
        "count",
    ),
)

BY_NAME: dict[str, KPI] = {kpi.name: kpi for kpi in CATALOGUE}
KPIS: tuple[str, ...] = tuple(BY_NAME)
KPI_DEFINITIONS: dict[str, str] = {kpi.name: kpi.definition for kpi in CATALOGUE}
