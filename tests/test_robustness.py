"""Robustness tables, decision rules and conditions (experiments/robustness.py), by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from channelsim.experiments import robustness as rob
from channelsim.experiments.robustness import ExploreError, Objective

SCENARIOS = ["A", "B", "C"]
# company_profit at 4 sampled points. Best per point: A (10), B (20), C (12), B (30).
PROFIT = {"A": [10, 10, 10, 10], "B": [0, 20, 5, 30], "C": [9, 9, 12, 9]}


def runs_table(profit=PROFIT, replicates=1):
    rows = []
    for scenario, values in profit.items():
        for sample, value in enumerate(values):
            for r in range(replicates):
                rows.append({"sample": sample, "scenario": scenario, "replicate": r,
                             "x": sample / 4, "status": "ok", "company_profit": value + r,
                             "revenue": 2.0 * value})  # fmt: skip
    return pd.DataFrame(rows)


def table():
    return rob.outcomes(runs_table(), ["x"], ["company_profit", "revenue"], SCENARIOS)


def test_outcomes_average_replicates_and_drop_samples_a_scenario_lacks():
    runs = runs_table(replicates=2)  # replicate r adds r: means are value + 0.5
    c3 = (runs["scenario"] == "C") & (runs["sample"] == 3)
    runs.loc[c3 & (runs["replicate"] == 0), "status"] = "failed"
    out = rob.outcomes(runs, ["x"], ["company_profit"], SCENARIOS)
    assert sorted(out["sample"].unique()) == [0, 1, 2, 3]  # C still has one ok run at 3
    a0 = out[(out["scenario"] == "A") & (out["sample"] == 0)].iloc[0]
    c3_row = out[(out["scenario"] == "C") & (out["sample"] == 3)].iloc[0]
    assert (a0["mean"], a0["n"]) == (10.5, 2) and (c3_row["mean"], c3_row["n"]) == (10, 1)
    runs.loc[c3, "status"] = "failed"
    out = rob.outcomes(runs, ["x"], ["company_profit"], SCENARIOS)
    assert sorted(out["sample"].unique()) == [0, 1, 2]


def test_robustness_table_by_hand():
    robust = rob.robustness(table(), [Objective("company_profit")], SCENARIOS).set_index("scenario")
    assert robust["mean"].tolist() == [10, 13.75, 9.75]
    # regret A: 0, 10, 2, 20; B: 10, 0, 7, 0; C: 1, 11, 0, 21
    assert robust["regret_mean"].tolist() == [8, 4.25, 8.25]
    assert robust["regret_max"].tolist() == [20, 10, 21]
    assert robust["p_best"].tolist() == [0.25, 0.5, 0.25]
    assert robust.loc["A", "p_beats_B"] == 0.5 and robust.loc["B", "p_beats_A"] == 0.5
    assert robust.loc["A", "p_beats_C"] == 0.75 and robust.loc["C", "p_beats_A"] == 0.25
    assert robust.loc["B", "p05"] == pytest.approx(np.percentile([0, 20, 5, 30], 5))


def test_a_tie_shares_the_point_and_counts_half_a_win():
    out = rob.outcomes(
        runs_table({"A": [1, 2], "B": [1, 3]}), ["x"], ["company_profit"], ["A", "B"]
    )
    robust = rob.robustness(out, [Objective("company_profit")], ["A", "B"]).set_index("scenario")
    assert robust["p_best"].tolist() == [0.25, 0.75]
    assert robust.loc["A", "p_beats_B"] == 0.25


def test_each_rule_picks_its_scenario():
    out = table()
    objective = Objective("company_profit")
    robust = rob.robustness(out, [objective], SCENARIOS)
    assert rob.decide(out, robust, objective, "mean").scenario == "B"
    assert rob.decide(out, robust, objective, "p_best").scenario == "B"
    assert rob.decide(out, robust, objective, "minimax_regret").scenario == "B"
    # the 25th percentile: A 10, B 3.75, C 9: the steady scenario wins the cautious rule
    decision = rob.decide(out, robust, objective, "percentile:25")
    assert decision.scenario == "A"
    assert decision.scores["B"] == pytest.approx(3.75)


def test_less_is_better_turns_the_regret_and_the_choice_around():
    out = table()
    objective = rob.parse_objective("min:company_profit")
    robust = rob.robustness(out, [objective], SCENARIOS).set_index("scenario")
    assert robust.loc["A", "regret_max"] == 10  # A 10 against B's 0 at point 0
    assert rob.decide(out, robust.reset_index(), objective, "mean").scenario == "C"


def test_conditions():
    out = table()
    holds = rob.parse_condition("company_profit[B] < company_profit[A]", SCENARIOS)
    assert holds.evaluate(out, SCENARIOS).tolist() == [True, False, True, False]
    both = rob.parse_condition(
        "company_profit[B] < company_profit[A] and revenue[C] > 18", SCENARIOS
    )
    assert both.evaluate(out, SCENARIOS).tolist() == [False, False, True, False]
    decision = rob.Decision("B", "mean", "company_profit", {}, "higher")
    assert rob.not_best(out, decision, Objective("company_profit"), SCENARIOS).tolist() == [
        True, False, True, False
    ]  # fmt: skip


def test_a_scenario_name_may_hold_what_the_condition_uses():
    names = ["a<b", "x and y"]
    out = rob.outcomes(runs_table({"a<b": [1, 5], "x and y": [2, 3]}), ["x"], ["company_profit"],
                       names)  # fmt: skip
    holds = rob.parse_condition("company_profit[a<b] < company_profit[x and y]", names)
    assert holds.evaluate(out, names).tolist() == [True, False]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("company_profit[D] < company_profit[A]", "no scenario 'D'"),
        ("profit[A] < 3", "no KPI 'profit'"),
        ("company_profit[A]", "expected KPI[scenario]"),
        ("1 < 2", "compares two numbers"),
    ],
)
def test_bad_conditions_say_what_is_wrong(text, message):
    with pytest.raises(ExploreError, match=message.replace("[", r"\[")):
        rob.parse_condition(text, SCENARIOS)


@pytest.mark.parametrize("rule", ["median", "percentile:0", "percentile:x", "mean:3"])
def test_bad_rules_are_refused(rule):
    with pytest.raises(ExploreError, match="--decide"):
        rob.parse_rule(rule)


def test_importance_is_large_for_the_input_that_decides_and_small_for_noise():
    rng = np.random.default_rng(5)
    x = pd.DataFrame({"matters": rng.random(300), "noise": rng.random(300)})
    scores = rob.importance(x, x["matters"] > 0.6).set_index("input")
    assert scores.loc["matters", "importance"] == 1.0  # the two groups do not overlap
    assert scores.loc["noise", "importance"] < 0.2 and scores.loc["noise", "p_value"] > 0.01
