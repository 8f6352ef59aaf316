"""Robustness of strategies across sampled uncertain inputs: regret, wins, a decision rule.

Every scenario was run at every sampled point with the same replicate seeds (common random
numbers), so at a point the scenarios differ only by their settings. A scenario's outcome
at a point is its KPI's mean over the point's replicates. From the outcomes:

- mean, p05, p50, p95: over the sampled points (the uncertainty), not over replicates;
- regret at a point: how far the scenario falls short of the best scenario at that point
  (best - value when more is better, value - best when less is), in the KPI's units;
- p_best: the share of points where the scenario is the best (a tie shares the point);
- p_beats_OTHER: the share of points where it does better than OTHER (paired per point;
  a tie counts one half).

A rule picks the recommendation: `mean` (best mean), `p_best` (most often best),
`minimax_regret` (smallest worst-case regret: Savage's rule), or `percentile:Q` (best
Q-th percentile from the bad side: the outcome it beats in 100-Q % of the points).
A condition (`company_profit[parallel] < company_profit[direct]`, or by default "the
recommended scenario is not the best") marks the points that scenario discovery explains.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from channelsim.experiments.sweep import SweepError
from channelsim.model.metrics import KPIS

RULES = ("mean", "p_best", "minimax_regret", "percentile:Q")
PERCENTILES = (5, 50, 95)


class ExploreError(SweepError):
    """Bad explore input (KPI, rule, condition); the message is meant for the user."""


@dataclass(frozen=True)
class Objective:
    """A KPI and whether more of it is better (`company_profit`) or less (`min:conflicts`)."""

    kpi: str
    maximise: bool = True

    @property
    def label(self) -> str:
        return self.kpi if self.maximise else f"min:{self.kpi}"


def parse_objective(text: str) -> Objective:
    """`KPI` (more is better), `max:KPI` or `min:KPI`."""
    direction, sep, kpi = text.strip().rpartition(":")
    if not sep:
        direction, kpi = "max", text.strip()
    if direction not in ("max", "min"):
        raise ExploreError(f"--kpi {text!r}: expected KPI, max:KPI or min:KPI")
    if kpi not in KPIS:
        raise ExploreError(f"--kpi {text!r}: no KPI {kpi!r}; see `channelsim kpis`")
    return Objective(kpi, direction == "max")


def parse_rule(text: str) -> tuple[str, float | None]:
    """`mean`, `p_best`, `minimax_regret` or `percentile:Q` with 0 < Q < 100."""
    name, _, q = text.strip().partition(":")
    if name in ("mean", "p_best", "minimax_regret") and not q:
        return name, None
    if name == "percentile":
        try:
            value = float(q)
        except ValueError:
            value = float("nan")
        if 0 < value < 100:
            return name, value
    raise ExploreError(
        f"--decide {text!r}: expected mean, p_best, minimax_regret or percentile:Q "
        "(0 < Q < 100, e.g. percentile:10)"
    )


def outcomes(
    runs: pd.DataFrame, inputs: Sequence[str], kpis: Sequence[str], scenarios: Sequence[str]
) -> pd.DataFrame:
    """Per sample, scenario and KPI: the mean over successful replicates and their number.

    Samples where some scenario has no successful replicate are left out, so every table
    built from this one compares the scenarios on the same points.
    """
    ok = runs[runs["status"] == "ok"]
    means = ok.groupby(["sample", "scenario"])[list(kpis)].mean()
    counts = ok.groupby(["sample", "scenario"]).size().rename("n")
    complete = counts.groupby(level="sample").size() == len(scenarios)
    keep = complete.index[complete]
    table = means.join(counts).reset_index()
    table = table[table["sample"].isin(keep)]
    long = table.melt(["sample", "scenario", "n"], list(kpis), "kpi", "mean")
    first = runs.drop_duplicates("sample").set_index("sample")[list(inputs)]
    long = long.join(first, on="sample")
    order = {name: i for i, name in enumerate(scenarios)}
    long = long.sort_values(
        ["kpi", "sample", "scenario"], key=lambda c: c.map(order) if c.name == "scenario" else c
    )
    columns = ["sample", *inputs, "scenario", "kpi", "mean", "n"]
    return long[columns].reset_index(drop=True)


def matrix(table: pd.DataFrame, kpi: str, scenarios: Sequence[str]) -> pd.DataFrame:
    """One KPI's outcomes: a row per sample, a column per scenario."""
    frame = table[table["kpi"] == kpi].pivot(index="sample", columns="scenario", values="mean")
    return frame.reindex(columns=list(scenarios))


