"""The weekly table and the run summary (the KPIs themselves are defined in kpis.py).

Flows are summed per week; stocks are read at the end of each week. Run KPIs are sums of
flows, stocks at the end of the run, and ratios recomputed from summed parts (never an
average of weekly ratios).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from channelsim.model.channels import count_ours
from channelsim.model.kpis import KPIS

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
    "conflict_revenue_to_reps",
    "conflict_margin_to_reps",
    "assisted_sales",
    "pipeline_visits",
    "pipeline_advances",
    "rep_quits",
    "customers_lost_rep_departure",
    "dealers_exited",
    "dealers_exited_dissatisfied",
    "dealer_profit",
    "dealer_costs",
    "ga_unit_costs",
    "dealer_unit_costs",
    "rep_visits",
    # Sales management (sales_management.py).
    "coached_visits",
    "training_cost",
    "management_cost",
    "career_pay",
    "promotions",
    "rep_quits_high_skill",
    "forecast_errors",  # sum of |F - R| / R over the forecasts scored
    "forecasts_scored",
    "forecast_total",
    "forecast_realised",
    # Added later: last in the weekly table too, so older columns keep their places.
    "conflict_exit_margin_at_risk",
    "conflict_customers_to_reps",
)
APPENDED_FLOWS = ("conflict_exit_margin_at_risk", "conflict_customers_to_reps")
# Stocks, read at the end of each week.
STOCKS = (
    "customers_active",
    "dealers_active",
    "reps_active",
    "crm_share",
    "rep_skill_mean",
    "reps_high_skill",
)


class WeeklyTable:
    """Weekly rows; `start(week)` hands out that week's accumulator."""

    def __init__(self) -> None:
        self._rows: list[dict[str, float]] = []

    def start(self, week: int) -> dict[str, float]:
        row = dict.fromkeys(FLOWS + STOCKS, 0.0)
        row["week"] = float(week)
        self._rows.append(row)
        return row

    def __len__(self) -> int:
        return len(self._rows)

    def columns(self, offset: int = 0) -> dict[str, NDArray[np.float64]]:
        """Every week's row; weeks numbered from `offset` (warm-up weeks become negative)."""
        names = ("week", *FLOWS, *STOCKS)
        table = {name: np.array([row[name] for row in self._rows], dtype=float) for name in names}
        if offset:
            table["week"] = table["week"] - offset
        table = derive(table)
        appended = {name: table.pop(name) for name in APPENDED_FLOWS}
        return {**table, **appended}

    def last(self, name: str) -> float:
        return self._rows[-1][name] if self._rows else 0.0

    def mean(self, name: str, since: int = 0) -> float:
        rows = self._rows[since:]
        return float(np.mean([row[name] for row in rows])) if rows else 0.0

    def totals(self, since: int = 0) -> dict[str, float]:
        """Flows summed over the weeks from row `since` on (all weeks by default)."""
        rows = self._rows[since:]
        return {name: float(sum(row[name] for row in rows)) for name in FLOWS}


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
            - t["training_cost"]
            - t["management_cost"]
        )
        t["market_share"] = _ratio(t["units"], t["units_market"])
        t["repeat_purchase_rate"] = _ratio(t["repeat_purchases"], t["repeat_eligible"])
        t["avg_price_index"] = _ratio(t["revenue"], t["revenue_list"])
        t["pipeline_advance_rate"] = _ratio(t["pipeline_advances"], t["pipeline_visits"])
        t["loss_ratio"] = _ratio(t["claims"], t["premium"])
        t["forecast_accuracy"] = _ratio(t["forecast_errors"], t["forecasts_scored"])
        t["forecast_bias"] = _ratio(
            t["forecast_total"] - t["forecast_realised"], t["forecast_realised"]
        )
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
    w["customers_active"] = float(count_ours(incumbent))
    w["dealers_active"] = float(dealers_active.sum())
    w["reps_active"] = float(reps_occupied.sum())
    w["crm_share"] = np.count_nonzero(crm) / crm.size if crm.size else 0.0  # = crm.mean()


@dataclass(frozen=True)
class EndOfRun:
    """What the run summary needs besides the weekly table."""

    weeks: int  # weeks measured (after the warm-up)
    insurance: bool  # loss_ratio is empty without insurance
    quarter_attainments: tuple[float, ...]  # mean attainment of the reps in post, by quarter
    dealer_profit_total: NDArray[np.float64]  # profit of each dealer slot since the warm-up
    warmup: int = 0  # weeks simulated before the measured ones, left out of every KPI


def summarise(weekly: WeeklyTable, end: EndOfRun) -> dict[str, float]:
    """The run's KPIs (in `KPIS` order) from the measured weeks of the weekly table (those
    after the warm-up) and the end-of-run state."""
    totals = derive({k: np.asarray(v) for k, v in weekly.totals(end.warmup).items()})
    out = {name: float(totals[name]) for name in KPIS if name in totals}
    out.update({name: float(weekly.last(name)) for name in STOCKS})
    if not end.insurance:
        out["loss_ratio"] = float("nan")
    reps_mean = weekly.mean("reps_active", end.warmup)
    years = end.weeks / 52.0
    out["rep_attrition"] = float(totals["rep_quits"] / (reps_mean * years)) if reps_mean else 0.0
    high_mean = weekly.mean("reps_high_skill")
    out["rep_attrition_high_skill"] = (
        float(totals["rep_quits_high_skill"] / (high_mean * years)) if high_mean else 0.0
    )
    attainments = end.quarter_attainments
    out["quota_attainment_mean"] = float(np.mean(attainments)) if attainments else float("nan")
    dealers = end.dealer_profit_total.size
    out["dealer_profit_mean"] = (
        float(end.dealer_profit_total.sum() / dealers) if dealers else float("nan")
    )
    out["revenue_telesales_share"] = float(_ratio(totals["revenue_telesales"], totals["revenue"]))
    return {name: out[name] for name in KPIS}
