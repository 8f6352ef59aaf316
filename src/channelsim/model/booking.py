"""Booking a week's purchases: the money split along the channel, commissions, the customers'
new state, and insurance claims.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from channelsim.model.market import (
    CHANNELS,
    COMPETITOR,
    DEALER,
    NO_ONE,
    ONLINE,
    REP,
    TELESALES,
    is_ours,
)
from channelsim.model.rules import commission as pay_rules
from channelsim.model.rules import pricing
from channelsim.model.state import QUARTER, Accounts, World, flag_of


@dataclass(frozen=True)
class Sales:
    """The week's purchases of the `accounts`, and each unit's split along the channel."""

    accounts: Accounts
    choice: NDArray  # channel codes
    revenue: NDArray  # what each customer paid the company's channels (0 if not ours)
    units: NDArray  # units bought from the company's channels (0 if not ours)
    company: NDArray  # per unit: what the company invoiced
    general_agent: NDArray  # per unit: the general agent's margin after its own costs
    dealer: NDArray  # per unit: the dealer's margin after its own costs
    dealer_cost: NDArray  # per unit: what the dealer paid
    general_agent_costs: NDArray  # per unit: the general agent's own cost
    dealer_costs: NDArray  # per unit: the dealer's own cost

    @property
    def idx(self) -> NDArray:
        return self.accounts.idx

    @property
    def by_dealer(self) -> NDArray[np.bool_]:
        return self.choice == DEALER


def book(
    world: World,
    accounts: Accounts,
    week: int,
    choice: NDArray,
    prices: NDArray,
    erosion: NDArray,
    conflict: NDArray,
    assisted: NDArray,
    capture_draw: NDArray,
    claim_noise: NDArray,
    w: dict,
) -> None:
    """Book the choices of the `accounts` (channel codes in `choice`) at `prices`."""
    idx, volume = accounts.idx, accounts.volume
    ours = is_ours(choice)
    price = prices[np.arange(idx.size), choice]
    by_dealer = choice == DEALER
    company_price = np.where(by_dealer, world.prices.company_to_general_agent, price)
    dealer_cost = np.where(by_dealer, world.prices.general_agent_to_dealer, price)
    sc = world.scenario
    ga_unit_cost = 0.0 if sc.flattened else sc.general_agents.unit_cost
    company, general_agent, dealer_margin, ga_costs, dealer_costs = pricing.money_split(
        price,
        company_price,
        dealer_cost,
        np.where(by_dealer, ga_unit_cost, 0.0),
        np.where(by_dealer, sc.dealers.unit_cost, 0.0),
    )
    sales = Sales(
        accounts=accounts,
        choice=choice,
        revenue=np.where(ours, price * volume, 0.0),
        units=np.where(ours, volume, 0.0),
        company=company,
        general_agent=general_agent,
        dealer=dealer_margin,
        dealer_cost=dealer_cost,
        general_agent_costs=ga_costs,
        dealer_costs=dealer_costs,
    )
    record_sales(world, sales, volume, w)
    w["conflicts"] += conflict.sum()
    w["conflict_price_erosion"] += erosion[ours].sum()
    # Conflicts the rep won: sales and the channel's normal unit margin that moved to reps.
    won_by_rep = conflict & (choice == REP)
    w["conflict_revenue_to_reps"] += sales.revenue[won_by_rep].sum()
    w["conflict_customers_to_reps"] += won_by_rep.sum()
    channel_unit_margin = world.prices.dealer_to_customer - world.prices.company_to_general_agent
    w["conflict_margin_to_reps"] += sales.units[won_by_rep].sum() * channel_unit_margin
    w["assisted_sales"] += (assisted & by_dealer).sum()
    pay_channel(world, sales, week)
    update_customers(world, sales, capture_draw, w)
    if world.scenario.insurance.enabled:
        book_claims(world, idx, ours, sales.revenue, claim_noise, w)


def record_sales(world: World, sales: Sales, volume: NDArray, w: dict) -> None:
    """The week's money and units: who was paid what, revenue by channel."""
    sc, units, revenue = world.scenario, sales.units, sales.revenue
    w["revenue"] += revenue.sum()
    w["company_revenue"] += (sales.company * units).sum()
    w["ga_margin"] += (sales.general_agent * units).sum()
    w["dealer_margin"] += (sales.dealer * units).sum()
    w["ga_unit_costs"] += (sales.general_agent_costs * units).sum()
    w["dealer_unit_costs"] += (sales.dealer_costs * units).sum()
    w["units"] += units.sum()
    w["units_market"] += volume.sum()
    w["cost_of_goods"] += units.sum() * sc.pricing.unit_cost
    w["revenue_list"] += (units * world.decisions.list_price).sum()
    for code, name in (
        (DEALER, "dealer"),
        (REP, "direct"),
        (ONLINE, "online"),
        (TELESALES, "telesales"),
    ):
        w[f"revenue_{name}"] += revenue[sales.choice == code].sum()
    w["online_cost"] += sc.online.cost_per_order * (sales.choice == ONLINE).sum()


