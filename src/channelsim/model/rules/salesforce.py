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
