"""PRIM (experiments/prim.py) against cases computed by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from channelsim.experiments import prim


def test_peeling_cuts_the_alpha_share_off_the_side_that_raises_density_most():
    # 20 points 0..19, the condition holds from 15 up. alpha = 0.1: the first cut removes
    # floor(0.1 x 20) = 2 points (0 and 1), every later cut one point (floor(0.1 n) < 2),
    # always from below, until only 15..19 are left (density 1).
    x = pd.DataFrame({"a": np.arange(20.0)})
    result = prim.prim(x, x["a"] >= 15, alpha=0.1)
    path = result.trajectories()
    expected_sizes = [20, 18, *range(17, 4, -1)]
    assert path["mass"].tolist() == pytest.approx([n / 20 for n in expected_sizes])
    assert path["density"].tolist() == pytest.approx([5 / n for n in expected_sizes])
    assert (path["coverage"] == 1.0).all()
    assert path["chosen"].tolist() == [False] * (len(expected_sizes) - 1) + [True]
    limits = result.limits()
    assert limits[["input", "low", "high"]].values.tolist() == [["a", 15.0, 19.0]]


def test_a_limit_is_significant_by_the_exact_hypergeometric_test():
    # Box 15..19 holds 5 points, all hits; without its lower limit it holds all 20 points,
    # 5 hits. P(5 of 5 drawn from 20 are among the 5 hits) = 1 / C(20, 5) = 1 / 15504.
    x = pd.DataFrame({"a": np.arange(20.0)})
    limits = prim.prim(x, x["a"] >= 15, alpha=0.1).limits()
    assert limits.loc[0, "p_low"] == pytest.approx(1 / 15504)
    assert np.isnan(limits.loc[0, "p_high"])


def test_peeling_from_above_when_the_condition_is_low():
    x = pd.DataFrame({"a": np.arange(20.0)})
    limits = prim.prim(x, x["a"] <= 4, alpha=0.1).limits()
    assert limits[["low", "high"]].values.tolist() == [[0.0, 4.0]]
    assert np.isnan(limits.loc[0, "p_low"]) and limits.loc[0, "p_high"] < 1e-3


def test_tied_values_are_cut_together():
    # Four 0s, two each of 1, 2, 3; the condition holds from 2 up. A cut of one point from
    # below must take all four 0s (density 4/6), then both 1s (density 1).
    x = pd.DataFrame({"a": [0.0, 0, 0, 0, 1, 1, 2, 2, 3, 3]})
    result = prim.prim(x, x["a"] >= 2, alpha=0.1)
    assert result.trajectories()["mass"].tolist() == pytest.approx([1.0, 0.6, 0.4])
    assert result.limits()[["low", "high"]].values.tolist() == [[2.0, 3.0]]


def test_pasting_widens_a_limit_while_the_density_does_not_fall():
    # Hits at 2..7. From the box 3..7, letting 2 back in keeps density 1 (accepted); then 1
    # or 8 would lower it (rejected): the pasted box is 2..7.
    x = np.arange(10.0)[:, None]
    y = np.array([0, 0, 1, 1, 1, 1, 1, 1, 0, 0], dtype=bool)
    everything = np.ones(10, dtype=bool)
    result = prim.PrimResult(("a",), np.array([0.0]), np.array([9.0]))
    box = prim.measure_box(x, y, everything, np.array([3.0]), np.array([7.0]), result, 6)
    pasted = prim.paste(x, y, everything, box, 0.05, result, 6)
    assert (pasted.low[0], pasted.high[0]) == (2.0, 7.0)
    assert pasted.coverage == 1.0 and pasted.density == 1.0


def test_a_limit_that_excludes_nothing_the_other_limits_let_in_is_opened():
    # Box a in 2..3, b in 1..3: the only sample with b < 1 has a = 0, already outside.
    x = np.array([[0.0, 0.0], [1, 1], [2, 2], [3, 3]])
    y = np.array([False, False, True, True])
    everything = np.ones(4, dtype=bool)
    result = prim.PrimResult(("a", "b"), x.min(axis=0), x.max(axis=0))
    box = prim.measure_box(x, y, everything, np.array([2.0, 1.0]), np.array([3.0, 3.0]), result, 2)
    assert box.restricted == ("a", "b")
    opened = prim.drop_vacuous(x, y, everything, box, result, 2)
    assert opened.restricted == ("a",) and opened.low.tolist() == [2.0, 0.0]
    assert (opened.samples, opened.hits) == (box.samples, box.hits)


def test_an_input_that_does_not_matter_gets_no_limit():
    rng = np.random.default_rng(7)
    x = pd.DataFrame({"matters": rng.random(200), "noise": rng.random(200)})
    limits = prim.prim(x, x["matters"] > 0.6).limits()
    assert limits["input"].tolist() == ["matters"]
    # Within PRIM's resolution: the last cut takes floor(0.05 x ~80) = 4 points of the box,
    # so at most 4 sampled points lie between the limit and the true threshold.
    low = limits.loc[0, "low"]
    assert low <= 0.6 and ((x["matters"] >= low) & (x["matters"] <= 0.6)).sum() <= 4
    assert limits.loc[0, "density"] >= 0.95 and limits.loc[0, "coverage"] == 1.0
    assert limits.loc[0, "p_low"] < 1e-20


def test_a_box_restricting_two_inputs_and_its_coverage_and_density():
    rng = np.random.default_rng(3)
    x = pd.DataFrame({"a": rng.random(400), "b": rng.random(400), "c": rng.random(400)})
    y = (x["a"] > 0.5) & (x["b"] < 0.4)
    limits = prim.prim(x, y).limits().set_index("input")
    assert sorted(limits.index) == ["a", "b"]
    assert limits.loc["a", "low"] == pytest.approx(0.5, abs=0.03)
    assert limits.loc["b", "high"] == pytest.approx(0.4, abs=0.03)
    assert (limits["density"] >= 0.8).all() and (limits["coverage"] >= 0.8).all()


def test_no_box_when_the_condition_never_holds():
    x = pd.DataFrame({"a": np.arange(10.0)})
    assert prim.prim(x, np.zeros(10, dtype=bool)).limits().empty
