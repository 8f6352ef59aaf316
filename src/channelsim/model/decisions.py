"""Purchase decisions at the end of a buying window: who may offer, rules of engagement,
Bertrand conflicts on large accounts, prices and service, and the random-utility choice.
The chosen purchases are booked by booking.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from channelsim.model import booking, sales_management
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
from channelsim.model.state import NEVER, Accounts, World, declined, flag_of, keeps_first_contact


def decide(world: World, deciding: Accounts, week: int, support: NDArray, w: dict) -> None:
    """The customers `deciding`, whose buying window ends this week, choose and buy (or not)."""
    rng, sc, idx = world.streams.choice, world.scenario, deciding.idx
    gumbel = rng.gumbel(size=(idx.size, len(CHANNELS)))
    capture_draw = rng.random(idx.size)
    # The claims stream serves insurance alone: without insurance it is never drawn.
    claim_noise = (
        world.streams.claims.gamma(
            sc.insurance.claim_dispersion, 1.0 / sc.insurance.claim_dispersion, size=idx.size
        )
        if sc.insurance.enabled
        else np.ones(idx.size)
    )
    if idx.size == 0:
        return
    st = world.state
    if sc.engagement.large_accounts == "deal_registration":
        register_deals(world, idx, week, rng.random(idx.size) < 0.5)
    reached = st.rep_ready[idx], st.dealer_reached[idx], st.tele_reached[idx]
    offer = offers(world, deciding, *reached)
    prices = channel_prices(world, idx)
    service = service_levels(world, dealer_service(world, deciding, support, offer.assisted))
    erosion = settle_conflicts(world, idx, offer, prices, service)
    pop, seg = world.population, world.segments
    s = deciding.segment
    u = utilities(
        value=deciding.value,
        prices=prices,
        service=service,
        direct_acceptance=seg.direct_acceptance[s],
        price_sensitivity=seg.price_sensitivity[s],
        service_sensitivity=seg.service_sensitivity[s],
        loyalty=seg.loyalty[s],
        incumbent=pop.incumbent[idx],
        available=offer.available,
    )
    skill_value = sales_management.rep_offer_value(world, idx)
    if skill_value is not None:
        u[:, REP] += seg.price_sensitivity[s] * skill_value
    choice = choose(u, sc.market.choice.scale, gumbel)
    booking.book(
        world,
        deciding,
        week,
        choice,
        prices,
        erosion,
        offer.conflict,
        offer.assisted,
        capture_draw,
        claim_noise,
        w,
    )
    close_window(world, deciding, week)


def register_deals(world: World, idx: NDArray, week: int, tie_to_rep: NDArray) -> None:
    """Deal registration: whoever reached a large account first owns it for a while."""
    st = world.state
    st.owner[idx], st.owner_expires[idx] = engagement.register(
        st.owner[idx],
        st.owner_expires[idx],
        week,
        st.rep_first[idx],
        st.dealer_first[idx],
        tie_to_rep,
        world.scenario.engagement.registration_weeks,
    )


def channel_prices(world: World, idx: NDArray) -> NDArray:
    """Each channel's price to each customer (customers x channels), with any surcharge."""
    sc, st = world.scenario, world.state
    prices = np.zeros((idx.size, len(CHANNELS)))
    prices[:, DEALER] = world.prices.dealer_to_customer
    prices[:, REP] = world.prices.direct
    prices[:, ONLINE] = world.prices.online
    prices[:, TELESALES] = world.prices.telesales
    prices[:, COMPETITOR] = sc.market.competitor.price
    if sc.insurance.enabled and sc.insurance.action == "reprice":
        surcharge = np.where(st.flagged[idx], 1.0 + sc.insurance.surcharge, 1.0)
        prices[:, :COMPETITOR] *= surcharge[:, None]
    return prices


def settle_conflicts(
    world: World, idx: NDArray, offer: Offers, prices: NDArray, service: NDArray
) -> NDArray:
    """Open conflicts: Bertrand undercutting down to the floors.

    `engagement.conflict_pricing: floors`: the lower floor wins at the other's floor;
    `utility`: asymmetric Bertrand (`utility_conflict`). Under deterministic choice only the
    winner offers; under `utility` with logit choice both do, the loser at its floor.
    Updates `prices` and `offer.available` in place, counts the dealers' lost conflicts,
    and returns the money each customer's deal lost to undercutting.
    """
    erosion = np.zeros(idx.size)
    if not offer.conflict.any():
        return erosion
    sc, pop, seg, d = world.scenario, world.population, world.segments, world.dealers
    c = np.flatnonzero(offer.conflict)
    s = pop.segment[idx[c]]
    asymmetric = sc.engagement.conflict_pricing == "utility"
    if asymmetric:
        rep_won, price = utility_conflict(world, idx[c], prices[c], service[c])
    else:
        theta = seg.direct_acceptance[s]
        rep_wins = world.rep_floor < world.dealer_floor
        value = pop.value[idx[c]] * (theta if rep_wins else 1.0)
        rep_won, price = pricing.bertrand(
            world.rep_floor, world.dealer_floor, value, prices[c, REP], prices[c, DEALER]
        )
    normal = np.where(rep_won, prices[c, REP], prices[c, DEALER])
    erosion[c] = (normal - price) * pop.volume[idx[c]]
    prices[c, REP] = np.where(rep_won, price, prices[c, REP])
    prices[c, DEALER] = np.where(rep_won, prices[c, DEALER], price)
    refused = declined(world, idx[c])
    if asymmetric and sc.market.choice.scale > 0:
        prices[c, REP] = np.where(rep_won, prices[c, REP], world.rep_floor)
        prices[c, DEALER] = np.where(rep_won, world.dealer_floor, prices[c, DEALER])
        offer.available[c, REP] = ~refused
        offer.available[c, DEALER] = ~refused
    else:
        offer.available[c, REP] = rep_won & ~refused
        offer.available[c, DEALER] = ~rep_won & ~refused
    np.add.at(d.conflicts_lost, world.state.dealer[idx[c]][rep_won], 1.0)
    return erosion


