"""The sales-management stage: rep skill and its learning curve, coaching on joint field
visits, training, career paths, quarterly forecasts and team meetings (docs/model.md,
3.14-3.15).

`ChannelModel.step` calls `plan` before the reps' visits, `coach` after them, `review` after
the week's decisions (before pay) and `people` after turnover. The small hooks below
(`manager_visits`, `advance_factor`, `rep_offer_value`, `outside_pay`, `quit_factor`,
`blend_quota`) are how skill and coaching reach the other stages; each returns a neutral
scalar (or nothing) when its mechanism is off, so neutral settings change no result.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from channelsim.model.rules import forecast as forecasts
from channelsim.model.rules import skill as skills
from channelsim.model.state import QUARTER, Management, RepForce, World
from channelsim.scenario.schema import Scenario


def build(
    scenario: Scenario, reps: RepForce, customers: int, regions: int, rng: np.random.Generator
) -> Management:
    """Skills of the reps in post at the start: uniform on reps.skill.initial."""
    n = reps.region.size
    low, high = scenario.reps.skill.initial
    return Management(
        skill=low + (high - low) * rng.random(n),
        level=np.zeros(n, np.int32),
        since_promotion=np.full(n, 52, np.int32),
        in_post=reps.occupied.copy(),
        regions=regions,
        coach_plan=np.zeros(n, np.int64),
        coached_week=np.zeros(n),
        manager_visits=np.zeros(n),
        forecast=np.zeros(n),
        forecast_valid=np.zeros(n, bool),
        pipeline_then=np.zeros(n),
        coached=np.zeros(customers, bool),
    )


def sellers_in_post(world: World) -> NDArray[np.bool_]:
    reps = world.reps
    return reps.occupied & ~reps.is_manager & world.reps_sell


# --- the stage ---------------------------------------------------------------------------


def plan(world: World, week: int, w: dict) -> None:
    """Start of the week: career pay steps, the quarter's training (and first forecast),
    the managers' cost, and who gets this week's joint visits."""
    sc, reps, m = world.scenario, world.reps, world.management
    cfg = sc.sales_management
    if reps.region.size == 0:
        return
    selling = sellers_in_post(world)
    if cfg.career.enabled:
        step_pay = m.level * cfg.career.pay_step * reps.occupied
        reps.pay_week += step_pay
        w["career_pay"] += step_pay.sum()
    if week % QUARTER == 0:
        if week == 0:
            make_forecasts(world, week, np.zeros(reps.region.size, bool))
        if cfg.training.budget_per_rep > 0:
            share = skills.training_share(cfg.training.budget_per_rep, cfg.training.gain_per_1000)
            ceiling = sc.reps.skill.ceiling
            m.skill = np.where(selling, skills.close_gap(m.skill, ceiling, share), m.skill)
            w["training_cost"] += cfg.training.budget_per_rep * selling.sum()
    m.coached_week[:] = 0.0
    if cfg.managers == 0:
        return
    w["management_cost"] += cfg.managers * cfg.manager_salary
    # The managers are one pool that travels to every region.
    field = cfg.managers * cfg.manager_capacity * (1.0 - cfg.admin_share)
    pool = np.zeros(reps.region.size, np.int64)
    m.coach_plan = skills.allocate_coaching(
        m.skill, pool, selling, np.array([field]), cfg.coaching.joint_visits_per_rep
    )
    own = np.floor((field - m.coach_plan.sum()) / max(int(selling.sum()), 1))
    m.manager_visits = np.where(selling & cfg.manager_sells, own, 0.0)


def coach(world: World, visited: NDArray, w: dict) -> None:
    """A manager joins each rep's first visits of the week, up to the rep's joint visits."""
    m = world.management
    if world.scenario.sales_management.managers == 0 or visited.size == 0:
        return
    slot = world.state.rep_slot[visited]
    order = np.argsort(slot, kind="stable")
    sorted_slot = slot[order]
    rank = np.arange(order.size) - np.searchsorted(sorted_slot, sorted_slot, side="left")
    joint = visited[order[rank < m.coach_plan[sorted_slot]]]
    m.coached[joint] = True
    m.coached_week += np.bincount(world.state.rep_slot[joint], minlength=m.skill.size)
    w["coached_visits"] += float(joint.size)


def review(world: World, week: int, deciding: NDArray, w: dict) -> None:
    """After the week's decisions: closed windows forget their joint visits; at quarter end
    the forecasts are scored against credited sales and next quarter's are made."""
    m, reps = world.management, world.reps
    if world.scenario.sales_management.managers > 0:  # no managers: no joint visits to forget
        m.coached[deciding] = False
    if reps.region.size == 0 or week % QUARTER != QUARTER - 1:
        return
    scored = m.forecast_valid & reps.occupied
    realised = reps.credit_qtd[scored]
    errors = forecasts.absolute_percentage_errors(m.forecast[scored], realised)
    w["forecast_errors"] += errors.sum()
    w["forecasts_scored"] += float(errors.size)
    w["forecast_total"] += m.forecast[scored].sum()
    w["forecast_realised"] += realised.sum()
    make_forecasts(world, week, scored)


