"""Purchase decisions at the end of a buying window: who may offer, rules of engagement,
Bertrand conflicts on large accounts, prices and service, and the random-utility choice.
The chosen purchases are booked by booking.py.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from channelsim.model import booking
from channelsim.model.market import (
    CHANNELS,
    COMPETITOR,
    DEALER,
    NONE,
    ONLINE,
    REP,
    TELESALES,
    choose,
    utilities,
)
from channelsim.model.rules import engagement, pricing
from channelsim.model.state import NEVER, World, declined


def decide(world: World, idx: NDArray, week: int, support: NDArray, w: dict) -> None:
    """The customers `idx`, whose buying window ends this week, choose and buy (or not)."""
    rng = world.streams.choice
    sc = world.scenario
    gumbel = rng.gumbel(size=(idx.size, len(CHANNELS)))
    capture_draw = rng.random(idx.size)
    claim_noise = world.streams.claims.gamma(
        sc.insurance.claim_dispersion, 1.0 / sc.insurance.claim_dispersion, size=idx.size
    )
    if idx.size == 0:
        return
    pop, st, seg, d = world.population, world.state, world.segments, world.dealers
    s = pop.segment[idx]
    n = idx.size
    refused = declined(world, idx)

    # Who can offer.
    dealer = st.dealer[idx]
    dealer_ok = st.dealer_reached[idx] & (dealer >= 0)
    dealer_ok[dealer_ok] &= d.active[dealer[dealer_ok]]
    slot = st.rep_slot[idx]
    rep_ok = st.rep_ready[idx] & (slot >= 0)
    rep_ok[rep_ok] &= world.reps.occupied[slot[rep_ok]]
    large = seg.large[s]
    rule = sc.engagement.large_accounts if world.uses_dealers and world.reps_sell else "open"
    if sc.engagement.large_accounts == "deal_registration":
        st.owner[idx], st.owner_expires[idx] = engagement.register(
            st.owner[idx],
            st.owner_expires[idx],
            week,
            st.rep_first[idx],
            st.dealer_first[idx],
            rng.random(n) < 0.5,
            sc.engagement.registration_weeks,
        )
    quoting = engagement.who_quotes(rule, rep_ok[large], dealer_ok[large], st.owner[idx][large])
    assisted = np.zeros(n, bool)
    conflict = np.zeros(n, bool)
    rep_ok[large] = quoting.rep_quotes
    dealer_can = dealer >= 0
    dealer_can[dealer_can] &= d.active[dealer[dealer_can]]
    dealer_ok[large] = quoting.dealer_quotes & dealer_can[large]
    assisted[large] = quoting.assisted & dealer_can[large]
    conflict[large] = quoting.conflict

    prices = np.zeros((n, len(CHANNELS)))
    prices[:, DEALER] = world.prices.dealer_to_customer
    prices[:, REP] = world.prices.direct
    prices[:, ONLINE] = world.prices.online
    prices[:, TELESALES] = max(sc.pricing.price_floor, world.decisions.list_price)
    prices[:, COMPETITOR] = sc.market.competitor.price
    if sc.insurance.enabled and sc.insurance.action == "reprice":
        surcharge = np.where(st.flagged[idx], 1.0 + sc.insurance.surcharge, 1.0)
        prices[:, :COMPETITOR] *= surcharge[:, None]

    # Open conflicts: Bertrand undercutting down to the floors.
    erosion = np.zeros(n)
    if conflict.any():
        c = np.flatnonzero(conflict)
        theta = seg.direct_acceptance[s[c]]
        rep_wins = world.rep_floor < world.dealer_floor
        value = pop.value[idx[c]] * (theta if rep_wins else 1.0)
        rep_won, price = pricing.bertrand(
            world.rep_floor, world.dealer_floor, value, prices[c, REP], prices[c, DEALER]
        )
        normal = np.where(rep_won, prices[c, REP], prices[c, DEALER])
        erosion[c] = (normal - price) * seg.volume[s[c]]
        prices[c, REP] = np.where(rep_won, price, prices[c, REP])
        prices[c, DEALER] = np.where(rep_won, prices[c, DEALER], price)
        rep_ok[c] = rep_won
        dealer_ok[c] = ~rep_won
        lost = dealer[c][rep_won]
        np.add.at(d.conflicts_lost, lost, 1.0)

    dealer_ok |= assisted
    dealer_service = np.full(n, sc.dealers.service_quality)
    if d.region.size:
        has = dealer >= 0
        dealer_service[has] += sc.reps.support.service_boost * support[dealer[has]]
    dealer_service += assisted * sc.engagement.assist_service_boost
    service = service_levels(world, dealer_service)

    available = np.zeros((n, len(CHANNELS)), bool)
    available[:, DEALER] = dealer_ok & ~refused
    available[:, REP] = rep_ok & ~refused
    available[:, ONLINE] = sc.online.enabled & ~refused
    available[:, TELESALES] = st.tele_reached[idx] & ~refused
    available[:, COMPETITOR] = sc.market.competitor.enabled
    available[:, NONE] = True

    u = utilities(
        value=pop.value[idx],
        prices=prices,
        service=service,
        direct_acceptance=seg.direct_acceptance[s],
        price_sensitivity=seg.price_sensitivity[s],
        service_sensitivity=seg.service_sensitivity[s],
        loyalty=seg.loyalty[s],
        incumbent=pop.incumbent[idx],
        available=available,
    )
    choice = choose(u, sc.market.choice.scale, gumbel)
    booking.book(
        world, idx, week, choice, prices, erosion, conflict, assisted, capture_draw, claim_noise, w
    )
    close_window(world, idx)


def service_levels(world: World, dealer_service: NDArray) -> NDArray:
    """Service of every channel as each customer sees it; only the dealer's varies."""
    sc = world.scenario
    service = np.zeros((dealer_service.size, len(CHANNELS)))
    service[:, DEALER] = np.minimum(1.0, dealer_service)
    service[:, REP] = sc.reps.service_quality
    service[:, ONLINE] = sc.online.service_quality
    service[:, TELESALES] = sc.telesales.service_quality
    service[:, COMPETITOR] = sc.market.competitor.service
    return service


def close_window(world: World, idx: NDArray) -> None:
    """The next purchase falls due one cycle later; this window's contacts are forgotten."""
    pop, st, seg = world.population, world.state, world.segments
    s = pop.segment[idx]
    pop.due[idx] += seg.cycle[s]
    pop.window_end[idx] = pop.due[idx] + seg.decision_weeks[s] - 1
    st.stage[idx] = 0
    st.rep_ready[idx] = False
    st.dealer_reached[idx] = False
    st.tele_reached[idx] = False
    st.contacted[idx] = False
    st.rep_first[idx] = NEVER
    st.dealer_first[idx] = NEVER
