"""Set-ups that are valid but almost certainly not meant, as warning texts.

A scenario that passes the schema can still be one nobody would run on purpose: goods sold
below cost, a segment that cannot afford any price it is offered, a channel switched on
that reaches no one. These checks do not refuse such a scenario (a strategist may ask
exactly that question); they say what looks wrong, one sentence each, starting with the
dotted path of the setting to look at. Each check is a pure function of the scenario.
"""

from __future__ import annotations

from collections.abc import Callable

from channelsim.model.rules.pricing import chain_prices, dealer_floor, rep_floor
from channelsim.scenario.schema import Scenario


def _n(value: float) -> str:
    return f"{value:,.4g}"


def rep_sellers(sc: Scenario) -> float:
    """Reps who sell to customers (not channel managers) under the strategy."""
    if sc.strategy == "intermediary" or sc.reps.role == "channel_manager":
        return 0.0
    if sc.reps.role == "mixed" and sc.strategy != "direct":
        return sc.reps.headcount * (1.0 - sc.reps.channel_manager_share)
    return float(sc.reps.headcount)


def _uses_dealers(sc: Scenario) -> bool:
    return sc.strategy != "direct"


def _company_price_to_channel(sc: Scenario) -> tuple[str, float]:
    if sc.flattened and sc.pricing.flattened_price is not None:
        return "pricing.flattened_price", sc.pricing.flattened_price
    return "pricing.wholesale_price", sc.pricing.wholesale_price


def price_checks(sc: Scenario) -> list[str]:
    """Unit cost at or above a price the company charges; wholesale above list price."""
    out = []
    p, policy = sc.pricing, sc.pricing.policy
    if policy.list_price == "fixed" and p.unit_cost >= p.list_price:
        out.append(
            f"pricing.unit_cost ({_n(p.unit_cost)}) is at or above pricing.list_price "
            f"({_n(p.list_price)}): every sale at list price loses money"
        )
    if _uses_dealers(sc) and policy.wholesale == "fixed":
        path, price = _company_price_to_channel(sc)
        if p.unit_cost >= price:
            out.append(
                f"pricing.unit_cost ({_n(p.unit_cost)}) is at or above {path} "
                f"({_n(price)}): every sale through dealers loses money"
            )
        if policy.list_price == "fixed" and price > p.list_price:
            out.append(
                f"{path} ({_n(price)}) is above pricing.list_price ({_n(p.list_price)}): "
                "the company charges its channel more than customers pay at list price"
            )
    return out


def _lowest_offers(sc: Scenario) -> dict[str, tuple[float, float]]:
    """Each channel that can sell: (lowest price it can quote, direct acceptance applies)."""
    p = sc.pricing
    chain = chain_prices(
        p.list_price,
        _company_price_to_channel(sc)[1],
        0.0 if sc.flattened else sc.general_agents.markup,
        sc.dealers.markup,
        p.price_floor,
        p.rep_discount,
        sc.online.discount,
    )
    offers: dict[str, tuple[float, float]] = {}
    if rep_sellers(sc) > 0 and sc.reps.capacity > 0:
        offers["reps"] = (rep_floor(p.list_price, p.rep_max_discount, p.price_floor), 1.0)
    if _uses_dealers(sc) and _dealer_total(sc) > 0:
        dealer_cost = chain.general_agent_to_dealer
        offers["dealers"] = (
            min(
                chain.dealer_to_customer,
                dealer_floor(dealer_cost, sc.dealers.min_margin, 0.0, sc.dealers.unit_cost),
            ),
            0.0,
        )
    if sc.online.enabled:
        offers["online"] = (chain.online, 1.0)
    if sc.telesales.enabled and sc.telesales.agents * sc.telesales.calls_per_agent > 0:
        offers["telesales"] = (chain.direct, 1.0)
    return offers


def _dealer_total(sc: Scenario) -> int:
    return sum(sc.dealer_count(r.name) for r in sc.market.regions)