def make_forecasts(world: World, week: int, has_run_rate: NDArray[np.bool_]) -> None:
    """Each seller in post forecasts next quarter's credited sales (rules/forecast.py):
    last quarter's sales (its quota if it has no full quarter), plus what its stage-weighted
    pipeline gained since its last forecast, biased and with an error that shrinks with
    skill."""
    sc, reps, m = world.scenario, world.reps, world.management
    cfg = sc.sales_management.forecasts
    n = reps.region.size
    z = world.streams.management.standard_normal(n)
    now = pipeline_value(world, week)
    run_rate = np.where(has_run_rate, reps.credit_qtd, reps.quota)
    then = np.where(has_run_rate, m.pipeline_then, now)
    bias = forecasts.bias(sc.reps.quota.method, cfg.sandbagging, cfg.optimism)
    m.forecast = forecasts.forecast(run_rate, then, now, bias, cfg.noise * (1.0 - m.skill), z)
    m.pipeline_then = now
    m.forecast_valid = sellers_in_post(world)


def pipeline_value(world: World, week: int) -> NDArray[np.float64]:
    """Each rep's open multi-stage deals, weighted by how far they have come:
    sum of volume x the rep's price x stage / stages."""
    pop, st, seg = world.population, world.state, world.segments
    stages = seg.stages[pop.segment]
    open_deal = (st.stage > 0) & (stages > 1) & (st.rep_slot >= 0) & (pop.due <= week)
    i = np.flatnonzero(open_deal)
    worth = pop.volume[i] * world.prices.direct * st.stage[i] / stages[i]
    return np.bincount(st.rep_slot[i], weights=worth, minlength=world.reps.region.size)


def people(world: World, week: int, w: dict) -> None:
    """After turnover: departing reps take their skill (counted by skill), new hires start
    low, reps learn (more when coached), promotions at quarter end, team meetings."""
    sc, reps, m = world.scenario, world.reps, world.management
    if reps.region.size == 0:
        return
    cfg, sk = sc.sales_management, sc.reps.skill
    quits = m.in_post & ~reps.occupied
    hires = ~m.in_post & reps.occupied
    w["rep_quits_high_skill"] += float((quits & (m.skill >= sk.high)).sum())
    m.forecast_valid &= ~quits & ~hires
    m.skill = np.where(hires, sk.new_hire, m.skill)
    m.level = np.where(hires, 0, m.level)
    m.since_promotion = np.where(hires, 0, m.since_promotion)
    learning = reps.occupied & ~hires
    learned = skills.learn(
        m.skill, sk.ceiling, sk.learning_rate, m.coached_week, cfg.coaching.skill_gain
    )
    m.skill = np.where(learning, learned, m.skill)
    if cfg.career.enabled and week % QUARTER == QUARTER - 1:
        promoted = (
            learning
            & ~reps.is_manager
            & (m.since_promotion >= cfg.career.tenure_weeks)
            & (reps.attainment_last >= cfg.career.attainment)
            & (m.level < cfg.career.levels)
        )
        m.level = m.level + promoted
        m.since_promotion = np.where(promoted, 0, m.since_promotion)
        w["promotions"] += float(promoted.sum())
    m.since_promotion = m.since_promotion + learning
    selling = sellers_in_post(world)
    if cfg.sharing.rate > 0 and (week + 1) % cfg.sharing.meeting_weeks == 0:
        best = skills.region_best(m.skill, reps.region, selling, m.regions)
        target = np.where(selling, best[reps.region], m.skill)
        m.skill = np.where(selling, skills.close_gap(m.skill, target, cfg.sharing.rate), m.skill)
    # No sellers: no mean skill ("-"), not the skill of a novice (0).
    w["rep_skill_mean"] = float(m.skill[selling].mean()) if selling.any() else float("nan")
    w["reps_high_skill"] = float((reps.occupied & (m.skill >= sk.high)).sum())
    m.in_post = reps.occupied.copy()