def regret(values: pd.DataFrame, maximise: bool = True) -> pd.DataFrame:
    """Each scenario's shortfall to the best scenario at each point (>= 0, KPI units)."""
    signed = values if maximise else -values
    return signed.max(axis=1).to_numpy()[:, None] - signed


def robustness(
    table: pd.DataFrame, objectives: Sequence[Objective], scenarios: Sequence[str]
) -> pd.DataFrame:
    """The robustness table: a row per KPI and scenario (see the module text)."""
    rows = []
    for objective in objectives:
        values = matrix(table, objective.kpi, scenarios)
        signed = values if objective.maximise else -values
        lost = regret(values, objective.maximise)
        best = signed.eq(signed.max(axis=1), axis=0)
        shares = best.div(best.sum(axis=1), axis=0)
        for name in scenarios:
            column = values[name].to_numpy(dtype=float)
            row = {
                "scenario": name,
                "kpi": objective.label,
                "points": len(column),
                "mean": column.mean(),
                **{f"p{q:02d}": np.percentile(column, q) for q in PERCENTILES},
                "p_best": shares[name].mean(),
                "regret_mean": lost[name].mean(),
                "regret_max": lost[name].max(),
            }
            for other in scenarios:
                if other != name:
                    wins = (signed[name] > signed[other]) + 0.5 * (signed[name] == signed[other])
                    row[f"p_beats_{other}"] = wins.mean()
            rows.append(row)
    table = pd.DataFrame(rows)
    beats = [f"p_beats_{name}" for name in scenarios]
    return table[[c for c in table.columns if c not in beats] + beats]


@dataclass(frozen=True)
class Decision:
    """The recommended scenario, the rule and KPI that chose it, and every scenario's score."""

    scenario: str
    rule: str
    kpi: str
    scores: dict[str, float]
    better: str  # "higher" or "lower": which scores the rule prefers

    def sentence(self) -> str:
        what = {
            "mean": "the best mean",
            "p_best": "the highest probability of being the best",
            "minimax_regret": "the smallest maximum regret",
        }.get(self.rule, f"the best {self.rule.partition(':')[2]}th percentile from the bad side")
        return f"{self.scenario}: {what} on {self.kpi} ({self.rule})"


def decide(table: pd.DataFrame, robust: pd.DataFrame, objective: Objective, rule: str) -> Decision:
    """Apply the rule to one KPI; ties go to the scenario given first."""
    name, q = parse_rule(rule)
    rows = robust[robust["kpi"] == objective.label].set_index("scenario")
    scenarios = list(rows.index)
    if name == "mean":
        scores, higher = rows["mean"], objective.maximise
    elif name == "p_best":
        scores, higher = rows["p_best"], True
    elif name == "minimax_regret":
        scores, higher = rows["regret_max"], False
    else:
        values = matrix(table, objective.kpi, scenarios)
        level = q if objective.maximise else 100 - q  # type: ignore[operator]
        scores = pd.Series(np.percentile(values.to_numpy(), level, axis=0), index=scenarios)
        higher = objective.maximise
    keyed = scores if higher else -scores
    chosen = str(keyed.idxmax())
    return Decision(
        chosen,
        rule.strip(),
        objective.label,
        {k: float(v) for k, v in scores.items()},
        "higher" if higher else "lower",
    )


# --- conditions ----------------------------------------------------------------------------

_TERM = re.compile(r"^\s*(?:([A-Za-z_][A-Za-z0-9_]*)\[([^\[\]]+)\]|([-+]?[0-9.eE+-]+))\s*$")
_COMPARE = re.compile(r"(<=|>=|<|>)")


