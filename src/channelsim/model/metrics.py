"""KPI definitions, the weekly table, and the run summary.

Flows are summed per week; stocks are read at the end of each week. Run KPIs are sums of
flows, stocks at the end of the run, and ratios recomputed from summed parts (never an
average of weekly ratios).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from channelsim.model.market import is_ours

if TYPE_CHECKING:
    from channelsim.model.channel_model import ChannelModel

# Weekly flows, summed within a week.
FLOWS = (
    "revenue",
    "company_revenue",
    "ga_margin",
    "dealer_margin",
    "rep_compensation",
    "telesales_cost",
    "online_cost",
    "claims",
    "premium",
    "revenue_direct",
    "revenue_dealer",
    "revenue_online",
    "revenue_telesales",
    "revenue_list",
    "units",
    "units_market",
    "cost_of_goods",
    "new_customers",
    "repeat_purchases",
    "repeat_eligible",
    "churned_customers",
    "idle_customers",
    "conflicts",
    "conflict_price_erosion",
    "conflicts_lost_by_dealers",
    "assisted_sales",
    "pipeline_visits",
    "pipeline_advances",
    "rep_quits",
    "customers_lost_rep_departure",
    "dealers_exited",
    "dealer_profit",
    "dealer_costs",
)
# Stocks, read at the end of each week.
STOCKS = ("customers_active", "dealers_active", "reps_active", "crm_share")

KPI_DEFINITIONS: dict[str, str] = {
    "revenue": "what customers paid the company's channels (money)",
    "company_revenue": "what the company invoiced: direct and online sales at the customer "
    "price, intermediary sales at the wholesale price, net of volume rebates (money)",
    "company_profit": "company revenue less unit cost of units sold, rep pay, telesales and "
    "online costs, and claims (money)",
    "channel_margin": "general agents' plus dealers' margins, rebates included (money): "
    "revenue = company_revenue + channel_margin",
    "ga_margin": "general agents' margins and rebates (money)",
    "dealer_margin": "dealers' margins and rebates (money)",
    "rep_compensation": "base salary, commission, overlay and quota bonus paid to reps (money)",
    "cost_of_goods": "unit cost of the units sold (money)",
    "telesales_cost": "cost of the telesales team (money)",
    "online_cost": "cost of serving online orders (money)",
    "claims": "claims paid (insurance only; money)",
    "revenue_direct": "revenue from sales by reps (money)",
    "revenue_dealer": "revenue from sales by dealers (money)",
    "revenue_online": "revenue from the online channel (money)",
    "revenue_telesales": "revenue from telesales (money)",
    "units": "units sold through the company's channels",
    "market_share": "units sold / units demanded by customers whose purchase fell due",
    "customers_active": "customers whose last purchase was from the company (end of run)",
    "new_customers": "first purchases by customers who had never bought from the company",
    "repeat_purchase_rate": "repeat purchases / purchase decisions of existing customers",
    "churned_customers": "existing customers who bought from the competitor or not at all",
    "conflicts": "large-account deals quoted by both a rep and a dealer",
    "conflict_price_erosion": "money lost to undercutting in conflicts that ended in a sale",
    "avg_price_index": "average price paid / list price (unit-weighted)",
    "dealers_active": "dealers trading at the end of the run",
    "revenue_telesales_share": "telesales revenue / revenue",
    "customers_lost_rep_departure": "customers who followed a departing rep to the competitor",
    "rep_attrition": "reps who quit per rep-year (annualised rate)",
    "rep_quits": "reps who quit during the run",
    "reps_active": "reps in post at the end of the run",
    "quota_attainment_mean": "mean quarterly quota attainment over reps and quarters",
    "pipeline_advance_rate": "share of large-account visits that advanced the deal a stage",
    "dealers_exited": "dealers that left the network during the run",
    "dealer_profit_mean": "cumulative profit per dealer slot (money)",
    "idle_customers": "purchase decisions of existing customers whom no rep, dealer or "
    "telesales agent contacted",
    "loss_ratio": "claims / premium (insurance only; empty otherwise)",
    "crm_share": "share of customers recorded in the CRM (end of run)",
}

KPIS = tuple(KPI_DEFINITIONS)


class WeeklyTable:
    """Weekly rows; `start(week)` hands out that week's accumulator."""

    def __init__(self) -> None:
        self._rows: list[dict[str, float]] = []

    def start(self, week: int) -> dict[str, float]:
        row = dict.fromkeys(FLOWS + STOCKS, 0.0)
        row["week"] = float(week)
        self._rows.append(row)
        return row

    def columns(self) -> dict[str, NDArray[np.float64]]:
        names = ("week", *FLOWS, *STOCKS)
        table = {name: np.array([row[name] for row in self._rows], dtype=float) for name in names}
        return derive(table)

    def last(self, name: str) -> float:
        return self._rows[-1][name] if self._rows else 0.0

    def mean(self, name: str) -> float:
        return float(np.mean([row[name] for row in self._rows])) if self._rows else 0.0

    def totals(self) -> dict[str, float]:
        return {name: float(sum(row[name] for row in self._rows)) for name in FLOWS}


