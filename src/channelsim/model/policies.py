"""Pricing policies: how each price-setting tier picks its price when it is not fixed.

Pure functions over numpy arrays (no Mesa), called by the price reviews in repricing.py:
- `expected_units`: expected weekly units by channel of a customer sample under the model's
  random-utility choice, for many price vectors at once;
- `best_responses`: Stackelberg prices by backward induction; each tier maximises its own
  expected profit (a rep: its commission) and anticipates the tiers below it in its chain;
- `hill_climb`: adaptive pricing by hill climbing on realised profit.
The equations are in docs/pricing-policies.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import minimize_scalar

from channelsim.model.market import (
    CHANNELS,
    COMPETITOR,
    DEALER,
    ONLINE,
    REP,
    TELESALES,
    logit_probabilities,
    utilities,
)
from channelsim.model.rules import commission, pricing
from channelsim.scenario.schema import PricingPolicy

TIERS = ("wholesale", "list_price", "general_agent", "dealer", "rep")
OUR_CHANNELS = [DEALER, REP, ONLINE, TELESALES]
# Utility entries evaluated per block (rows x customers x channels): bounds memory use.
_BLOCK = 3_000_000
# A best response must beat the incumbent price by this share of profit to move the price,
# so that flat profit curves do not make prices wander.
_TOLERANCE = 1e-9


@dataclass(frozen=True)
class Decisions:
    """What each price-setting tier currently decides (the variables a policy moves)."""

    wholesale: float  # the company's price to general agents, or to dealers when flattened
    list_price: float
    general_agent_markup: float  # multiplicative: price = cost * (1 + markup)
    dealer_markup: float
    rep_discount: float  # share of the list price the rep gives away


@dataclass(frozen=True)
class Economics:
    """The facts of the channel that prices are set against (constant during a run)."""

    unit_cost: float
    price_floor: float
    flattened: bool
    uses_dealers: bool
    reps_sell: bool
    rep_max_discount: float
    online_enabled: bool
    online_discount: float
    online_cost_per_unit: float
    telesales_price: float
    competitor_price: float
    commission_basis: str
    commission_rate: float


@dataclass(frozen=True)
class DemandSample:
    """Customers whose expected purchases the price-setters anticipate, as arrays.

    `offers` (customers x channels) says which channels make an offer when the dealer reaches
    the customer; `weight` is the units per week each sampled customer stands for.
    """

    value: NDArray
    direct_acceptance: NDArray
    price_sensitivity: NDArray
    service_sensitivity: NDArray
    loyalty: NDArray
    incumbent: NDArray
    service: NDArray
    offers: NDArray[np.bool_]
    weight: NDArray
    scale: float


@dataclass(frozen=True)
class DealerReach:
    """What decides whether a dealer reaches its customers: effort, which rises with its markup.

    Arrays are per sampled customer who has a dealer: `reach` is the weekly reach at full
    effort (channel-manager support included), `effort_ceiling` is effort_base times
    (1 - the dealer's dissatisfaction), `relationship` the weekly reach floor for the
    dealer's own customers (0 for others), `windows` the weeks of the buying window.
    """

    reach: NDArray
    effort_ceiling: NDArray
    relationship: NDArray
    windows: NDArray
    weight: NDArray
    reference_margin: float
    elasticity: float

    def share(self, markup: ArrayLike) -> NDArray:
        """Weighted share of the dealers' customers reached within their window at `markup`."""
        m = np.maximum(np.asarray(markup, dtype=float), 0.0)
        if self.weight.sum() <= 0:
            return np.zeros(m.shape)
        ratio = (m[..., None] / self.reference_margin) ** self.elasticity
        effort = np.clip(self.effort_ceiling * ratio, 0.0, 1.0)
        weekly = np.maximum(np.minimum(1.0, self.reach * effort), self.relationship)
        window = 1.0 - (1.0 - weekly) ** self.windows
        return window @ self.weight / self.weight.sum()


@dataclass(frozen=True)
class Climb:
    """A hill climber's memory: the direction of its last move and the profit before it."""

    direction: float = 1.0
    last_profit: float | None = None


# --- prices and demand ------------------------------------------------------------------


def chain(decisions: Decisions, econ: Economics) -> pricing.ChainPrices:
    """The channel's prices for these decisions, by the same rule as fixed prices."""
    return pricing.chain_prices(
        list_price=decisions.list_price,
        wholesale_price=decisions.wholesale,
        general_agent_markup=0.0 if econ.flattened else decisions.general_agent_markup,
        dealer_markup=decisions.dealer_markup,
        price_floor=econ.price_floor,
        rep_discount=decisions.rep_discount,
        online_discount=econ.online_discount,
        flattened_price=decisions.wholesale if econ.flattened else None,
    )


def price_vector(prices: pricing.ChainPrices, econ: Economics) -> NDArray:
    """Customer prices by channel (the order of market.CHANNELS)."""
    out = np.zeros(len(CHANNELS))
    out[DEALER] = prices.dealer_to_customer
    out[REP] = prices.direct
    out[ONLINE] = prices.online
    out[TELESALES] = econ.telesales_price
    out[COMPETITOR] = econ.competitor_price
    return out


def systematic_sample(size: int, cap: int) -> NDArray[np.int64]:
    """Every k-th customer, at most `cap` of them; deterministic, so it draws no random numbers.

    Customers are stored cohort by cohort (segment, region), so an even stride is a
    proportionally stratified sample.
    """
    if size <= cap:
        return np.arange(size)
    return np.unique(np.linspace(0, size - 1, cap).round().astype(np.int64))


class Demand:
    """Expected demand of a customer sample for given offers, ready for many price vectors.

    Utilities come from `market.utilities`, which is linear in price: V(p) = V(0) + slope p;
    both parts are evaluated once here, so each price vector costs one pass of the logit
    choice (`market.logit_probabilities`; scale 0: deterministic, ties to the lower channel).
    """

    def __init__(self, sample: DemandSample, offers: NDArray[np.bool_] | None = None) -> None:
        offers = sample.offers if offers is None else offers
        self.sample = sample
        self.base = _utility(sample, np.zeros(len(CHANNELS)), offers)
        with np.errstate(invalid="ignore"):  # -inf - -inf where a channel makes no offer
            self.slope = np.nan_to_num(_utility(sample, np.ones(len(CHANNELS)), offers) - self.base)

    def units(self, prices: ArrayLike) -> NDArray:
        """Expected units per week by channel (columns) for each row of channel prices."""
        rows = np.atleast_2d(np.asarray(prices, dtype=float))
        n, k = self.base.shape
        out = np.zeros((rows.shape[0], len(CHANNELS)))
        if n == 0:
            return out
        per_block = max(1, _BLOCK // (n * k))
        for start in range(0, rows.shape[0], per_block):
            block = rows[start : start + per_block]
            u = self.base[None, :, :] + self.slope[None, :, :] * block[:, None, :]
            prob = logit_probabilities(u.reshape(-1, k), self.sample.scale)
            out[start : start + block.shape[0]] = np.einsum(
                "bnc,n->bc", prob.reshape(block.shape[0], n, k), self.sample.weight
            )
        return out


def expected_units(
    sample: DemandSample, prices: ArrayLike, offers: NDArray[np.bool_] | None = None
) -> NDArray:
    """Expected units per week by channel (columns) for each row of channel prices."""
    return Demand(sample, offers).units(prices)


def _utility(sample: DemandSample, prices: NDArray, offers: NDArray) -> NDArray:
    n = sample.value.size
    return utilities(
        value=sample.value,
        prices=np.broadcast_to(prices, (n, len(CHANNELS))),
        service=sample.service,
        direct_acceptance=sample.direct_acceptance,
        price_sensitivity=sample.price_sensitivity,
        service_sensitivity=sample.service_sensitivity,
        loyalty=sample.loyalty,
        incumbent=sample.incumbent,
        available=offers,
    )


def choke_price(sample: DemandSample) -> float:
    """A price above which (almost) nobody buys from any of our channels.

    The highest zero-utility price of any customer and channel, plus six logit scales.
    """
    if sample.value.size == 0:
        return 0.0
    base = _utility(sample, np.zeros(len(CHANNELS)), sample.offers)[:, OUR_CHANNELS]
    at_one = _utility(sample, np.ones(len(CHANNELS)), sample.offers)[:, OUR_CHANNELS]
    ok = np.isfinite(base)
    slope = np.where(ok, base - np.where(ok, at_one, 0.0), 0.0)  # utility lost per unit of price
    ok &= slope > 0
    if not ok.any():
        return 0.0
    zero = np.where(ok, base / np.where(ok, slope, 1.0), -np.inf).max()
    return float(zero + 6.0 * sample.scale / slope[ok].min())


# --- best responses --------------------------------------------------------------------


def best_price(
    objective: Callable[[NDArray], NDArray],
    low: float,
    high: float,
    points: int,
    current: float | None = None,
) -> float:
    """The price in [low, high] that maximises `objective` (vectorised over prices).

    A grid of `points` prices finds the best region; a bounded Brent search
    (scipy.optimize.minimize_scalar) refines it between the grid neighbours. The current
    price is kept unless another one is strictly better.
    """
    if not high > low:
        return float(low)
    grid = np.linspace(low, high, points)
    values = objective(grid)
    best = int(np.argmax(values))
    candidates = [(float(values[best]), float(grid[best]))]
    left, right = grid[max(best - 1, 0)], grid[min(best + 1, points - 1)]
    if right > left:
        found = minimize_scalar(
            lambda x: -float(objective(np.array([x]))[0]),
            bounds=(left, right),
            method="bounded",
            options={"xatol": (high - low) * 1e-7},
        )
        candidates.append((-float(found.fun), float(found.x)))
    value, price = max(candidates)
    if current is not None and low <= current <= high:
        kept = float(objective(np.array([current]))[0])
        if value <= kept + _TOLERANCE * max(abs(kept), 1.0):
            return float(current)
    return price


def _grid_argmax(values: NDArray, grid: NDArray, fallback: NDArray) -> NDArray:
    """Row-wise argmax of `values` over `grid`, refined by a parabola through the neighbours.

    Rows with no positive value (nothing to earn) take `fallback`.
    """
    rows = np.arange(values.shape[0])
    j = np.argmax(values, axis=1)
    best = values[rows, j]
    left = values[rows, np.maximum(j - 1, 0)]
    right = values[rows, np.minimum(j + 1, grid.size - 1)]
    interior = (j > 0) & (j < grid.size - 1) & np.isfinite(left) & np.isfinite(right)
    with np.errstate(invalid="ignore", divide="ignore"):
        curvature = np.where(interior, left - 2.0 * best + right, 0.0)
        shift = np.where(curvature < 0, 0.5 * (left - right) / curvature, 0.0)
    shift = np.clip(np.nan_to_num(shift, posinf=0.0, neginf=0.0), -0.5, 0.5)
    step = grid[1] - grid[0]
    price = grid[j] + shift * step
    return np.where(best > 0, price, fallback)


@dataclass(frozen=True)
class _Response:
    """Final retail price and dealer markup as functions of the cost a tier faces (tables)."""

    grid: NDArray
    retail: NDArray
    markup: NDArray

    def at(self, cost: ArrayLike) -> tuple[NDArray, NDArray]:
        cost = np.asarray(cost, dtype=float)
        return np.interp(cost, self.grid, self.retail), np.interp(cost, self.grid, self.markup)


def _dealer_chain(
    decisions: Decisions,
    econ: Economics,
    policy: PricingPolicy,
    sample: DemandSample,
    reach: DealerReach,
    current: NDArray,
) -> Decisions:
    """Backward induction down the chain company -> (general agent ->) dealer -> customer.

    Everything the chain decides moves only the dealer's retail price (and, through the
    dealer's markup, its effort), so demand is tabulated once on a grid of retail prices
    (other channels' prices held) and each tier's response to the cost it faces is
    tabulated on the same grid, from the dealer upwards; the tiers' actual prices are then
    found top-down by `best_price` against those tables.
    """
    rules = {
        "wholesale": policy.wholesale,
        "general_agent": "fixed" if econ.flattened else policy.general_agent,
        "dealer": policy.dealer,
    }
    if "best_response" not in rules.values():
        return decisions
    c, floor = econ.unit_cost, econ.price_floor
    low = min(c, decisions.wholesale)
    high = max(choke_price(sample), float(current[DEALER]) * 1.05, low + 1e-9)
    grid = np.linspace(low, high, policy.grid_points)
    rows = np.repeat(current[None, :], grid.size, axis=0)
    rows[:, DEALER] = np.maximum(floor, grid)
    reached = expected_units(sample, rows)
    unreached = expected_units(sample, current, _without_dealer(sample))[0]
    margins = _company_margins(current, econ)
    share_at = _reach_curve(reach)

    def units(retail: NDArray, markup: NDArray) -> tuple[NDArray, NDArray]:
        """Dealer units, and the company's profit on its other channels."""
        share = share_at(markup)
        table = [np.interp(retail, grid, reached[:, j]) for j in range(len(CHANNELS))]
        a = np.stack(np.broadcast_arrays(*table), axis=-1)
        mixed = share[..., None] * a + (1.0 - share[..., None]) * unreached
        return share * a[..., DEALER], mixed @ margins

    def respond(q: NDArray) -> NDArray:
        """Each row's best own price y >= cost x (rows: x on the grid; q: units at each y)."""
        profit = np.where(
            grid[None, :] >= grid[:, None], (grid[None, :] - grid[:, None]) * q, -np.inf
        )
        return _grid_argmax(profit, grid, fallback=grid)

    safe = np.maximum(grid, 1e-12)
    if rules["dealer"] == "best_response":
        q, _ = units(np.maximum(floor, grid)[None, :], grid[None, :] / safe[:, None] - 1.0)
        own = respond(q)
        dealer = _Response(grid, np.maximum(floor, own), own / safe - 1.0)
    else:
        m = decisions.dealer_markup
        dealer = _Response(grid, np.maximum(floor, grid * (1.0 + m)), np.full(grid.size, m))
    below = dealer
    if not econ.flattened:
        if rules["general_agent"] == "best_response":
            below = _Response(grid, *dealer.at(respond(units(*dealer.at(grid))[0][None, :])))
        else:
            below = _Response(grid, *dealer.at(grid * (1.0 + decisions.general_agent_markup)))

    out = decisions
    if rules["wholesale"] == "best_response":

        def company(w: NDArray) -> NDArray:
            q, other = units(*below.at(w))
            return (w - c) * q + other

        out = replace(out, wholesale=best_price(company, c, high, grid.size, out.wholesale))
    cost = out.wholesale
    if not econ.flattened:
        if rules["general_agent"] == "best_response":
            was = cost * (1.0 + out.general_agent_markup)
            y = best_price(
                lambda y: (y - cost) * units(*dealer.at(y))[0], cost, high, grid.size, was
            )
            out = replace(out, general_agent_markup=_markup(y, cost, out.general_agent_markup))
        cost = cost * (1.0 + out.general_agent_markup)
    if rules["dealer"] == "best_response":
        was = cost * (1.0 + out.dealer_markup)
        y = best_price(
            lambda y: (y - cost) * units(np.maximum(floor, y), y / max(cost, 1e-12) - 1.0)[0],
            cost,
            high,
            grid.size,
            was,
        )
        out = replace(out, dealer_markup=_markup(y, cost, out.dealer_markup))
    return out


def _reach_curve(reach: DealerReach) -> Callable[[NDArray], NDArray]:
    """The dealers' reach share as a cheap function of the markup (tabulated, interpolated)."""
    if reach.elasticity == 0:
        value = float(reach.share(np.array(1.0)))
        return lambda m: np.full(np.shape(m), value)
    markups = np.concatenate(([0.0], np.geomspace(1e-4, 1e3, 600)))
    values = reach.share(markups)
    return lambda m: np.interp(m, markups, values)


def _markup(price: float, cost: float, current: float) -> float:
    """The markup that gives `price` on `cost` (a zero cost leaves the markup as it was)."""
    return price / cost - 1.0 if cost > 0 else current


def _company_margins(prices: NDArray, econ: Economics) -> NDArray:
    """The company's profit per unit sold through its own channels at these prices.

    Dealer-channel units are left out (they earn the wholesale margin, handled by the caller).
    """
    c = econ.unit_cost
    margins = np.zeros(len(CHANNELS))
    margins[REP] = prices[REP] - c - econ.commission_rate * _commission_base(prices[REP], econ)
    margins[ONLINE] = prices[ONLINE] - c - econ.online_cost_per_unit
    margins[TELESALES] = prices[TELESALES] - c
    return margins


def _commission_base(price: ArrayLike, econ: Economics) -> NDArray:
    """The commission base of one unit sold by a rep at `price`."""
    return commission.commission_base(econ.commission_basis, price, econ.unit_cost, 1.0)


def _direct_chain(
    decisions: Decisions,
    econ: Economics,
    policy: PricingPolicy,
    sample: DemandSample,
    reach: DealerReach,
    current: NDArray,
) -> Decisions:
    """The company's list price anticipating the rep's discount; then the rep's discount.

    The rep maximises its expected commission rate x base(price) x units within its
    authority; the company maximises its expected profit over all channels. Dealer-chain
    prices are held at their current values.
    """
    list_rule = policy.list_price if (econ.reps_sell or econ.online_enabled) else "fixed"
    rep_rule = policy.rep if econ.reps_sell and econ.commission_rate > 0 else "fixed"
    if "best_response" not in (list_rule, rep_rule):
        return decisions
    c, floor = econ.unit_cost, econ.price_floor
    share = float(reach.share(np.array(decisions.dealer_markup)))
    with_dealer = Demand(sample) if share > 0 else None
    without_dealer = Demand(sample, _without_dealer(sample)) if share < 1 else None
    wholesale_margin = decisions.wholesale - c

    def outcome(list_price: NDArray, discount: NDArray) -> tuple[NDArray, NDArray]:
        """Rep commission and company profit for pairs (list price, rep discount)."""
        list_price, discount = np.broadcast_arrays(list_price, discount)
        rows = np.repeat(current[None, :], list_price.size, axis=0)
        rows[:, REP] = np.maximum(floor, list_price.ravel() * (1.0 - discount.ravel()))
        rows[:, ONLINE] = np.maximum(floor, list_price.ravel() * (1.0 - econ.online_discount))
        q = np.zeros((rows.shape[0], len(CHANNELS)))
        if with_dealer is not None:
            q += share * with_dealer.units(rows)
        if without_dealer is not None:
            q += (1.0 - share) * without_dealer.units(rows)
        commission = econ.commission_rate * _commission_base(rows[:, REP], econ) * q[:, REP]
        profit = (
            wholesale_margin * q[:, DEALER]
            + (rows[:, REP] - c) * q[:, REP]
            - commission
            + (rows[:, ONLINE] - c - econ.online_cost_per_unit) * q[:, ONLINE]
            + (rows[:, TELESALES] - c) * q[:, TELESALES]
        )
        return commission.reshape(list_price.shape), profit.reshape(list_price.shape)

    def rep_response(list_price: float, current_discount: float | None) -> float:
        if rep_rule != "best_response" or econ.rep_max_discount <= 0:
            return decisions.rep_discount
        return best_price(
            lambda d: outcome(np.full(d.size, list_price), d)[0],
            0.0,
            econ.rep_max_discount,
            policy.grid_points,
            current_discount,
        )

    list_price = decisions.list_price
    if list_rule == "best_response":
        top = max(choke_price(sample), list_price) / (
            1.0 - max(econ.rep_max_discount, econ.online_discount)
        )
        if rep_rule == "best_response" and not econ.online_enabled:
            # Without the online channel the list price moves nothing the rep's demand
            # depends on: the rep's response is its own best price, clipped to its authority.
            wanted = best_price(
                lambda p: outcome(p, np.zeros(p.size))[0], floor, top, policy.grid_points
            )

            def company(lp: NDArray) -> NDArray:
                return outcome(lp, np.clip(1.0 - wanted / lp, 0.0, econ.rep_max_discount))[1]

            list_price = best_price(company, c, top, policy.grid_points, decisions.list_price)
        elif rep_rule == "best_response":
            # Anticipated rep responses: a coarse grid of discounts for each list price,
            # refined by a parabola (cheap enough to nest inside the company's search).
            points = min(policy.grid_points, 41)
            discounts = np.linspace(0.0, econ.rep_max_discount, points)

            def company(lp: NDArray) -> NDArray:
                commission, _ = outcome(lp[:, None], discounts[None, :])
                chosen = _grid_argmax(commission, discounts, np.full(lp.size, 0.0))
                return outcome(lp, chosen)[1]

            list_price = best_price(company, c, top, points, decisions.list_price)
        else:
            list_price = best_price(
                lambda lp: outcome(lp, np.full(lp.size, decisions.rep_discount))[1],
                c,
                top,
                policy.grid_points,
                decisions.list_price,
            )
    discount = rep_response(list_price, decisions.rep_discount)
    return replace(decisions, list_price=list_price, rep_discount=discount)


def _without_dealer(sample: DemandSample) -> NDArray[np.bool_]:
    """The offers customers get when their dealer does not reach them."""
    offers = sample.offers.copy()
    offers[:, DEALER] = False
    return offers


def best_responses(
    decisions: Decisions,
    econ: Economics,
    policy: PricingPolicy,
    sample: DemandSample,
    reach: DealerReach,
) -> Decisions:
    """New decisions of every best-response tier, the others held.

    The dealer chain is solved first with the direct channels' prices held, then the direct
    chain with the new dealer-chain prices held; repeated at every review, this iterates
    towards prices where no best-response tier wants to move.
    """
    out = decisions
    if econ.uses_dealers:
        out = _dealer_chain(out, econ, policy, sample, reach, price_vector(chain(out, econ), econ))
    out = _direct_chain(out, econ, policy, sample, reach, price_vector(chain(out, econ), econ))
    return out


# --- adaptive pricing ------------------------------------------------------------------


def hill_climb(
    price: float,
    climb: Climb,
    profit: float,
    step: float,
    exploration: float,
    low: float,
    high: float,
    draws: ArrayLike,
) -> tuple[float, Climb]:
    """One move of a hill climber on realised profit.

    Keep going while profit does not fall; turn back when it falls; with probability
    `exploration` (first draw) go in a random direction (second draw) instead; a move that
    hits a bound turns the climber round. The price moves by the factor (1 +- step).
    """
    u = np.asarray(draws, dtype=float)
    direction = climb.direction
    if climb.last_profit is not None and profit < climb.last_profit:
        direction = -direction
    if u[0] < exploration:
        direction = 1.0 if u[1] < 0.5 else -1.0
    wanted = price * (1.0 + step * direction)
    moved = float(np.clip(wanted, low, high)) if high >= low else float(low)
    if moved != wanted:
        direction = -direction
    return moved, Climb(direction, profit)


def tier_prices(decisions: Decisions, econ: Economics) -> dict[str, tuple[float, float]]:
    """Each tier's own selling price and the cost it is set on (its lowest sensible price)."""
    prices = chain(decisions, econ)
    return {
        "wholesale": (decisions.wholesale, econ.unit_cost),
        "list_price": (decisions.list_price, econ.unit_cost),
        "general_agent": (prices.general_agent_to_dealer, prices.company_to_general_agent),
        "dealer": (
            prices.general_agent_to_dealer * (1.0 + decisions.dealer_markup),
            prices.general_agent_to_dealer,
        ),
        "rep": (
            decisions.list_price * (1.0 - decisions.rep_discount),
            decisions.list_price * (1.0 - econ.rep_max_discount),
        ),
    }


def adapt(
    decisions: Decisions,
    econ: Economics,
    policy: PricingPolicy,
    climbs: dict[str, Climb],
    profits: dict[str, float],
    ceiling: float,
    draws: NDArray,
) -> tuple[Decisions, dict[str, Climb]]:
    """Move every adaptive tier one hill-climbing step on its profit since the last review.

    `draws` has one row of two uniform numbers per tier in TIERS (drawn whether used or
    not, so the random stream does not depend on which tiers adapt). `ceiling` is the
    default highest price (the market's highest willingness to pay).
    """
    settings = policy.adaptive
    present = {
        "wholesale": econ.uses_dealers,
        "list_price": econ.reps_sell or econ.online_enabled,
        "general_agent": econ.uses_dealers and not econ.flattened,
        "dealer": econ.uses_dealers,
        "rep": econ.reps_sell,
    }
    out, memory = decisions, dict(climbs)
    for k, tier in enumerate(TIERS):
        if getattr(policy, tier) != "adaptive" or not present[tier]:
            continue
        price, cost = tier_prices(out, econ)[tier]
        low = max(cost, settings.min_price or 0.0)
        high = settings.max_price if settings.max_price is not None else max(ceiling, price)
        if tier == "rep":
            high = min(high, out.list_price)
        if price <= 0 or (tier in ("general_agent", "dealer") and cost <= 0):
            continue
        new, memory[tier] = hill_climb(
            price,
            memory.get(tier, Climb()),
            profits[tier],
            settings.step,
            settings.exploration,
            low,
            high,
            draws[k],
        )
        out = _with_price(out, tier, new, cost)
    return out, memory


def _with_price(decisions: Decisions, tier: str, price: float, cost: float) -> Decisions:
    if tier == "wholesale":
        return replace(decisions, wholesale=price)
    if tier == "list_price":
        return replace(decisions, list_price=price)
    if tier == "general_agent":
        return replace(decisions, general_agent_markup=price / cost - 1.0)
    if tier == "dealer":
        return replace(decisions, dealer_markup=price / cost - 1.0)
    return replace(decisions, rep_discount=1.0 - price / decisions.list_price)


def realised_profits(flows: dict[str, float]) -> dict[str, float]:
    """What each tier earned over a review interval, from the interval's summed KPI flows."""
    company = flows["company_profit"]
    return {
        "wholesale": company,
        "list_price": company,
        "general_agent": flows["ga_margin"],
        "dealer": flows["dealer_margin"] - flows["dealer_costs"],
        "rep": flows["rep_compensation"],
    }


def uses(policy: PricingPolicy, rule: str) -> bool:
    """Whether any tier follows `rule`."""
    return any(getattr(policy, tier) == rule for tier in TIERS)