def pay_channel(world: World, sales: Sales, week: int) -> None:
    """Dealers' and general agents' margins and purchases; the reps' credit and commission."""
    d, units, by_dealer = world.dealers, sales.units, sales.by_dealer
    if d.region.size and by_dealer.any():
        dd = sales.accounts.dealer[by_dealer]
        np.add.at(d.profit_window[:, week % QUARTER], dd, (sales.dealer * units)[by_dealer])
        np.add.at(d.purchases_qtd, dd, (sales.dealer_cost * units)[by_dealer])
        company_margin = (sales.company - world.scenario.pricing.unit_cost) * units
        np.add.at(d.company_margin_window[:, week % QUARTER], dd, company_margin[by_dealer])
        ga = d.general_agent[dd]
        has_ga = ga >= 0
        np.add.at(
            world.general_agent_margin,
            ga[has_ga],
            (sales.general_agent * units)[by_dealer][has_ga],
        )
        np.add.at(
            world.general_agent_purchases_qtd,
            ga[has_ga],
            (sales.company * units)[by_dealer][has_ga],
        )
    slot = sales.accounts.rep_slot
    has_rep = flag_of(world.reps.occupied, slot)
    direct = has_rep & (sales.choice == REP)
    credit_reps(world, slot, direct, sales.revenue, units, direct=True)
    credit_reps(world, slot, has_rep & by_dealer, sales.revenue, units, direct=False)


def update_customers(world: World, sales: Sales, capture_draw: NDArray, w: dict) -> None:
    """Incumbents, CRM records and rep ties after the purchases; new, repeat and lost buyers."""
    sc, pop, st, idx, choice = (
        world.scenario,
        world.population,
        world.state,
        sales.idx,
        sales.choice,
    )
    ours = is_ours(choice)
    was_ours = is_ours(pop.incumbent[idx])
    bought_before = pop.bought_before[idx]
    repeat_eligible = bought_before & was_ours
    w["new_customers"] += (ours & ~bought_before).sum()
    w["repeat_purchases"] += (ours & repeat_eligible).sum()
    w["repeat_eligible"] += repeat_eligible.sum()
    w["churned_customers"] += (~ours & was_ours).sum()
    w["idle_customers"] += (repeat_eligible & ~st.contacted[idx]).sum()
    # The chance that a sale through each channel puts the customer in the CRM.
    capture = np.zeros(len(CHANNELS))
    capture[[REP, DEALER, ONLINE, TELESALES]] = sc.reps.crm_capture, sc.dealers.crm_share, 1, 1
    st.crm[idx] |= ours & (capture_draw < capture[choice])
    st.tied[idx] = choice == REP
    pop.bought_before[idx] = bought_before | ours
    pop.incumbent[idx] = np.where(
        ours, choice, np.where(choice == COMPETITOR, COMPETITOR, NO_ONE)
    ).astype(np.int8)


def credit_reps(
    world: World, slot: NDArray, mask: NDArray, revenue: NDArray, units: NDArray, direct: bool
) -> None:
    """Credit sales to the reps' quotas and earn their commission (overlay on dealer sales).

    The commission is added to the week's pay, which `reps.pay` pays out.
    """
    if not mask.any():
        return
    sc, reps = world.scenario, world.reps
    s = slot[mask]
    credit = np.bincount(s, weights=revenue[mask], minlength=reps.region.size)
    reps.credit_qtd += credit
    if direct:
        base = pay_rules.commission_base(
            sc.reps.commission.basis, revenue[mask], sc.pricing.unit_cost, units[mask]
        )
        rate = sc.reps.commission.rate
        reps.base_qtd += np.bincount(s, weights=base, minlength=reps.region.size)
        reps.direct_credit_qtd += credit
    else:
        base = revenue[mask]
        rate = sc.reps.commission.overlay_rate
    attained = pay_rules.attainment(reps.credit_qtd[s], reps.quota[s])
    earned = pay_rules.commission(base, rate, attained, sc.reps.commission.tiers)
    reps.pay_week += np.bincount(s, weights=earned, minlength=reps.region.size)


def book_claims(
    world: World, idx: NDArray, ours: NDArray, revenue: NDArray, claim_noise: NDArray, w: dict
) -> None:
    """Insurance: premium and claims per customer; flag accounts above the loss-ratio limit."""
    st, sc = world.state, world.scenario
    claims = np.where(ours, revenue * world.population.risk[idx] * claim_noise, 0.0)
    st.premium[idx] += revenue
    st.claims[idx] += claims
    w["claims"] += claims.sum()
    w["premium"] += revenue.sum()
    ratio = st.claims[idx] / np.maximum(st.premium[idx], 1e-12)
    st.flagged[idx] = (st.premium[idx] > 0) & (ratio > sc.insurance.loss_ratio_threshold)