def derive(t: dict[str, NDArray]) -> dict[str, NDArray]:
    """Add ratio and composite metrics computed from flows (works for weekly or total rows)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        t["channel_margin"] = t["ga_margin"] + t["dealer_margin"]
        t["company_profit"] = (
            t["company_revenue"]
            - t["cost_of_goods"]
            - t["rep_compensation"]
            - t["telesales_cost"]
            - t["online_cost"]
            - t["claims"]
        )
        t["market_share"] = _ratio(t["units"], t["units_market"])
        t["repeat_purchase_rate"] = _ratio(t["repeat_purchases"], t["repeat_eligible"])
        t["avg_price_index"] = _ratio(t["revenue"], t["revenue_list"])
        t["pipeline_advance_rate"] = _ratio(t["pipeline_advances"], t["pipeline_visits"])
        t["loss_ratio"] = _ratio(t["claims"], t["premium"])
    return t


def _ratio(num: NDArray, den: NDArray) -> NDArray:
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def record_stocks(
    w: dict[str, float],
    incumbent: NDArray,
    dealers_active: NDArray[np.bool_],
    reps_occupied: NDArray[np.bool_],
    crm: NDArray[np.bool_],
) -> None:
    """The week's stocks, read at the end of the week."""
    w["customers_active"] = float(np.count_nonzero(is_ours(incumbent)))
    w["dealers_active"] = float(dealers_active.sum())
    w["reps_active"] = float(reps_occupied.sum())
    w["crm_share"] = float(crm.mean()) if crm.size else 0.0


def summarise(model: ChannelModel) -> dict[str, float]:
    """The run's KPIs from the weekly table and the model's final state."""
    sc = model.scenario
    totals = {k: np.asarray(v) for k, v in model.weekly.totals().items()}
    totals = derive(totals)
    out = {name: float(totals[name]) for name in FLOWS if name in KPI_DEFINITIONS}
    for name in (
        "channel_margin",
        "company_profit",
        "market_share",
        "repeat_purchase_rate",
        "avg_price_index",
        "pipeline_advance_rate",
    ):
        out[name] = float(totals[name])
    out["loss_ratio"] = float(totals["loss_ratio"]) if sc.insurance.enabled else float("nan")
    for name in STOCKS:
        out[name] = float(model.weekly.last(name))
    reps_mean = model.weekly.mean("reps_active")
    years = sc.weeks / 52.0
    out["rep_quits"] = float(totals["rep_quits"])
    out["rep_attrition"] = float(totals["rep_quits"] / (reps_mean * years)) if reps_mean else 0.0
    attainments = model.quarter_attainments
    out["quota_attainment_mean"] = float(np.mean(attainments)) if attainments else float("nan")
    dealers = model.dealers.region.size
    out["dealer_profit_mean"] = (
        float(model.dealers.profit_total.sum() / dealers) if dealers else float("nan")
    )
    out["revenue_telesales_share"] = float(_ratio(totals["revenue_telesales"], totals["revenue"]))
    return {name: out[name] for name in KPIS}
