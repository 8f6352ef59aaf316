"""The rep force's weekly stages: visits and the sales pipeline, quotas and pay, turnover.

Commission is earned when a sale is booked (booking.py); here reps are paid their salary,
commission and quota bonus each week, and quit or are hired.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from channelsim.model.channels import COMPETITOR, DEALER, REP
from channelsim.model.rules import commission as pay_rules
from channelsim.model.rules import engagement, salesforce
from channelsim.model.state import QUARTER, World, declined, potential


def seller_capacity(world: World) -> NDArray[np.float64]:
    """Visits each rep slot can make this week (ramping up with tenure; 0 when vacant)."""
    reps, sc = world.reps, world.scenario
    productive = salesforce.ramp(reps.tenure, sc.reps.attrition.ramp_weeks)
    return np.floor(sc.reps.capacity * productive) * reps.occupied


def visit(world: World, in_market: NDArray, week: int, w: dict) -> None:
    """Sellers visit the in-market customers they know, best first, up to their capacity.

    A visit advances a multi-stage deal one stage with a probability that grows with the
    rep's tenure; a customer whose deal has passed every stage can be quoted by the rep.
    """
    if not world.reps_sell or world.reps.region.size == 0:
        return
    pop, st, seg, sc = world.population, world.state, world.segments, world.scenario
    rng = world.streams.sales
    cand = candidates(world, in_market, week)
    if cand.size == 0:
        return
    # Reps see first the customers that earn them the most commission, their own ones twice.
    unit = pay_rules.commission_base(
        sc.reps.commission.basis, world.prices.direct, sc.pricing.unit_cost, 1.0
    )
    priority = seg.volume[pop.segment[cand]] * unit * (1.0 + st.tied[cand])
    jitter = rng.random(cand.size)
    cslot = st.rep_slot[cand]
    order = np.lexsort((jitter, -priority, cslot))
    sorted_slot = cslot[order]
    rank = np.arange(order.size) - np.searchsorted(sorted_slot, sorted_slot, side="left")
    visited = cand[order[rank < seller_capacity(world)[sorted_slot]]]
    if visited.size == 0:
        return
    st.contacted[visited] = True
    st.rep_first[visited] = np.minimum(st.rep_first[visited], week)
    stages = seg.stages[pop.segment[visited]]
    multi = stages > 1
    skill = salesforce.ramp(world.reps.tenure[st.rep_slot[visited]], sc.reps.attrition.ramp_weeks)
    advance = rng.random(visited.size) < sc.reps.pipeline.advance_prob * skill
    advance |= ~multi
    st.stage[visited] = np.minimum(st.stage[visited] + advance, stages)
    st.rep_ready[visited] = st.stage[visited] >= stages
    w["pipeline_visits"] += float(multi.sum())
    w["pipeline_advances"] += float((advance & multi).sum())


def candidates(world: World, in_market: NDArray, week: int) -> NDArray:
    """In-market customers a seller in post may visit: not yet ready to quote, and, for a
    large account, known to the rep and allowed by the rules of engagement.

    Draws one prospecting number per in-market customer.
    """
    pop, st, seg, sc = world.population, world.state, world.segments, world.scenario
    slot = st.rep_slot[in_market]
    ok = slot >= 0
    ok[ok] &= world.reps.occupied[slot[ok]] & ~world.reps.is_manager[slot[ok]]
    ok &= ~st.rep_ready[in_market]
    ok &= ~declined(world, in_market)
    large = seg.large[pop.segment[in_market]]
    rule = sc.engagement.large_accounts
    # A rep learns of a large account that is not its own by prospecting, or because
    # the dealer shares it (only the cooperative rules make dealers share).
    discovered = world.streams.sales.random(in_market.size) < sc.reps.prospecting
    shared = rule in engagement.SHARING_RULES and world.uses_dealers
    known = st.tied[in_market] | discovered | (shared & st.dealer_reached[in_market])
    ok &= ~large | known
    if rule == "dealer_only" and world.uses_dealers:
        ok &= ~large
    if rule == "deal_registration":
        held = (st.owner[in_market] == DEALER) & (st.owner_expires[in_market] >= week)
        ok &= ~(large & held)
    return in_market[ok]


def set_quotas(world: World, list_price: float) -> None:
    """Next quarter's quotas, from territory potential at the current list price."""
    reps, sc, st = world.reps, world.scenario, world.state
    n = reps.region.size
    if n == 0:
        return
    territory = np.bincount(
        np.maximum(st.rep_slot, 0),
        weights=potential(world.population, world.segments, list_price) * (st.rep_slot >= 0),
        minlength=n,
    )
    noise = world.streams.people.standard_normal(n) * sc.reps.quota.noise
    if sc.reps.quota.method == "data_driven":
        reps.quota = salesforce.data_driven_quota(territory, sc.reps.quota.target_share)
    else:
        reps.quota = salesforce.negotiated_quota(
            territory.sum() * sc.reps.quota.target_share, n, noise, sc.reps.quota.haggling_bias
        )


