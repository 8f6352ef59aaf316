"""The rep force's weekly stages: visits and the sales pipeline, quotas and pay, turnover.

Commission is earned when a sale is booked (booking.py); here reps are paid their salary,
commission and quota bonus each week, and quit or are hired.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from channelsim.model import sales_management
from channelsim.model.channels import COMPETITOR, DEALER, REP
from channelsim.model.rules import commission as pay_rules
from channelsim.model.rules import engagement, salesforce
from channelsim.model.state import (
    QUARTER,
    Accounts,
    World,
    declined,
    flag_of,
    keeps_first_contact,
)

# Weight of a rep's previous productivity estimate, in visits (one a week for a quarter).
PRIOR_VISITS = float(QUARTER)


def seller_capacity(world: World) -> NDArray[np.float64]:
    """Visits each rep slot makes this week (ramping up with tenure; 0 when vacant).

    Fixed effort: reps.capacity. Incentive effort: the rep's chosen effort, with the
    fraction of a visit carried over to the next week, so that visits average the effort.
    Call once a week.
    """
    reps, sc = world.reps, world.scenario
    productive = salesforce.ramp(reps.tenure, sc.reps.attrition.ramp_weeks)
    if sc.reps.effort.model == "fixed":
        return np.floor(sc.reps.capacity * productive) * reps.occupied
    wanted = reps.effort_done + reps.effort * productive * reps.occupied
    visits = np.floor(wanted + 1e-9)
    reps.effort_done = np.maximum(wanted - visits, 0.0)
    return visits


def plan_effort(world: World, week: int) -> None:
    """At the start of each quarter, reps whose effort follows their pay choose it.

    Productivity h (commission base per visit) and g (credited revenue per visit) are
    re-estimated from the last quarter's visits and sales; effort maximises expected pay
    minus its cost (`salesforce.choose_effort`); with `participation` the salary is set so
    that the rep's certainty equivalent is its market pay. Equations: docs/model.md.
    """
    reps, sc = world.reps, world.scenario
    cfg = sc.reps.effort
    if cfg.model == "fixed" or reps.region.size == 0 or week % QUARTER != 0:
        return
    if week == 0:
        reps.productivity[:], reps.credit_per_visit[:] = initial_productivity(world)
    else:
        # The last estimate counts as PRIOR_VISITS visits' worth of evidence, so a quarter
        # with few visits (or none) moves it little and never drives it to zero at once.
        visits = reps.visits_qtd + PRIOR_VISITS
        reps.productivity = (reps.base_qtd + PRIOR_VISITS * reps.productivity) / visits
        reps.credit_per_visit = (
            reps.direct_credit_qtd + PRIOR_VISITS * reps.credit_per_visit
        ) / visits
    reps.visits_qtd[:] = 0.0
    reps.base_qtd[:] = 0.0
    reps.direct_credit_qtd[:] = 0.0
    pay = sc.reps.commission
    rate = np.full(reps.region.size, pay.rate)
    reps.effort = (
        salesforce.choose_effort(
            rate,
            reps.productivity,
            reps.credit_per_visit,
            reps.quota,
            pay.tiers,
            pay.quota_bonus,
            np.full(reps.region.size, np.sqrt(QUARTER) * cfg.sales_noise),
            cfg.cost,
            np.full(reps.region.size, sc.reps.capacity),
        )
        * ~reps.is_manager
    )
    if cfg.participation:
        reps.salary = salesforce.participation_salary(
            sc.reps.attrition.market_pay,
            rate,
            reps.productivity * reps.effort,
            reps.effort,
            cfg.cost,
            cfg.risk_aversion,
            cfg.sales_noise,
        )


def initial_productivity(world: World) -> tuple[NDArray, NDArray]:
    """h and g before anything is measured: one purchase by the rep's average account.

    h: its commission base at the rep's price (or reps.effort.initial_productivity);
    g: its revenue.
    """
    reps, sc, st = world.reps, world.scenario, world.state
    n = reps.region.size
    mine = st.rep_slot >= 0
    slot = st.rep_slot[mine]
    volume = world.population.volume[mine]
    accounts = np.bincount(slot, minlength=n)
    mean_volume = np.bincount(slot, weights=volume, minlength=n) / np.maximum(accounts, 1)
    price = world.prices.direct
    base = pay_rules.commission_base(sc.reps.commission.basis, price, sc.pricing.unit_cost, 1.0)
    h = mean_volume * float(base)
    if sc.reps.effort.initial_productivity is not None:
        h = np.full(n, sc.reps.effort.initial_productivity)
    return h, mean_volume * price


def visit(world: World, market: Accounts, week: int, w: dict) -> NDArray:
    """Sellers visit the in-market customers they know, best first, up to their capacity.

    A visit advances a multi-stage deal one stage with a probability that grows with the
    rep's tenure (and skill); a customer whose deal has passed every stage can be quoted by
    the rep. Returns the customers visited, grouped by rep, each rep's best first.
    """
    none = np.zeros(0, np.int64)
    if not world.reps_sell or world.reps.region.size == 0:
        return none
    st, seg, sc = world.state, world.segments, world.scenario
    rng = world.streams.sales
    cand = candidates(world, market, week)
    capacity = seller_capacity(world) + sales_management.manager_visits(world)
    if cand.size == 0:
        return none
    # Reps see first the customers that earn them the most commission, their own ones twice.
    price = world.prices.direct
    if sc.reps.effort.model == "incentive" and sc.insurance.enabled:
        # A rep whose effort follows its pay weighs each account by what a sale there pays
        # it: surcharged accounts pay more (on margin pay, more than in proportion).
        reprice = sc.insurance.action == "reprice"
        flagged = st.flagged[cand.idx]
        price = price * np.where(flagged & reprice, 1.0 + sc.insurance.surcharge, 1.0)
    unit = pay_rules.commission_base(sc.reps.commission.basis, price, sc.pricing.unit_cost, 1.0)
    priority = cand.volume * unit * (1.0 + st.tied[cand.idx])
    jitter = rng.random(cand.size)
    picked = salesforce.best_first(cand.rep_slot, priority, jitter, capacity)
    visited, slots = cand.idx[picked], cand.rep_slot[picked]
    if visited.size == 0:
        return visited
    w["rep_visits"] += float(visited.size)
    world.reps.visits_qtd += np.bincount(slots, minlength=world.reps.region.size).astype(float)
    st.contacted[visited] = True
    if keeps_first_contact(world):
        st.rep_first[visited] = np.minimum(st.rep_first[visited], week)
    stages = seg.stages[cand.segment[picked]]
    multi = stages > 1
    skill = salesforce.ramp(world.reps.tenure[slots], sc.reps.attrition.ramp_weeks)
    skill = skill * sales_management.advance_factor(world, slots)
    advance = rng.random(visited.size) < sc.reps.pipeline.advance_prob * skill
    advance |= ~multi
    stage = np.minimum(st.stage[visited] + advance, stages)
    st.stage[visited] = stage
    st.rep_ready[visited] = stage >= stages
    w["pipeline_visits"] += float(multi.sum())
    w["pipeline_advances"] += float((advance & multi).sum())
    return visited


def candidates(world: World, market: Accounts, week: int) -> Accounts:
    """In-market customers a seller in post may visit: not yet ready to quote, and, for a
    large account, known to the rep and allowed by the rules of engagement.

    Draws one prospecting number per in-market customer.
    """
    st, seg, sc = world.state, world.segments, world.scenario
    in_market, reps = market.idx, world.reps
    ok = flag_of(reps.occupied & ~reps.is_manager, market.rep_slot)
    ok &= ~st.rep_ready[in_market]
    ok &= ~declined(world, in_market)
    large = seg.large[market.segment]
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
    return market.subset(ok)


def set_quotas(world: World, list_price: float) -> None:
    """Next quarter's quotas, from territory potential at the current list price."""
    reps, sc = world.reps, world.scenario
    n = reps.region.size
    if n == 0:
        return
    territory = world.territories.potential(world.population, world.segments, list_price)
    noise = world.streams.people.standard_normal(n) * sc.reps.quota.noise
    if sc.reps.quota.method == "data_driven":
        quota = salesforce.data_driven_quota(territory, sc.reps.quota.target_share)
        reps.quota = sales_management.blend_quota(world, quota)
    else:
        reps.quota = salesforce.negotiated_quota(
            territory.sum() * sc.reps.quota.target_share, n, noise, sc.reps.quota.haggling_bias
        )


def pay(world: World, week: int, w: dict) -> None:
    """Pay the week's salary and earned commission; at quarter end the bonus and new quotas."""
    reps, sc = world.reps, world.scenario
    if reps.region.size == 0:
        return
    reps.pay_week += reps.salary * reps.occupied
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
        reps.pay_average / sales_management.outside_pay(world),
        reps.attainment_last,
        att.pay_sensitivity,
        att.attainment_sensitivity,
    ) * sales_management.quit_factor(world)
    quits = reps.occupied & ~hired & (draw < hazard)
    if not quits.any():
        return
    reps.occupied &= ~quits
    reps.vacancy = np.where(quits, att.hiring_delay_weeks, reps.vacancy)
    world.rep_quits += int(quits.sum())
    w["rep_quits"] += quits.sum()
    affected = world.territories.customers(np.flatnonzero(quits))
    tied = affected[st.tied[affected]]
    leaving = tied[~st.crm[tied] & (pop.incumbent[tied] == REP)]
    w["customers_lost_rep_departure"] += leaving.size
    pop.incumbent[leaving] = COMPETITOR
    st.tied[affected] = False
    st.stage[affected] = 0
    st.rep_ready[affected] = False
