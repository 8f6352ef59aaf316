"""Prices along the channel and the Bertrand outcome of a two-seller conflict."""

from __future__ import annotations

from dataclasses import dataclass

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


def money_split(
    price: ArrayLike, company_price: ArrayLike, dealer_cost: ArrayLike
) -> tuple[NDArray, NDArray, NDArray]:
    """Split what a customer pays into company, general-agent and dealer shares.

    `company_price` is what the company invoices per unit and `dealer_cost` what the dealer
    paid. The three parts add up to `price` exactly (up to float rounding) for any inputs.
    """
    price = np.asarray(price, dtype=float)
    company = np.asarray(company_price, dtype=float) * np.ones_like(price)
    dealer_cost = np.asarray(dealer_cost, dtype=float) * np.ones_like(price)
    general_agent = dealer_cost - company
    dealer = price - dealer_cost
    return company, general_agent, dealer


def rep_floor(list_price: float, max_discount: float, price_floor: float) -> float:
    """The lowest price a rep may quote: the authority limit or the floor, whichever is higher."""
    return max(price_floor, list_price * (1.0 - max_discount))


def dealer_floor(dealer_cost: float, min_margin: float, price_floor: float) -> float:
    """The lowest price a dealer will quote: its cost plus its minimum margin, or the floor."""
    return max(price_floor, dealer_cost * (1.0 + min_margin))


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
