"""Sales-force rules: quotas, the weekly quit hazard, and ramp-up of new hires."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def negotiated_quota(
    company_target: float, reps: int, noise: ArrayLike, haggling_bias: float
) -> NDArray:
    """A flat share of the company target, moved by negotiation noise and talked down by bias.

    `noise` is one standard-normal draw per rep, scaled by the caller.
    """
    flat = company_target / max(reps, 1)
    return np.maximum(0.0, flat * (1.0 - haggling_bias) * (1.0 + np.asarray(noise, dtype=float)))


def data_driven_quota(territory_potential: ArrayLike, target_share: float) -> NDArray:
    """A share of the quarterly revenue the territory could yield, measured from its customers."""
    return np.maximum(0.0, np.asarray(territory_potential, dtype=float) * target_share)


def quit_probability(
    base_rate: float,
    pay_ratio: ArrayLike,
    attainment: ArrayLike,
    pay_sensitivity: float,
    attainment_sensitivity: float,
) -> NDArray:
    """Weekly chance a rep quits: base rate scaled up when pay or attainment fall short of par.

    h = base * exp(a_pay * (1 - pay_ratio)^+ + a_att * (1 - attainment)^+), capped at 1.
    Pay or attainment above par do not lower the hazard below the base rate.
    """
    pay_gap = np.maximum(0.0, 1.0 - np.asarray(pay_ratio, dtype=float))
    attainment_gap = np.maximum(0.0, 1.0 - np.asarray(attainment, dtype=float))
    hazard = base_rate * np.exp(pay_sensitivity * pay_gap + attainment_sensitivity * attainment_gap)
    return np.clip(hazard, 0.0, 1.0)


def ramp(tenure_weeks: ArrayLike, ramp_weeks: int) -> NDArray:
    """Productivity of a rep with the given tenure: linear from 1/(ramp+1) to 1."""
    tenure = np.asarray(tenure_weeks, dtype=float)
    if ramp_weeks <= 0:
        return np.ones_like(tenure)
    return np.clip((tenure + 1.0) / (ramp_weeks + 1.0), 0.0, 1.0)


def incentive_effort(
    rate: ArrayLike, productivity: ArrayLike, cost: float, maximum: ArrayLike
) -> NDArray:
    """Visits a rep chooses when pay follows sales: e* = beta h / k, within [0, maximum].

    Under linear pay alpha + beta x with expected output x = h e (h: commission base per
    visit), effort cost k e^2 / 2 and a risk premium r sigma^2 beta^2 / 2 that does not
    depend on e, the certainty equivalent alpha + beta h e - k e^2 / 2 - r sigma^2 beta^2 / 2
    is highest at e* = beta h / k (Holmstrom and Milgrom 1987). `rate` may include the
    marginal pay of a quota bonus or tier (see `quota_step_rate`).
    """
    wanted = np.asarray(rate, dtype=float) * np.asarray(productivity, dtype=float) / cost
    return np.clip(wanted, 0.0, np.asarray(maximum, dtype=float))


def quota_step_rate(
    bonus: float, quota: ArrayLike, expected: ArrayLike, spread: ArrayLike
) -> NDArray:
    """The extra pay per unit of output that a quota bonus is worth to a rep, in expectation.

    With quarterly output X ~ Normal(expected, spread^2), the bonus B is paid if X >= quota:
    E[pay] gains B Phi((expected - quota) / spread), whose slope in expected output is
    B phi((expected - quota) / spread) / spread. Reps near their quota gain most; reps far
    above or below it gain almost nothing. A zero spread or quota adds nothing.
    """
    quota = np.asarray(quota, dtype=float)
    spread = np.asarray(spread, dtype=float)
    ok = (spread > 0) & (quota > 0)
    safe = np.where(ok, spread, 1.0)
    z = (np.asarray(expected, dtype=float) - quota) / safe
    density = np.exp(-0.5 * z**2) / np.sqrt(2.0 * np.pi)
    return np.where(ok, bonus * density / safe, 0.0)


def participation_salary(
    market_pay: float,
    rate: ArrayLike,
    output: ArrayLike,
    effort: ArrayLike,
    cost: float,
    risk_aversion: float,
    noise: float,
) -> NDArray:
    """The weekly salary alpha at which a rep's certainty equivalent equals its market pay.

    alpha + beta x - k e^2 / 2 - r sigma^2 beta^2 / 2 = market pay, so the company pays for
    the effort and the risk it asks of the rep (the participation constraint). Never
    negative.
    """
    beta = np.asarray(rate, dtype=float)
    e = np.asarray(effort, dtype=float)
    premium = 0.5 * risk_aversion * noise**2 * beta**2
    alpha = market_pay - beta * np.asarray(output, dtype=float) + 0.5 * cost * e**2 + premium
    return np.maximum(0.0, alpha)