def utility_conflict(
    world: World, idx: NDArray, prices: NDArray, service: NDArray
) -> tuple[NDArray, NDArray]:
    """Asymmetric Bertrand between the rep and the dealer for the customers `idx`.

    The customer's extra willingness to pay for the rep's offer over the dealer's, in money
    per unit: (theta - 1) v + (b_s (s_R - s_D) + lambda ([R incumbent] - [D incumbent])) / b_p;
    its ceilings are what it would pay for each offer at all (utility 0). Returns
    (rep_won, price) from `pricing.asymmetric_bertrand`.
    """
    pop, seg = world.population, world.segments
    s = pop.segment[idx]
    theta, value = seg.direct_acceptance[s], pop.value[idx]
    b_p, b_s, loyalty = seg.price_sensitivity[s], seg.service_sensitivity[s], seg.loyalty[s]
    incumbent = pop.incumbent[idx]
    rep_extra = (b_s * service[:, REP] + loyalty * (incumbent == REP)) / b_p
    dealer_extra = (b_s * service[:, DEALER] + loyalty * (incumbent == DEALER)) / b_p
    return pricing.asymmetric_bertrand(
        world.rep_floor,
        world.dealer_floor,
        (theta - 1.0) * value + (rep_extra - dealer_extra),
        theta * value + rep_extra,
        value + dealer_extra,
        prices[:, REP],
        prices[:, DEALER],
    )


@dataclass(frozen=True)
class Offers:
    """Which channels make each customer an offer, and what happened on large accounts."""

    available: NDArray[np.bool_]  # customers x channels (the order of channels.CHANNELS)
    conflict: NDArray[np.bool_]  # a rep and a dealer both quote (resolved by Bertrand)
    assisted: NDArray[np.bool_]  # the rep handed the account to the dealer


def offers(
    world: World,
    accounts: Accounts,
    rep_ready: NDArray[np.bool_],
    dealer_reached: NDArray[np.bool_],
    telesales_reached: NDArray[np.bool_],
) -> Offers:
    """Who may offer to the `accounts`: the one rule for purchases and price reviews.

    A rep may offer if it is ready to quote and its slot is a seller in post; a dealer if
    it reached the customer and is trading; the engagement rule then decides large
    accounts; customers the company declines get only the competitor (or no purchase).
    Price reviews pass "could be reached" flags to anticipate the offers.
    """
    sc, st, seg, d, reps = world.scenario, world.state, world.segments, world.dealers, world.reps
    idx, n = accounts.idx, accounts.size
    dealer_can = flag_of(d.active, accounts.dealer) & world.uses_dealers
    rep_can = flag_of(reps.occupied & ~reps.is_manager, accounts.rep_slot) & world.reps_sell
    rep_ok = rep_ready & rep_can
    dealer_ok = dealer_reached & dealer_can
    large = seg.large[accounts.segment]
    rule = sc.engagement.large_accounts if world.uses_dealers and world.reps_sell else "open"
    quoting = engagement.who_quotes(rule, rep_ok[large], dealer_ok[large], st.owner[idx][large])
    rep_ok[large] = quoting.rep_quotes
    dealer_ok[large] = quoting.dealer_quotes & dealer_can[large]
    assisted = np.zeros(n, bool)
    assisted[large] = quoting.assisted & dealer_can[large]
    conflict = np.zeros(n, bool)
    conflict[large] = quoting.conflict
    refused = declined(world, idx)
    available = np.zeros((n, len(CHANNELS)), bool)
    available[:, DEALER] = (dealer_ok | assisted) & ~refused
    available[:, REP] = rep_ok & ~refused
    available[:, ONLINE] = sc.online.enabled & ~refused
    available[:, TELESALES] = telesales_reached & ~refused
    available[:, COMPETITOR] = sc.market.competitor.enabled
    available[:, NONE] = True
    return Offers(available, conflict, assisted)


def dealer_service(
    world: World, accounts: Accounts, support: NDArray, assisted: NDArray
) -> NDArray[np.float64]:
    """The dealer's service to each customer: its base quality, raised by channel-manager
    support and by a rep's assistance (before the cap at full service)."""
    sc, dealer = world.scenario, accounts.dealer
    service = np.full(accounts.size, sc.dealers.service_quality)
    if world.dealers.region.size:
        has = dealer >= 0
        service[has] += sc.reps.support.service_boost * support[dealer[has]]
    return service + assisted * sc.engagement.assist_service_boost


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


def close_window(world: World, accounts: Accounts, week: int) -> None:
    """The next purchase falls due one cycle later; this window's contacts are forgotten.

    The window closing this week opened `decision_weeks - 1` weeks ago (every window does:
    `window_end = due + decision_weeks - 1`), so its due week is known without reading it.
    """
    pop, st, seg = world.population, world.state, world.segments
    idx, s = accounts.idx, accounts.segment
    due = week - seg.decision_weeks[s] + 1 + seg.cycle[s]
    pop.due[idx] = due
    pop.window_end[idx] = due + seg.decision_weeks[s] - 1
    st.stage[idx] = 0
    st.rep_ready[idx] = False
    st.dealer_reached[idx] = False
    if world.scenario.telesales.enabled:  # otherwise never set
        st.tele_reached[idx] = False
    st.contacted[idx] = False
    if keeps_first_contact(world):
        st.rep_first[idx] = NEVER
        st.dealer_first[idx] = NEVER
