"""Prices along the channel and the Bertrand outcome of a two-seller conflict."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray


@dataclass(frozen=True)
class ChainPrices:
    """Per-unit prices at each tier of the channel."""

    company_to_general_agent: float
    general_agent_to_dealer: float
    dealer_to_customer: float
    direct: float
    online: float
    telesales: float  # telesales sells at the (current) list price, never below the floor


def chain_prices(
    list_price: float,
    wholesale_price: float,
    general_agent_markup: float,
    dealer_markup: float,
    price_floor: float,
    rep_discount: float = 0.0,
    online_discount: float = 0.0,
    flattened_price: float | None = None,
) -> ChainPrices:
    """Stack each tier's markup on its purchase price; every seller respects the floor.

    When the network is flattened the dealer buys from the company at `flattened_price`
    and the general-agent tier disappears (its purchase price equals the sale price).
    """
    if flattened_price is not None:
        dealer_cost = flattened_price
        ga_cost = flattened_price
    else:
        ga_cost = wholesale_price
        dealer_cost = wholesale_price * (1.0 + general_agent_markup)
    retail = max(price_floor, dealer_cost * (1.0 + dealer_markup))
    direct = max(price_floor, list_price * (1.0 - rep_discount))
    online = max(price_floor, list_price * (1.0 - online_discount))
    telesales = max(price_floor, list_price)
    return ChainPrices(ga_cost, dealer_cost, retail, direct, online, telesales)


class MoneySplit(NamedTuple):
    """Where each unit's price goes; the five parts add up to the price."""

    company: NDArray
    general_agent: NDArray  # the general agent's margin after its own costs
    dealer: NDArray  # the dealer's margin after its own costs
    general_agent_costs: NDArray
    dealer_costs: NDArray


def money_split(
    price: ArrayLike,
    company_price: ArrayLike,
    dealer_cost: ArrayLike,
    general_agent_unit_cost: ArrayLike = 0.0,
    dealer_unit_cost: ArrayLike = 0.0,
) -> MoneySplit:
    """Split what a customer pays into the company's part, each tier's margin and own costs.

    `company_price` is what the company invoices per unit, `dealer_cost` what the dealer
    paid, the unit costs what each intermediary spends per unit (0 on direct sales). The
    parts add up to `price` exactly (up to float rounding) for any inputs.
    """
    price = np.asarray(price, dtype=float)
    ones = np.ones_like(price)
    company = np.asarray(company_price, dtype=float) * ones
    dealer_cost = np.asarray(dealer_cost, dtype=float) * ones
    ga_costs = np.asarray(general_agent_unit_cost, dtype=float) * ones
    dealer_costs = np.asarray(dealer_unit_cost, dtype=float) * ones
    general_agent = dealer_cost - company - ga_costs
    dealer = price - dealer_cost - dealer_costs
    return MoneySplit(company, general_agent, dealer, ga_costs, dealer_costs)


def rep_floor(list_price: float, max_discount: float, price_floor: float) -> float:
    """The lowest price a rep may quote: the authority limit or the floor, whichever is higher."""
    return max(price_floor, list_price * (1.0 - max_discount))


def dealer_floor(
    dealer_cost: float, min_margin: float, price_floor: float, own_cost: float = 0.0
) -> float:
    """The lowest price a dealer will quote: its full cost (purchase price plus its own cost
    per unit) plus its minimum margin on it, or the floor."""
    return max(price_floor, (dealer_cost + own_cost) * (1.0 + min_margin))


def bertrand(
    floor_a: ArrayLike,
    floor_b: ArrayLike,
    value: ArrayLike,
    normal_a: ArrayLike,
    normal_b: ArrayLike,
) -> tuple[NDArray, NDArray]:
    """Outcome of two sellers of one brand undercutting each other for one buyer.

    The seller with the lower floor wins (ties go to b, the local dealer, as the texts
    say customers prefer the dealer at equal price) at the higher floor, capped by the
    buyer's value and by the winner's normal quote, and never below the winner's floor.
    Returns (a_wins, price).
    """
    floor_a = np.asarray(floor_a, dtype=float)
    floor_b = np.asarray(floor_b, dtype=float)
    a_wins = floor_a < floor_b
    winner_floor = np.where(a_wins, floor_a, floor_b)
    winner_normal = np.where(a_wins, normal_a, normal_b)
    contested = np.minimum(np.maximum(floor_a, floor_b), np.asarray(value, dtype=float))
    price = np.maximum(winner_floor, np.minimum(contested, winner_normal))
    return a_wins, price


def asymmetric_bertrand(
    floor_a: ArrayLike,
    floor_b: ArrayLike,
    advantage: ArrayLike,
    ceiling_a: ArrayLike,
    ceiling_b: ArrayLike,
    normal_a: ArrayLike,
    normal_b: ArrayLike,
) -> tuple[NDArray, NDArray]:
    """Two sellers whose offers the buyer values differently undercut each other.

    `advantage` is what the buyer would pay extra for a's offer over b's at equal prices
    (money per unit: (theta_a - theta_b) v + (b_s (s_a - s_b) + loyalty gap) / b_p). Each
    seller can go down to its floor; a wins if its offer at its floor is worth more to the
    buyer than b's at b's floor (floor_a - advantage < floor_b; ties go to b, the dealer).
    The winner prices so that the buyer is indifferent to the loser's offer at the loser's
    floor (p_a = floor_b + advantage, p_b = floor_a - advantage), capped by what the buyer
    would pay for its offer at all (`ceiling`) and by its normal quote, never below its own
    floor. With advantage 0 and ceilings equal to the value this is exactly `bertrand`.
    Returns (a_wins, price).
    """
    floor_a = np.asarray(floor_a, dtype=float)
    floor_b = np.asarray(floor_b, dtype=float)
    advantage = np.asarray(advantage, dtype=float)
    a_wins = floor_a - advantage < floor_b
    undercut = np.where(a_wins, floor_b + advantage, floor_a - advantage)
    ceiling = np.where(a_wins, ceiling_a, ceiling_b)
    normal = np.where(a_wins, normal_a, normal_b)
    winner_floor = np.where(a_wins, floor_a, floor_b)
    price = np.maximum(winner_floor, np.minimum(np.minimum(undercut, ceiling), normal))
    return a_wins, price
