"""The dealer network's weekly stages: channel-manager support, reach, effort, costs and
rebates, dissatisfaction, and dealers leaving and being replaced.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from channelsim.model.market import DEALER, NO_ONE
from channelsim.model.rules import dealers as dealer_rules
from channelsim.model.rules import salesforce
from channelsim.model.state import (
    QUARTER,
    Accounts,
    World,
    assign_within_region,
    declined,
    flag_of,
    keeps_first_contact,
)


def channel_support(world: World) -> NDArray[np.float64]:
    """Share of full channel-manager support each dealer gets this week."""
    d, reps = world.dealers, world.reps
    if d.region.size == 0:
        return np.zeros(0)
    sc = world.scenario
    regions = len(world.region_names)
    managers = reps.occupied & reps.is_manager
    productive = salesforce.ramp(reps.tenure, sc.reps.attrition.ramp_weeks)
    visits = np.bincount(
        reps.region, weights=sc.reps.capacity * productive * managers, minlength=regions
    )
    active = np.bincount(d.region, weights=d.active, minlength=regions)
    per_dealer = visits / np.maximum(active, 1) / sc.reps.support.visits_per_dealer
    return np.minimum(1.0, per_dealer[d.region]) * d.active


def reach(world: World, market: Accounts, week: int, support: NDArray) -> None:
    """Active dealers reach their in-market customers with a chance set by effort and support.

    A dealer's own customers are reached at least at the relationship rate.
    """
    in_market = market.idx
    draw = world.streams.reach.random(in_market.size)
    if not world.uses_dealers or world.dealers.region.size == 0:
        return
    st, sc, d = world.state, world.scenario, world.dealers
    has = flag_of(d.active, market.dealer)
    has &= ~declined(world, in_market)
    idx = np.compress(has, market.dealer)
    weekly = np.minimum(
        1.0,
        sc.dealers.reach * d.effort[idx] * (1.0 + sc.reps.support.reach_boost * support[idx]),
    )
    served = np.compress(has, in_market)
    own = world.population.incumbent[served] == DEALER
    weekly = np.where(own, np.maximum(weekly, sc.dealers.relationship_reach), weekly)
    hit = served[np.compress(has, draw) < weekly]
    st.dealer_reached[hit] = True
    st.contacted[hit] = True
    if keeps_first_contact(world):
        st.dealer_first[hit] = np.minimum(st.dealer_first[hit], week)


def update_effort(world: World, markup: float) -> None:
    """Effort of every dealer at this markup and its current dissatisfaction (0 if inactive)."""
    cfg, d = world.scenario.dealers, world.dealers
    d.effort = (
        dealer_rules.dealer_effort(
            cfg.effort_base,
            markup,
            cfg.reference_margin,
            cfg.effort_margin_elasticity,
            d.dissatisfaction,
        )
        * d.active
    )


def weekly_dynamics(world: World, week: int, w: dict) -> None:
    """Costs, quarterly rebates, profit, dissatisfaction, exits, arrivals and new effort."""
    cfg, d = world.scenario.dealers, world.dealers
    if d.region.size == 0:
        return
    col = week % QUARTER
    costs = (cfg.fixed_cost + cfg.effort_cost * d.effort) * d.active
    d.profit_window[:, col] -= costs
    w["dealer_costs"] += costs.sum()
    if week % QUARTER == QUARTER - 1:
        pay_rebates(world, week, w)
    d.profit_total += d.profit_window[:, col]
    w["dealer_profit"] += d.profit_window[:, col].sum()
    d.dissatisfaction = (
        dealer_rules.update_dissatisfaction(
            d.dissatisfaction,
            d.conflicts_lost,
            cfg.conflict_sensitivity,
            cfg.dissatisfaction_recovery,
        )
        * d.active
    )
    w["conflicts_lost_by_dealers"] += d.conflicts_lost.sum()
    d.conflicts_lost[:] = 0.0
    if cfg.exit.enabled and week >= QUARTER - 1:
        trailing = d.profit_window.sum(axis=1)
        d.strikes = (
            dealer_rules.update_strikes(
                d.strikes, trailing, d.dissatisfaction, cfg.exit.dissatisfaction_threshold
            )
            * d.active
        )
        leaving = d.active & (d.strikes >= cfg.exit.patience_weeks)
        if leaving.any():
            dissatisfied = leaving & (d.dissatisfaction > cfg.exit.dissatisfaction_threshold)
            w["dealers_exited_dissatisfied"] += dissatisfied.sum()
            w["conflict_exit_margin_at_risk"] += margin_at_risk(world, dissatisfied, week)
            leave(world, np.flatnonzero(leaving))
            w["dealers_exited"] += leaving.sum()
    # Replacements arrive after their delay.
    due = ~d.active & (d.replacement == 0)
    d.replacement = np.where(~d.active & (d.replacement > 0), d.replacement - 1, d.replacement)
    if due.any():
        arrive(world, np.flatnonzero(due))
    d.profit_window[:, (week + 1) % QUARTER] = 0.0
    d.company_margin_window[:, (week + 1) % QUARTER] = 0.0
    update_effort(world, world.decisions.dealer_markup)


def margin_at_risk(world: World, leaving: NDArray[np.bool_], week: int) -> float:
    """Company margin that flowed through the `leaving` dealers in their last quarter, at that
    weekly rate over the weeks left in the run: what their exit puts at risk (docs/model.md)."""
    sc = world.scenario
    weeks_left = sc.warmup() + sc.weeks - week - 1
    weekly = world.dealers.company_margin_window[leaving].sum() / QUARTER
    return float(weekly * weeks_left)


def pay_rebates(world: World, week: int, w: dict) -> None:
    """Quarterly volume rebates: company to general agents, and to dealers (by their supplier)."""
    sc, d = world.scenario, world.dealers
    col = week % QUARTER
    ga_rebate = sc.general_agents.volume_rebate
    paid = ga_rebate.rate * np.maximum(0.0, world.general_agent_purchases_qtd - ga_rebate.threshold)
    world.general_agent_margin += paid
    w["company_revenue"] -= paid.sum()
    w["ga_margin"] += paid.sum()
    dr = sc.dealers.volume_rebate
    dealer_paid = dr.rate * np.maximum(0.0, d.purchases_qtd - dr.threshold) * d.active
    d.profit_window[:, col] += dealer_paid
    w["dealer_margin"] += dealer_paid.sum()
    if sc.flattened:
        w["company_revenue"] -= dealer_paid.sum()
    else:
        w["ga_margin"] -= dealer_paid.sum()
        np.add.at(world.general_agent_margin, d.general_agent, -dealer_paid)
    world.general_agent_purchases_qtd[:] = 0.0
    d.purchases_qtd[:] = 0.0


def leave(world: World, leaving: NDArray) -> None:
    """Dealers give up; their customers pass to another dealer of the region (if any)."""
    d, st, cfg = world.dealers, world.state, world.scenario.dealers
    pop = world.population
    world.dealers_exited += leaving.size
    d.active[leaving] = False
    d.effort[leaving] = 0.0
    d.replacement[leaving] = cfg.exit.replacement_delay_weeks if cfg.exit.replace else -1
    orphans = np.flatnonzero(np.isin(st.dealer, leaving))
    reassign(world, orphans)
    pop.incumbent[orphans] = np.where(
        pop.incumbent[orphans] == DEALER, NO_ONE, pop.incumbent[orphans]
    )


def arrive(world: World, arriving: NDArray) -> None:
    """Replacement dealers start afresh and take on their region's customers without a dealer."""
    d, st = world.dealers, world.state
    d.active[arriving] = True
    d.dissatisfaction[arriving] = 0.0
    d.strikes[arriving] = 0
    d.profit_window[arriving] = 0.0
    d.company_margin_window[arriving] = 0.0
    d.replacement[arriving] = -1
    regions = d.region[arriving]
    orphans = np.flatnonzero(
        (st.dealer < 0) & np.isin(world.population.region, regions) & world.uses_dealers
    )
    reassign(world, orphans)


def reassign(world: World, customers: NDArray) -> None:
    """Give customers of a departed dealer to another active dealer in their region."""
    d, st = world.dealers, world.state
    active = np.flatnonzero(d.active)
    st.dealer[customers] = assign_within_region(
        world.population.region[customers], d.region[active], world.streams.dealers, active
    )
