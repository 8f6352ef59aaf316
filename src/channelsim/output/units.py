"""The unit of each KPI as tables and axes name it, from its record (`model.kpis`); money
carries the scenario's currency."""

from __future__ import annotations

from channelsim.model import kpis


def money(currency: str = "") -> str:
    """The money unit: the scenario's `currency`, or 'money' where it names none."""
    return currency or "money"


def is_money(name: str) -> bool:
    record = kpis.BY_NAME.get(name)
    return record is not None and record.measure == "amount"


def kpi_unit(name: str, currency: str = "") -> str:
    """The unit of a KPI (its record's; money in the currency); '' for a name that is not
    a KPI."""
    record = kpis.BY_NAME.get(name)
    if record is None:
        return ""
    return money(currency) if record.measure == "amount" else record.unit


def measure(name: str) -> str:
    """The KPI's measure (count, amount, share or rate); '' for a name that is not a KPI."""
    record = kpis.BY_NAME.get(name)
    return record.measure if record is not None else ""
