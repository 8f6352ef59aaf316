"""Stripped down to a textbook's assumptions, channelsim gives the textbook's answer.

Each case runs the scenario files in scenarios/validation/ and compares the simulated
outcome with the closed form, within a tolerance whose reason is stated in
channelsim.experiments.validation (and in docs/validation.md). Select with `pytest -m validation`.
"""

from __future__ import annotations

import numpy as np
import pytest

from channelsim.experiments import validation
from channelsim.model.market import logit_probabilities
from channelsim.output import check_tables

pytestmark = pytest.mark.validation


def failures(checks: list[validation.Check]) -> list[str]:
    return [
        f"{c.quantity}: closed form {c.closed_form:.6g}, simulated {c.simulated:.6g}, "
        f"error {c.error:+.2e} > tolerance {c.tolerance:.2e}"
        for c in checks
        if not c.passed
    ]


@pytest.fixture(scope="module")
def suite() -> dict[str, list[validation.Check]]:
    return {name: case(validation.FOLDER) for name, case in validation.CASES.items()}


def test_stacked_margins_reproduce_double_and_triple_marginalisation(suite):
    checks = suite["stacked_margins"]
    assert not failures(checks)
    units = {c.quantity.split(":")[0]: c.simulated for c in checks if "units" in c.quantity}
    # Each tier added to the chain halves what customers buy.
    assert units["maker->dealer"] == pytest.approx(units["integrated"] / 2, rel=0.02)
    assert units["maker->agent->dealer"] == pytest.approx(units["integrated"] / 4, rel=0.02)


def test_dual_channel_shares_match_chiang_chhajed_hess_in_all_three_regions(suite):
    assert not failures(suite["dual_channel"])
    theta, p_r = 0.7, 0.6
    regions = set()
    for p_d in validation.DUAL_CHANNEL_ONLINE_PRICES:
        if p_d >= theta * p_r:
            regions.add("dealer only")
        elif p_r - p_d <= 1 - theta:
            regions.add("both")
        else:
            regions.add("direct only")
    assert regions == {"dealer only", "both", "direct only"}


def test_dual_channel_closed_form_is_continuous_across_region_boundaries():
    theta, p_r, eps = 0.7, 0.6, 1e-9
    for boundary in (theta * p_r, p_r - (1 - theta)):
        below = validation.dual_channel_shares(p_r, boundary - eps, theta)
        above = validation.dual_channel_shares(p_r, boundary + eps, theta)
        np.testing.assert_allclose(below, above, atol=1e-6)


def test_open_conflict_ends_at_the_higher_floor_and_the_lower_floor_wins(suite):
    assert not failures(suite["bertrand"])
    assert len(suite["bertrand"]) == 3 * len(validation.BERTRAND_CASES)


def test_simulated_logit_shares_match_the_formula_and_approach_deterministic_shares(suite):
    assert not failures(suite["logit"])


def test_logit_formula_converges_to_deterministic_choice_as_the_scale_falls():
    # Averaged over valuations, the model's logit shares are within about the scale of the
    # valuation-based shares (customers within ~mu of indifference are split); once the
    # scale is far below the utility gap of the customer closest to indifference, they
    # equal the deterministic (scale 0) shares up to exp(-gap / mu) (Train, ch. 3).
    n = 1000
    v = (np.arange(n) + 0.5) / n
    p_r, p_d, theta = 0.6, 0.35, 0.7
    utility = np.column_stack([v - p_r, theta * v - p_d, np.zeros(n)])
    closed = np.array(validation.dual_channel_shares(p_r, p_d, theta))
    for scale in (0.1, 0.03, 0.01, 0.001):
        shares = logit_probabilities(utility, scale).mean(axis=0)[:2]
        assert np.abs(shares - closed).max() <= scale + 1 / n
    ordered = np.sort(utility, axis=1)
    closest = (ordered[:, -1] - ordered[:, -2]).min()
    deterministic = logit_probabilities(utility, 0.0).mean(axis=0)
    limit = logit_probabilities(utility, closest / 25).mean(axis=0)
    np.testing.assert_allclose(limit, deterministic, atol=1e-9)
    np.testing.assert_allclose(deterministic[:2], closed, atol=1 / n)


def test_revenue_pay_makes_a_rep_price_at_one_half_and_margin_pay_at_the_integrated_price(suite):
    checks = suite["rep_pricing"]
    assert not failures(checks)
    prices = {c.quantity.split()[0]: c.simulated for c in checks if "rep price" in c.quantity}
    assert prices["revenue"] < prices["gross_margin"]


def test_the_suite_table_lists_every_check_with_its_tolerance(suite):
    checks = [c for case in suite.values() for c in case]
    text = check_tables.checks_table(checks, markdown=True)
    assert text.count("\n") == len(checks) + 1
    assert "why this tolerance" in text and "FAIL" not in text


def test_a_failed_check_is_reported_as_failed():
    check = validation.Check("case", "q", 1.0, 1.2, 0.1, "why")
    assert not check.passed and check.error == pytest.approx(0.2)
    assert "FAIL" in check_tables.checks_table([check])
