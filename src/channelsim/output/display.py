"""Plain-text tables for the terminal."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

from channelsim.experiments import warmup
from channelsim.model import kpis
from channelsim.output.units import kpi_unit, money

SIGNIFICANT = 4  # a number on its own
INTERVAL_SIGNIFICANT = 2  # an interval's half-width; its mean is rounded to the same place


def significant_places(value: float, significant: int) -> int:
    """Decimal places that keep `significant` figures of `value` (negative: round to tens...)."""
    return significant - 1 - math.floor(math.log10(abs(value)))


def fixed(value: float, places: int, strip: bool = False) -> str:
    """`value` rounded to `places` decimals with thousands separators; `strip` drops
    trailing zeros (a number alone; in an interval every part keeps the same places).
    Python's correctly rounded `round`, also for numpy floats (whose own `round` scales by
    10**places first and can round the other way)."""
    rounded = round(float(value), places)
    if rounded == 0:
        return "0"
    text = f"{rounded:,.{max(places, 0)}f}"
    return text.rstrip("0").rstrip(".") if strip and "." in text else text


def number(value: float | None, significant: int = SIGNIFICANT) -> str:
    """The one precision rule for a number alone: 4 significant figures, thousands
    separators, no trailing zeros, never an exponent (6,659,748 -> 6,660,000;
    0.31142 -> 0.3114; 24.0 -> 24)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if value == 0 or not math.isfinite(value):
        return "0" if value == 0 else str(value)
    return fixed(value, significant_places(value, significant), strip=True)


def interval_places(mean: float, low: float, high: float) -> int | None:
    """Decimal places for a mean and its interval: two significant figures of the larger
    distance from the mean to an end; None when the interval is missing or a point."""
    if any(math.isnan(v) for v in (mean, low, high)):
        return None
    width = max(high - mean, mean - low)
    return significant_places(width, INTERVAL_SIGNIFICANT) if width > 0 else None


def summary_table(summary: pd.DataFrame) -> str:
    """KPI, mean and 95% confidence interval, one line per KPI."""
    rows = [("KPI", "mean", "95% CI")]
    for row in summary.itertuples():
        places = interval_places(row.mean, row.ci_low, row.ci_high)
        mean = number(row.mean) if places is None else fixed(row.mean, places)
        rows.append((row.kpi, mean, interval(row.ci_low, row.ci_high, row.mean)))
    return _columns(rows)