def pay(world: World, week: int, w: dict) -> None:
    """Pay the week's salary and earned commission; at quarter end the bonus and new quotas."""
    reps, sc = world.reps, world.scenario
    if reps.region.size == 0:
        return
    reps.pay_week += sc.reps.base_salary * reps.occupied
    if week % QUARTER == QUARTER - 1:
        attained = pay_rules.attainment(reps.credit_qtd, reps.quota)
        reps.pay_week += (
            pay_rules.quota_bonus(attained, sc.reps.commission.quota_bonus) * reps.occupied
        )
        if reps.occupied.any():
            world.quarter_attainments.append(float(attained[reps.occupied].mean()))
        reps.attainment_last = np.where(reps.occupied, attained, reps.attainment_last)
        reps.credit_qtd[:] = 0.0
        set_quotas(world, world.decisions.list_price)
    w["rep_compensation"] += reps.pay_week.sum()
    reps.pay_total += reps.pay_week
    reps.pay_average = np.where(
        reps.occupied, 0.9 * reps.pay_average + 0.1 * reps.pay_week, reps.pay_average
    )
    reps.pay_week[:] = 0.0


def turnover(world: World, w: dict) -> None:
    """Vacancies fill after the hiring delay; reps quit on a hazard of low pay and attainment.

    Customers tied to a departing rep (and not in the CRM) follow the rep to the competitor.
    """
    reps, sc, st, pop = world.reps, world.scenario, world.state, world.population
    n = reps.region.size
    draw = world.streams.people.random(n)
    if n == 0:
        return
    att = sc.reps.attrition
    # Hiring: vacancies fill after the delay; the new rep starts at tenure 0.
    reps.vacancy = np.where(reps.occupied, 0, reps.vacancy - 1)
    hired = ~reps.occupied & (reps.vacancy <= 0)
    reps.occupied |= hired
    reps.tenure = np.where(hired, 0, reps.tenure + reps.occupied)
    reps.pay_average = np.where(hired, att.market_pay, reps.pay_average)
    reps.attainment_last = np.where(hired, 1.0, reps.attainment_last)
    # Quitting.
    hazard = salesforce.quit_probability(
        att.base_rate,
        reps.pay_average / max(att.market_pay, 1e-9),
        reps.attainment_last,
        att.pay_sensitivity,
        att.attainment_sensitivity,
    )
    quits = reps.occupied & ~hired & (draw < hazard)
    if not quits.any():
        return
    reps.occupied &= ~quits
    reps.vacancy = np.where(quits, att.hiring_delay_weeks, reps.vacancy)
    world.rep_quits += int(quits.sum())
    w["rep_quits"] += quits.sum()
    in_slot = np.flatnonzero(st.rep_slot >= 0)
    affected = in_slot[quits[st.rep_slot[in_slot]]]
    tied = affected[st.tied[affected]]
    leaving = tied[~st.crm[tied] & (pop.incumbent[tied] == REP)]
    w["customers_lost_rep_departure"] += leaving.size
    pop.incumbent[leaving] = COMPETITOR
    st.tied[affected] = False
    st.stage[affected] = 0
    st.rep_ready[affected] = False