def valuation_checks(sc: Scenario) -> list[str]:
    """A segment whose highest willingness to pay lies below every price offered to it."""
    offers = _lowest_offers(sc)
    if not offers:
        return []
    out = []
    counts = sc.market.customer_counts()
    for seg in sc.market.segments:
        powers = [r.purchasing_power for r in sc.market.regions if counts[r.name, seg.name] > 0]
        if not powers:
            continue
        top = seg.valuation.high * max(powers)
        # Service and loyalty raise what a customer will pay by at most this much per unit.
        extra = (seg.service_sensitivity + seg.loyalty) / seg.price_sensitivity
        affordable = [
            name
            for name, (price, direct) in offers.items()
            if top * (seg.direct_acceptance if direct else 1.0) + extra >= price
        ]
        if not affordable:
            lowest = min(price for price, _ in offers.values())
            out.append(
                f"market.segments.{seg.name}.valuation: the segment values a unit at most "
                f"{_n(top)} (with service and loyalty at most {_n(top + extra)}), below the "
                f"lowest price any channel offers it ({_n(lowest)}): nobody in it can buy"
            )
    return out


def reach_checks(sc: Scenario) -> list[str]:
    """A channel the strategy enables that reaches no one; a segment no channel reaches."""
    out = []
    reps_on = sc.strategy != "intermediary"
    if reps_on and (rep_sellers(sc) == 0 or sc.reps.capacity == 0):
        why = "reps.headcount is 0" if sc.reps.headcount == 0 else "no rep sells"
        if sc.reps.headcount > 0 and sc.reps.capacity == 0:
            why = "reps.capacity is 0 visits a week"
        out.append(
            f"reps: strategy {sc.strategy!r} sells through reps, but {why}: reps reach no one"
        )
    dealers_on = _uses_dealers(sc)
    if dealers_on and _dealer_total(sc) == 0:
        out.append(
            f"dealers.per_region: strategy {sc.strategy!r} sells through dealers, but there are "
            "no dealers in any region: dealers reach no one"
        )
    elif dealers_on and sc.dealers.reach == 0 and sc.dealers.relationship_reach == 0:
        out.append(
            "dealers.reach: dealers.reach and relationship_reach are 0: dealers reach no one"
        )
    tele = sc.telesales
    if tele.enabled and tele.agents * tele.calls_per_agent == 0:
        out.append(
            "telesales: telesales is enabled but makes no calls (agents or calls_per_agent is 0)"
        )
    out += _unreached_segments(sc)
    return out


def _unreached_segments(sc: Scenario) -> list[str]:
    sellers = rep_sellers(sc) > 0 and sc.reps.capacity > 0
    dealer_reach = sc.dealers.reach > 0 or sc.dealers.relationship_reach > 0
    rule = sc.engagement.large_accounts
    out = []
    counts = sc.market.customer_counts()
    for seg in sc.market.segments:
        missed = []
        for region in sc.market.regions:
            if counts[region.name, seg.name] == 0:
                continue
            reps = sellers and not (
                seg.large_account and rule == "dealer_only" and _uses_dealers(sc)
            )
            dealers = _uses_dealers(sc) and sc.dealer_count(region.name) > 0 and dealer_reach
            if seg.large_account and rule == "rep_only" and sc.strategy == "parallel":
                dealers = False
            if not (reps or dealers or sc.online.enabled):
                missed.append(region.name)
        if missed:
            where = "" if len(missed) == len(sc.market.regions) else f" in {', '.join(missed)}"
            out.append(
                f"market.segments.{seg.name}: no channel reaches its customers{where}, so it "
                "cannot buy from the company"
            )
    return out


CHECKS: tuple[Callable[[Scenario], list[str]], ...] = (price_checks, valuation_checks, reach_checks)


def warnings(sc: Scenario) -> list[str]:
    """Every warning for `sc`, one sentence each, in the order of the checks."""
    return [text for check in CHECKS for text in check(sc)]
