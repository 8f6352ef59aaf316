"""Designs: the grid is the full factorial; lhs, sobol and morris are the libraries' samples."""

from __future__ import annotations

import numpy as np
import pytest
from SALib.sample import morris as salib_morris
from SALib.sample import sobol as salib_sobol
from scipy.stats import qmc

from channelsim.experiments.designs import DesignError, Param, make_design

RATE = Param("reps.commission.rate", low=0.02, high=0.1)
PRICE = Param("pricing.list_price", low=80.0, high=120.0)
HEADCOUNT = Param("reps.headcount", low=2, high=10, scale="int")
MARKUP = Param("dealers.markup", low=0.05, high=0.5, scale="log")
RULE = Param("engagement.large_accounts", values=("open", "rep_only", "rep_assists_dealer"))


def test_grid_is_every_combination_with_the_last_parameter_fastest():
    design = make_design(
        [Param("a", values=(1, 2)), Param("b", values=("x", "y", "z"))], "grid", None, 0
    )
    points = design.points()
    assert list(points.columns) == ["a", "b"]
    assert points.index.name == "point"
    assert list(zip(points["a"], points["b"], strict=True)) == [
        (1, "x"), (1, "y"), (1, "z"), (2, "x"), (2, "y"), (2, "z"),
    ]  # fmt: skip


def test_grid_size_is_the_product_of_the_level_counts():
    params = [Param("a", values=(1, 2, 3)), Param("b", values=(0.1, 0.2)), RULE]
    assert make_design(params, "grid", None, 0).size == 3 * 2 * 3


def test_grid_refuses_ranges_and_samples():
    with pytest.raises(DesignError, match="reps.commission.rate given as a range"):
        make_design([RATE], "grid", None, 0)
    with pytest.raises(DesignError, match="--samples applies to lhs"):
        make_design([RULE], "grid", 10, 0)


def test_lhs_is_scipy_latin_hypercube_with_the_sweep_seed():
    design = make_design([RATE, PRICE], "lhs", 20, seed=42)
    unit = qmc.LatinHypercube(d=2, rng=42).random(20)
    points = design.points()
    np.testing.assert_allclose(points["reps.commission.rate"], 0.02 + unit[:, 0] * 0.08, rtol=1e-11)
    np.testing.assert_allclose(points["pricing.list_price"], 80 + unit[:, 1] * 40, rtol=1e-11)


def test_lhs_maps_int_log_and_word_parameters_inside_their_ranges():
    points = make_design([HEADCOUNT, MARKUP, RULE], "lhs", 60, seed=3).points()
    assert points["reps.headcount"].between(2, 10).all()
    assert points["reps.headcount"].map(lambda v: isinstance(v, int | np.integer)).all()
    assert set(points["reps.headcount"]) == set(range(2, 11))  # 60 strata cover every integer
    assert points["dealers.markup"].between(0.05, 0.5).all()
    assert set(points["engagement.large_accounts"]) == set(RULE.values)


def test_lhs_with_the_same_seed_is_the_same_and_another_seed_differs():
    a = make_design([RATE, PRICE], "lhs", 10, seed=1).points()
    b = make_design([RATE, PRICE], "lhs", 10, seed=1).points()
    c = make_design([RATE, PRICE], "lhs", 10, seed=2).points()
    assert a.equals(b)
    assert not a.equals(c)


def test_sobol_is_salib_saltelli_sample_without_second_order():
    design = make_design([RATE, PRICE, MARKUP], "sobol", 16, seed=5)
    problem = {
        "num_vars": 3,
        "names": ["reps.commission.rate", "pricing.list_price", "dealers.markup"],
        "bounds": [[0.02, 0.1], [80.0, 120.0], [np.log10(0.05), np.log10(0.5)]],
    }
    expected = salib_sobol.sample(problem, 16, calc_second_order=False, seed=5)
    assert design.size == 16 * (3 + 2)
    np.testing.assert_array_equal(design.matrix, expected)
    np.testing.assert_allclose(design.points()["dealers.markup"], 10 ** expected[:, 2], rtol=1e-11)
    np.testing.assert_allclose(design.points()["pricing.list_price"], expected[:, 1], rtol=1e-11)


def test_morris_is_salib_morris_sample_on_four_levels():
    design = make_design([RATE, HEADCOUNT], "morris", 6, seed=9)
    problem = {
        "num_vars": 2,
        "names": ["reps.commission.rate", "reps.headcount"],
        "bounds": [[0.02, 0.1], [2.0, 11.0]],
    }
    expected = salib_morris.sample(problem, 6, num_levels=4, seed=9)
    assert design.size == 6 * (2 + 1)
    np.testing.assert_array_equal(design.matrix, expected)
    assert design.points()["reps.headcount"].between(2, 10).all()


@pytest.mark.parametrize("design", ["sobol", "morris"])
def test_sensitivity_designs_need_numeric_ranges(design):
    with pytest.raises(DesignError, match=f"engagement.large_accounts given as levels; {design}"):
        make_design([RATE, RULE], design, 8, 0)


def test_sobol_samples_must_be_a_power_of_two():
    with pytest.raises(DesignError, match="power of 2"):
        make_design([RATE, PRICE], "sobol", 50, 0)


@pytest.mark.parametrize("design", ["lhs", "sobol", "morris"])
def test_sampled_designs_need_a_sample_count(design):
    with pytest.raises(DesignError, match="--samples N"):
        make_design([RATE], design, None, 0)


def test_a_list_mixing_numbers_and_words_is_a_text_column_but_keeps_its_values():
    design = make_design([Param("x", values=(1, "auto"))], "grid", None, 0)
    assert list(design.points()["x"]) == ["1", "auto"]
    assert [s["x"] for s in design.settings()] == [1, "auto"]