# --- hooks the other stages call -----------------------------------------------------------


def manager_visits(world: World) -> float | NDArray[np.float64]:
    """Extra visits this week from the managers' own selling time (0 without managers)."""
    if world.scenario.sales_management.managers == 0:
        return 0.0
    return world.management.manager_visits


def advance_factor(world: World, slots: NDArray) -> float | NDArray[np.float64]:
    """Factor on the pipeline advance chance of the reps `slots` (1 when skill is neutral)."""
    sk = world.scenario.reps.skill
    if sk.advance_per_skill == 0:
        return 1.0
    return skills.advance_factor(world.management.skill[slots], sk.reference, sk.advance_per_skill)


def rep_offer_value(world: World, idx: NDArray) -> NDArray[np.float64] | None:
    """Money per unit the rep's offer to each customer `idx` is worth beyond an average
    rep's: its skill, and a joint visit in this window. None when both are neutral."""
    sc, m = world.scenario, world.management
    sk, coaching = sc.reps.skill, sc.sales_management.coaching
    by_skill = sk.value_per_skill > 0
    by_visit = sc.sales_management.managers > 0 and coaching.visit_value > 0
    if not (by_skill or by_visit):
        return None
    value = np.zeros(idx.size)
    if by_skill:
        slot = world.state.rep_slot[idx]
        rep_skill = np.where(slot >= 0, m.skill[np.maximum(slot, 0)], sk.reference)
        value += skills.offer_value(rep_skill, sk.reference, sk.value_per_skill)
    if by_visit:
        value += coaching.visit_value * m.coached[idx]
    return value


def outside_pay(world: World) -> float | NDArray[np.float64]:
    """What each rep could earn elsewhere (attrition.market_pay when skill is neutral)."""
    sc = world.scenario
    market = max(sc.reps.attrition.market_pay, 1e-9)
    sk = sc.reps.skill
    if sk.outside_pay_per_skill == 0:
        return market
    pay = skills.outside_pay(market, world.management.skill, sk.reference, sk.outside_pay_per_skill)
    return np.maximum(pay, 1e-9)


def quit_factor(world: World) -> float | NDArray[np.float64]:
    """Factor on each rep's quit hazard: lower for reps who see a promotion ahead."""
    career = world.scenario.sales_management.career
    if not career.enabled:
        return 1.0
    m, reps = world.management, world.reps
    ahead = (m.level < career.levels) & (
        reps.attainment_last >= career.visible_from * career.attainment
    )
    return np.where(ahead, career.quit_hazard_factor, 1.0)


def blend_quota(world: World, quota: NDArray[np.float64]) -> NDArray[np.float64]:
    """Data-driven quotas that listen to the reps' forecasts (unchanged at weight 0)."""
    weight = world.scenario.sales_management.forecasts.quota_weight
    m = world.management
    if weight == 0:
        return quota
    return np.where(m.forecast_valid, forecasts.blend_quota(quota, m.forecast, weight), quota)