@dataclass(frozen=True)
class Condition:
    """`A op B [and ...]` over outcomes; each side `KPI[scenario]` or a number."""

    text: str
    clauses: tuple[tuple[tuple[str, str] | float, str, tuple[str, str] | float], ...]

    @property
    def kpis(self) -> list[str]:
        return sorted({s[0] for c in self.clauses for s in (c[0], c[2]) if isinstance(s, tuple)})

    def evaluate(self, table: pd.DataFrame, scenarios: Sequence[str]) -> pd.Series:
        """True or False per sample."""
        result: pd.Series | None = None
        for left, op, right in self.clauses:
            a, b = (_side(table, s, scenarios) for s in (left, right))
            holds = {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
            result = holds if result is None else result & holds
        assert result is not None
        return result.rename("condition")


def parse_condition(text: str, scenarios: Sequence[str]) -> Condition:
    """Parse `--find`; unknown KPIs or scenarios are reported with what exists."""
    clauses = []
    for part in _split(text.strip(), re.compile(r"\s+and\s+")):
        pieces = _split(part, _COMPARE, keep=True)
        if len(pieces) != 3:
            raise ExploreError(
                f"--find {text!r}: expected KPI[scenario] < KPI[scenario] (or <=, >, >=, a "
                "number on one side, several joined by 'and'), "
                "e.g. company_profit[parallel] < company_profit[direct]"
            )
        sides = [_parse_side(text, pieces[0], scenarios), _parse_side(text, pieces[2], scenarios)]
        if not any(isinstance(s, tuple) for s in sides):
            raise ExploreError(f"--find {text!r}: {part.strip()!r} compares two numbers")
        clauses.append((sides[0], pieces[1], sides[1]))
    return Condition(text.strip(), tuple(clauses))


def _split(text: str, pattern: re.Pattern[str], keep: bool = False) -> list[str]:
    """Split at `pattern` outside [...] (a scenario name may hold '<' or ' and ');
    with `keep`, the separators are kept as items."""
    masked = re.sub(r"\[[^\[\]]*\]", lambda m: "[" + "_" * (len(m.group()) - 2) + "]", text)
    pieces, start = [], 0
    for match in pattern.finditer(masked):
        pieces.append(text[start : match.start()])
        if keep:
            pieces.append(match.group())
        start = match.end()
    return [*pieces, text[start:]]


def _parse_side(text: str, piece: str, scenarios: Sequence[str]) -> tuple[str, str] | float:
    match = _TERM.match(piece)
    if not match:
        raise ExploreError(f"--find {text!r}: {piece.strip()!r} is not KPI[scenario] or a number")
    kpi, scenario, number = match.groups()
    if number is not None:
        try:
            return float(number)
        except ValueError:
            raise ExploreError(f"--find {text!r}: {number!r} is not a number") from None
    if kpi not in KPIS:
        raise ExploreError(f"--find {text!r}: no KPI {kpi!r}; see `channelsim kpis`")
    scenario = scenario.strip()
    if scenario not in scenarios:
        raise ExploreError(
            f"--find {text!r}: no scenario {scenario!r}; expected one of {', '.join(scenarios)}"
        )
    return kpi, scenario


def _side(table: pd.DataFrame, side: tuple[str, str] | float, scenarios: Sequence[str]) -> Any:
    if isinstance(side, tuple):
        return matrix(table, side[0], scenarios)[side[1]]
    return side


def not_best(
    table: pd.DataFrame, decision: Decision, objective: Objective, scenarios: Sequence[str]
) -> pd.Series:
    """The default condition: the recommended scenario is not the best at the point."""
    values = matrix(table, objective.kpi, scenarios)
    return (regret(values, objective.maximise)[decision.scenario] > 0).rename("condition")


def importance(x: pd.DataFrame, condition: pd.Series) -> pd.DataFrame:
    """How differently each input is distributed where the condition holds and where not.

    Regional sensitivity analysis (Spear and Hornberger): the two-sample Kolmogorov-Smirnov
    distance between the input's values in the two groups (0: the same distribution, the
    input does not matter for the condition; 1: the groups do not overlap), with its
    p-value. NaN when the condition always or never holds.
    """
    held = condition.to_numpy(dtype=bool)
    rows = []
    for name in x.columns:
        values = x[name].to_numpy(dtype=float)
        if held.all() or not held.any():
            rows.append({"input": name, "importance": np.nan, "p_value": np.nan})
            continue
        test = stats.ks_2samp(values[held], values[~held])
        rows.append({"input": name, "importance": test.statistic, "p_value": test.pvalue})
    table = pd.DataFrame(rows, columns=["input", "importance", "p_value"])
    return table.sort_values("importance", ascending=False, na_position="last").reset_index(
        drop=True
    )
