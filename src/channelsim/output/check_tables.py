"""Text and Markdown tables of the model checks: textbook validation and comparative statics."""

from __future__ import annotations

from collections.abc import Sequence

from channelsim.experiments.statics import Effect
from channelsim.experiments.validation import Check
from channelsim.output import display


def checks_table(checks: Sequence[Check], markdown: bool = False) -> str:
    """The checks as a table: case, quantity, closed form, simulated, error, tolerance, result.

    The Markdown form adds the reason for each tolerance.
    """
    head = ["case", "quantity", "closed form", "simulated", "error", "tolerance", "result"]
    rows = [
        [
            c.case,
            c.quantity,
            f"{c.closed_form:.6g}",
            f"{c.simulated:.6g}",
            f"{c.error:+.2e}",
            f"{c.tolerance:.2e}",
            "ok" if c.passed else "FAIL",
        ]
        + ([c.why] if markdown else [])
        for c in checks
    ]
    if markdown:
        head.append("why this tolerance")
    return display.text_table(head, rows, markdown)


def effects_table(effects: Sequence[Effect], markdown: bool = False) -> str:
    """Lever, KPI, expected sign, mean effect with 95% CI, and whether they agree."""
    head = ["lever", "KPI", "expected", "low arm mean", "effect (high - low)", "95% CI", "agrees"]
    names = {1: "rise", -1: "fall", 0: "none"}
    rows = [
        [
            e.lever.name,
            e.lever.kpi,
            names[e.lever.expected],
            f"{e.low_mean:,.4g}",
            f"{e.mean:+,.4g}",
            f"[{e.ci_low:+,.4g}, {e.ci_high:+,.4g}]",
            "yes" if e.agrees else f"NO: {names[e.direction]}",
        ]
        for e in effects
    ]
    return display.text_table(head, rows, markdown)