def _columns(rows: list[tuple[str, ...]], left: int = 1) -> str:
    """The first `left` columns aligned left, the others (numbers) right."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for k, row in enumerate(rows):
        cells = [c.ljust(w) for c, w in zip(row[:left], widths[:left], strict=True)] + [
            c.rjust(w) for c, w in zip(row[left:], widths[left:], strict=True)
        ]
        lines.append("  ".join(cells))
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def kpi_glossary() -> str:
    """Every KPI in column order: `name: definition [unit: ...; kind: ...]`."""
    return "\n".join(
        f"{k.name}: {k.definition} [unit: {k.unit}; kind: {k.kind}]" for k in kpis.CATALOGUE
    )


def comparison_cells(
    summary: pd.DataFrame, differences: pd.DataFrame, alpha: float = 0.05
) -> pd.DataFrame:
    """The comparison table's cells: KPIs as rows, scenarios as columns, `mean ± half-width`
    and `*` where the paired difference to the baseline is significant at `alpha`."""
    names = list(dict.fromkeys(summary["scenario"]))
    baseline = str(differences["baseline"].iloc[0])
    means = summary.set_index(["kpi", "scenario"])
    p_values = differences.set_index(["kpi", "scenario"])["p_value"]
    kpis = list(dict.fromkeys(summary["kpi"]))
    cells = {}
    for name in names:
        column = []
        for kpi in kpis:
            row = means.loc[(kpi, name)]
            mark = " " if name == baseline or not p_values.get((kpi, name), 1.0) < alpha else "*"
            column.append(f"{mean_pm(row['mean'], row['ci_low'], row['ci_high'])} {mark}")
        cells[f"{name} (baseline)" if name == baseline else name] = column
    return pd.DataFrame(cells, index=pd.Index(kpis, name="KPI"))


def comparison_legend(
    summary: pd.DataFrame, differences: pd.DataFrame, level: float = 0.95, alpha: float = 0.05
) -> str:
    """The line under the comparison table that says how to read it."""
    baseline = str(differences["baseline"].iloc[0])
    n = int(summary["n"].max())
    return (
        f"mean ± half-width of the {level:.0%} confidence interval over {n} replicates "
        "([low, high] where the interval is cut at what the KPI can be); "
        f"* = differs from {baseline} at the {alpha:.0%} level (paired t-test on replicates "
        "run with the same seeds); - = no value"
    )


def comparison_table(
    summary: pd.DataFrame,
    differences: pd.DataFrame,
    level: float = 0.95,
    alpha: float = 0.05,
    currency: str = "",
) -> str:
    """KPIs as rows, their unit, scenarios as columns, `mean ± half-width`, `*` where the
    paired difference to the baseline is significant; a legend line follows the table."""
    cells = comparison_cells(summary, differences, alpha)
    rows = [("KPI", "unit", *cells.columns)]
    rows += [
        (kpi, kpi_unit(kpi, currency), *row)
        for kpi, row in zip(cells.index, cells.to_numpy().tolist(), strict=True)
    ]
    return _columns(rows, left=2) + "\n" + comparison_legend(summary, differences, level, alpha)


def settings_table(differing: dict[str, list[object]], names: Sequence[str]) -> str:
    """The settings that differ between the scenarios, one line each, beside the answer."""
    if not differing:
        return "The scenarios differ only in their names."
    rows = [(path, *(_setting(v) for v in values)) for path, values in differing.items()]
    return "Settings that differ (dotted paths, as --set takes them):\n" + text_table(
        ("setting", *names), rows
    )


def _setting(value: object) -> str:
    return "(not set)" if value is None else str(value)


def conflict_table(conflict: pd.DataFrame, currency: str = "") -> str:
    """What conflicts cost each scenario: items as rows, scenarios as columns."""
    if conflict.empty:
        return ""
    names = list(dict.fromkeys(conflict["scenario"]))
    table = conflict.set_index(["item", "scenario"])
    rows = [("cost of conflict", "unit", *names)]
    for item in dict.fromkeys(conflict["item"]):
        first = table.loc[(item, names[0])]
        unit = money(currency) if first["money"] else kpi_unit(first["kpi"])
        cells = [
            mean_pm(*table.loc[(item, n), ["mean", "ci_low", "ci_high"]].astype(float))
            for n in names
        ]
        rows.append((item, unit, *cells))
    return _columns(rows, left=2) + "\nmeans over the replicates with their 95% intervals"


def mean_pm(mean: float, low: float, high: float) -> str:
    """`mean ± half-width`, or `mean [low, high]` where the interval was cut at a bound
    (so it is not symmetric); both rounded by `interval_places`; `-` for no value."""
    if math.isnan(mean):
        return "-"
    places = interval_places(mean, low, high)
    if places is None:
        return number(mean)
    up, down = high - mean, mean - low
    if math.isclose(up, down, rel_tol=1e-9, abs_tol=1e-12):
        return f"{fixed(mean, places)} ± {fixed(up, places)}"
    return f"{fixed(mean, places)} [{fixed(low, places)}, {fixed(high, places)}]"


def interval(low: float, high: float, mean: float) -> str:
    """`[low, high]` rounded by `interval_places`; `-` when there is no interval."""
    if math.isnan(low) or math.isnan(high):
        return "-"
    places = interval_places(mean, low, high)
    if places is None:
        return f"[{number(low)}, {number(high)}]"
    return f"[{fixed(low, places)}, {fixed(high, places)}]"


def text_table(head: Sequence[str], rows: Sequence[Sequence[str]], markdown: bool = False) -> str:
    """Left-aligned columns under a ruled header, or the same as a Markdown table."""
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        return "\n".join([*lines, *("| " + " | ".join(r) + " |" for r in rows)])
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    out = ["  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True))]
    out.append("  ".join("-" * w for w in widths))
    out += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(out)


def warmup_notes(losses: pd.DataFrame) -> list[str]:
    """A sentence per scenario of `experiments.warmup.notable` dealer losses in the warm-up,
    which the KPIs leave out (`losses`: `warmup.warmup_losses`)."""
    notes = []
    for _, row in warmup.notable(losses).iterrows():
        who = f"{row['scenario']}: " if "scenario" in row else ""
        lost = f"{number(row['dealers_exited'])} dealers left"
        if row["dealers_exited_dissatisfied"] > 0:
            lost += (
                f", {number(row['dealers_exited_dissatisfied'])} of them dissatisfied by conflicts"
            )
        notes.append(
            f"{who}during the {number(row['warmup_weeks'])}-week warm-up, which the KPIs leave "
            f"out, {lost} (mean per replicate); dealers_active and revenue_dealer show what is "
            "left of the channel, --set warmup_weeks=0 counts those exits"
        )
    return notes
