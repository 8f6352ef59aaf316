"""Booking a week's purchases: the money split along the channel, commissions, the customers'
new state, and insurance claims.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from channelsim.model.market import (
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
from channelsim.model.state import QUARTER, World


def book(
    world: World,
    idx: NDArray,
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
    """Book the choices of the customers `idx` (channel codes in `choice`) at `prices`."""
    sc, pop, st, seg = world.scenario, world.population, world.state, world.segments
    s = pop.segment[idx]
    volume = seg.volume[s]
    ours = is_ours(choice)
    price = prices[np.arange(idx.size), choice]
    revenue = np.where(ours, price * volume, 0.0)
    units = np.where(ours, volume, 0.0)
    by_dealer = choice == DEALER

    company_price = np.where(by_dealer, world.prices.company_to_general_agent, price)
    dealer_cost = np.where(by_dealer, world.prices.general_agent_to_dealer, price)
    company, general_agent, dealer_margin = pricing.money_split(price, company_price, dealer_cost)
    w["revenue"] += revenue.sum()
    w["company_revenue"] += (company * units).sum()
    w["ga_margin"] += (general_agent * units).sum()
    w["dealer_margin"] += (dealer_margin * units).sum()
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
        w[f"revenue_{name}"] += revenue[choice == code].sum()
    w["online_cost"] += sc.online.cost_per_order * (choice == ONLINE).sum()
    w["conflicts"] += conflict.sum()
    w["conflict_price_erosion"] += erosion[ours].sum()
    w["assisted_sales"] += (assisted & by_dealer).sum()

    # Who gets paid what.
    d = world.dealers
    dealer = st.dealer[idx]
    if d.region.size and by_dealer.any():
        dd = dealer[by_dealer]
        np.add.at(d.profit_window[:, week % QUARTER], dd, (dealer_margin * units)[by_dealer])
        np.add.at(d.purchases_qtd, dd, (dealer_cost * units)[by_dealer])
        ga = d.general_agent[dd]
        has_ga = ga >= 0
        np.add.at(
            world.general_agent_margin, ga[has_ga], (general_agent * units)[by_dealer][has_ga]
        )
        np.add.at(
            world.general_agent_purchases_qtd, ga[has_ga], (company * units)[by_dealer][has_ga]
        )
    slot = st.rep_slot[idx]
    has_rep = slot >= 0
    has_rep[has_rep] &= world.reps.occupied[slot[has_rep]]
    credit_reps(world, slot, has_rep & (choice == REP), revenue, units, direct=True)
    credit_reps(world, slot, has_rep & by_dealer, revenue, units, direct=False)

    # Customers' new state.
    was_ours = is_ours(pop.incumbent[idx])
    repeat_eligible = pop.bought_before[idx] & was_ours
    w["new_customers"] += (ours & ~pop.bought_before[idx]).sum()
    w["repeat_purchases"] += (ours & repeat_eligible).sum()
    w["repeat_eligible"] += repeat_eligible.sum()
    w["churned_customers"] += (~ours & was_ours).sum()
    w["idle_customers"] += (repeat_eligible & ~st.contacted[idx]).sum()
    capture = np.select(
        [choice == REP, by_dealer, (choice == ONLINE) | (choice == TELESALES)],
        [sc.reps.crm_capture, sc.dealers.crm_share, 1.0],
        0.0,
    )
    st.crm[idx] |= ours & (capture_draw < capture)
    st.tied[idx] = choice == REP
    pop.bought_before[idx] |= ours
    pop.incumbent[idx] = np.where(
        ours, choice, np.where(choice == COMPETITOR, COMPETITOR, NO_ONE)
    ).astype(np.int8)

    if sc.insurance.enabled:
        book_claims(world, idx, ours, revenue, claim_noise, w)


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
