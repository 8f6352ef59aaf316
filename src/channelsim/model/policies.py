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
    competitor_price: float
    commission_basis: str
    commission_rate: float
    general_agent_cost: float = 0.0  # the general agents' own cost per unit (money)
    dealer_cost: float = 0.0  # the dealers' own cost per unit (money)


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
    out[TELESALES] = prices.telesales
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
        from scipy.optimize import minimize_scalar  # only best-response pricing optimises

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


class _SmoothChain:
    """The dealer chain on a price grid (logit demand, or reach that rises with the markup).

    Everything the chain decides moves only the dealer's retail price (and, through the
    dealer's markup, its effort), so demand is tabulated once on a grid of retail prices
    (other channels' prices held) and each tier's response to the cost it faces is
    tabulated on the same grid, from the dealer upwards (on construction); each tier's
    actual price is then found by `best_price` against those tables (`_top_down` calls
    `wholesale`, `agent` and `dealer` in that order).
    """

    def __init__(
        self,
        decisions: Decisions,
        econ: Economics,
        policy: PricingPolicy,
        sample: DemandSample,
        reach: DealerReach,
        current: NDArray,
        rules: dict[str, str],
    ) -> None:
        self.econ = econ
        low = min(econ.unit_cost, decisions.wholesale)
        self.high = max(choke_price(sample), float(current[DEALER]) * 1.05, low + 1e-9)
        self.grid = np.linspace(low, self.high, policy.grid_points)
        rows = np.repeat(current[None, :], self.grid.size, axis=0)
        rows[:, DEALER] = np.maximum(econ.price_floor, self.grid)
        self.reached = expected_units(sample, rows)
        self.unreached = expected_units(sample, current, _without_dealer(sample))[0]
        self.margins = _company_margins(current, econ)
        self.share_at = _reach_curve(reach)
        self.dealer_response = self._dealer_response(rules["dealer"], decisions.dealer_markup)
        self.below_company = self._below_company(
            rules["general_agent"], decisions.general_agent_markup
        )

    def units(self, retail: NDArray, markup: NDArray) -> tuple[NDArray, NDArray]:
        """Dealer units, and the company's profit on its other channels."""
        share = self.share_at(markup)
        table = [np.interp(retail, self.grid, self.reached[:, j]) for j in range(len(CHANNELS))]
        a = np.stack(np.broadcast_arrays(*table), axis=-1)
        mixed = share[..., None] * a + (1.0 - share[..., None]) * self.unreached
        return share * a[..., DEALER], mixed @ self.margins

    def _respond(self, q: NDArray, own_cost: float) -> NDArray:
        """Each row's best own price y >= cost x (rows: x on the grid; q: units at each y)."""
        grid = self.grid
        margin = grid[None, :] - grid[:, None]
        profit = np.where(margin >= 0, (margin - own_cost) * q, -np.inf)
        return _grid_argmax(profit, grid, fallback=grid)

    def _dealer_response(self, rule: str, markup: float) -> _Response:
        """The dealer's retail price and markup for each cost on the grid."""
        grid, floor = self.grid, self.econ.price_floor
        if rule != "best_response":
            return _Response(
                grid, np.maximum(floor, grid * (1.0 + markup)), np.full(grid.size, markup)
            )
        safe = np.maximum(grid, 1e-12)
        q, _ = self.units(np.maximum(floor, grid)[None, :], grid[None, :] / safe[:, None] - 1.0)
        own = self._respond(q, self.econ.dealer_cost)
        return _Response(grid, np.maximum(floor, own), own / safe - 1.0)

    def _below_company(self, rule: str, markup: float) -> _Response:
        """Retail price and dealer markup for each wholesale price: the general agent's
        response (when not flattened) followed by the dealer's."""
        dealer, grid = self.dealer_response, self.grid
        if self.econ.flattened:
            return dealer
        if rule != "best_response":
            return _Response(grid, *dealer.at(grid * (1.0 + markup)))
        q = self.units(*dealer.at(grid))[0][None, :]
        return _Response(grid, *dealer.at(self._respond(q, self.econ.general_agent_cost)))

    def wholesale(self, was: float) -> float:
        """The company's best wholesale price against the chain below it."""
        c = self.econ.unit_cost

        def company(w: NDArray) -> NDArray:
            q, other = self.units(*self.below_company.at(w))
            return (w - c) * q + other

        return best_price(company, c, self.high, self.grid.size, was)

    def agent(self, cost: float, was: float) -> float:
        """The general agent's best price at this cost, against the dealer's response."""
        c_ga = self.econ.general_agent_cost
        return best_price(
            lambda y: (y - cost - c_ga) * self.units(*self.dealer_response.at(y))[0],
            cost,
            self.high,
            self.grid.size,
            was,
        )

    def dealer(self, cost: float, was: float) -> float:
        """The dealer's best price at this cost (its markup also sets its effort)."""
        floor, c_d = self.econ.price_floor, self.econ.dealer_cost
        return best_price(
            lambda y: (
                (np.maximum(floor, y) - cost - c_d)
                * self.units(np.maximum(floor, y), y / max(cost, 1e-12) - 1.0)[0]
            ),
            cost,
            self.high,
            self.grid.size,
            was,
        )


# --- exact best responses on step demand (deterministic choice) -------------------------
# With logit scale 0 each customer buys from the channel with the highest utility, so as one
# price moves demand changes only where a customer switches: demand is a step function and
# a seller's profit (price - cost) x units rises along each step and falls at its end. The
# best price is therefore the end of one of the steps; evaluating profit there (just below
# each switching price, by `_NUDGE` of the price scale) is exact. Equations:
# docs/pricing-policies.md, "Exact best responses".

# How far below a switching price a candidate sits (relative to the price scale): far
# above float rounding, far below one demand step.
_NUDGE = 1e-9
# With exact candidates, the current price is kept only if no candidate beats it by more
# than float rounding.
_EXACT_TOLERANCE = 1e-12


def switch_prices(demand: Demand, prices: NDArray, channel: int) -> NDArray:
    """Each customer's highest price of `channel` at which it still buys there, others held.

    V_ij(y) = V_ij(0) + slope_ij y crosses the customer's best other option
    max_{k != j} V_ik(p_k) at y_i = (V_ij(0) - max_{k != j} V_ik) / (-slope_ij); for a
    dealer facing an online offer at p_d that is v or p_d + (1 - theta) v. Customers
    without an offer from `channel` have none.
    """
    u = demand.base + demand.slope * np.asarray(prices, dtype=float)[None, :]
    others = np.delete(u, channel, axis=1).max(axis=1)
    own, slope = demand.base[:, channel], demand.slope[:, channel]
    ok = np.isfinite(own) & (slope < 0) & np.isfinite(others)
    return (own[ok] - others[ok]) / -slope[ok]


class Steps:
    """Demand as one channel's price moves, the others held, under deterministic choice.

    Each customer offered the channel buys there up to its switching price y_i
    (`switch_prices`) and from its best other option above it; the others' choices do not
    change. Sorting the y_i turns units at any price into a search and a cumulative sum:
    exact and O(log n) per price instead of a pass over every customer.
    """

    def __init__(self, demand: Demand, prices: NDArray, channel: int) -> None:
        u = demand.base + demand.slope * np.asarray(prices, dtype=float)[None, :]
        others = u.copy()
        others[:, channel] = -np.inf
        best = np.argmax(others, axis=1)
        best_value = others[np.arange(u.shape[0]), best]
        own, slope = demand.base[:, channel], demand.slope[:, channel]
        moves = np.isfinite(own) & (slope < 0) & np.isfinite(best_value)
        weight = demand.sample.weight
        k = len(CHANNELS)
        self.channel = channel
        self.fixed = np.bincount(np.argmax(u[~moves], axis=1), weight[~moves], minlength=k)
        switch = (own[moves] - best_value[moves]) / -slope[moves]
        order = np.argsort(switch, kind="stable")
        self.switch = switch[order]
        moved = np.zeros((order.size + 1, k))
        np.add.at(moved[1:], (np.arange(order.size), best[moves][order]), weight[moves][order])
        self.moved = np.cumsum(moved, axis=0)  # units gone to other options below each y_i
        self.total = float(weight[moves].sum())

    def units(self, price: ArrayLike) -> NDArray:
        """Expected units by channel (columns) at each price of the moving channel."""
        gone = np.searchsorted(self.switch, np.asarray(price, dtype=float), side="left")
        out = self.fixed[None, :] + self.moved[gone]
        out[:, self.channel] += self.total - self.moved[gone].sum(axis=1)
        return out


def step_units(demand: Demand, rows: NDArray) -> NDArray:
    """Units for rows of channel prices; by `Steps` when choice is deterministic and only
    one offered channel's price differs between the rows (the same numbers, faster)."""
    rows = np.atleast_2d(np.asarray(rows, dtype=float))
    if demand.sample.scale != 0 or rows.shape[0] < 4:
        return demand.units(rows)
    offered = np.isfinite(demand.base).any(axis=0)
    varies = offered & (rows != rows[0]).any(axis=0)
    if varies.sum() > 1:
        return demand.units(rows)
    j = int(np.argmax(varies)) if varies.any() else DEALER
    return Steps(demand, rows[0], j).units(rows[:, j])


def best_candidate(
    objective: Callable[[NDArray], NDArray], candidates: ArrayLike, current: float | None = None
) -> float:
    """The candidate with the highest objective; the current price if none beats it."""
    x = np.unique(np.asarray(candidates, dtype=float))
    values = objective(x)
    k = int(np.argmax(values))
    if current is not None:
        kept = float(objective(np.array([current]))[0])
        if values[k] <= kept + _EXACT_TOLERANCE * abs(kept):
            return float(current)
    return float(x[k])


def envelope(price: NDArray, units: NDArray) -> tuple[NDArray, NDArray]:
    """Which of a follower's options is best for each cost x it may face.

    Option k earns (price_k - x) units_k at cost x: a line in x. The follower's best profit
    is the upper envelope of these lines; returns the options on it in order of rising x
    (falling units) and the costs at which each gives way to the next. A leader's profit
    (x - c) units rises along each segment, so its best prices are just below these cuts.
    """
    order = np.lexsort((-price, -units))  # most units first; equal units: highest price
    hull: list[int] = []
    cuts: list[float] = []
    for k in order:
        if hull and units[hull[-1]] == units[k]:
            continue  # same units at a lower price: never better
        while hull:
            j = hull[-1]
            x = (price[j] * units[j] - price[k] * units[k]) / (units[j] - units[k])
            if cuts and x <= cuts[-1]:
                hull.pop()
                cuts.pop()
            else:
                cuts.append(x)
                break
        hull.append(int(k))
    return np.array(hull, dtype=np.int64), np.array(cuts)


class _ExactChain:
    """The dealer chain, exact on step demand (reach that does not depend on the markup).

    The dealer's options are the retail prices just below each customer's switching price
    (and the floor, and a price nobody pays). Each tier above faces the follower's best
    response, a step function of its price with steps where the follower's best option
    changes (`envelope`); its options are the prices just below those steps. These are
    found from the dealer upwards on construction; `_top_down` then lets the company pick
    among its options by its own profit, and each best-responding tier below pick among
    its options against the actual price above.
    """

    def __init__(
        self,
        decisions: Decisions,
        econ: Economics,
        sample: DemandSample,
        reach: DealerReach,
        current: NDArray,
        rules: dict[str, str],
    ) -> None:
        self.decisions, self.econ, self.rules = decisions, econ, rules
        floor = econ.price_floor
        self.high = max(choke_price(sample), float(current[DEALER]) * 1.05, econ.unit_cost + 1e-9)
        self.nudge = _NUDGE * self.high
        self.share = float(_reach_curve(reach)(np.array(decisions.dealer_markup)))
        self.steps = Steps(Demand(sample), current, DEALER)
        self.unreached = expected_units(sample, current, _without_dealer(sample))[0]
        self.margins = _company_margins(current, econ)
        # The dealer's options: just below each switching price, the floor, and no sale.
        self.switches = self.steps.switch - self.nudge
        self.retail = np.unique(
            np.concatenate([np.maximum(floor, self.switches), [max(floor, self.high)]])
        )
        self.sold = self.units(self.retail)[:, DEALER]
        self.dealer_options = self._dealer_options()
        # The general agent's prices worth charging (its best response) and where it changes.
        self.ga_options = self.dealer_options
        if rules["general_agent"] == "best_response":
            self.ga_sold = self.units(self.dealer_retail(self.ga_options))[:, DEALER]
            _, self.ga_cuts = envelope(self.ga_options - econ.general_agent_cost, self.ga_sold)

    def units(self, retail: NDArray) -> NDArray:
        """Expected units by channel (columns) at each retail price, other prices held."""
        reached = self.steps.units(np.maximum(self.econ.price_floor, retail))
        return self.share * reached + (1.0 - self.share) * self.unreached

    def _dealer_options(self) -> NDArray:
        """The costs, just below each change of the dealer's price, worth charging it."""
        if self.rules["dealer"] == "best_response":
            _, cuts = envelope(self.retail - self.econ.dealer_cost, self.sold)
            return cuts - self.nudge
        m = self.decisions.dealer_markup
        return np.concatenate([self.switches, [self.econ.price_floor]]) / (1.0 + m)

    def dealer_retail(self, cost: NDArray) -> NDArray:
        """The dealer's retail price at each cost it may face."""
        cost = np.asarray(cost, dtype=float)
        if self.rules["dealer"] != "best_response":
            return np.maximum(self.econ.price_floor, cost * (1.0 + self.decisions.dealer_markup))
        profit = (self.retail[None, :] - self.econ.dealer_cost - cost[:, None]) * self.sold[None, :]
        return self.retail[np.argmax(profit, axis=1)]

    def ga_price(self, w1: NDArray) -> NDArray:
        """The general agent's price to dealers at each wholesale price it may face."""
        w1 = np.asarray(w1, dtype=float)
        if self.econ.flattened:
            return w1
        if self.rules["general_agent"] != "best_response":
            return w1 * (1.0 + self.decisions.general_agent_markup)
        options = self.ga_options
        profit = (options[None, :] - self.econ.general_agent_cost - w1[:, None]) * self.ga_sold[
            None, :
        ]
        return options[np.argmax(profit, axis=1)]

    def wholesale(self, was: float) -> float:
        """The company's best wholesale price among the steps of the chain below it."""
        c = self.econ.unit_cost
        if self.econ.flattened:
            options = self.dealer_options
        elif self.rules["general_agent"] == "best_response":
            options = self.ga_cuts - self.nudge
        else:
            options = self.dealer_options / (1.0 + self.decisions.general_agent_markup)
        options = options[(options >= c) & (options <= self.high)]

        def company(w: NDArray) -> NDArray:
            q = self.units(self.dealer_retail(self.ga_price(w)))
            return (w - c) * q[:, DEALER] + q @ self.margins

        return best_candidate(company, np.concatenate([options, [c]]), was)

    def agent(self, cost: float, was: float) -> float:
        """The general agent's best price at this cost, against the dealer's response."""
        c_ga = self.econ.general_agent_cost
        mine = self.ga_options[self.ga_options >= cost]

        def agent(y: NDArray) -> NDArray:
            return (y - cost - c_ga) * self.units(self.dealer_retail(y))[:, DEALER]

        return best_candidate(agent, np.concatenate([mine, [cost]]), was)

    def dealer(self, cost: float, was: float) -> float:
        """The dealer's best retail price at this cost."""
        floor, c_d = self.econ.price_floor, self.econ.dealer_cost
        mine = self.retail[self.retail >= cost]

        def dealer(y: NDArray) -> NDArray:
            return (y - cost - c_d) * self.units(y)[:, DEALER]

        return best_candidate(dealer, np.concatenate([mine, [max(cost, floor)]]), max(floor, was))


def _dealer_chain(
    decisions: Decisions,
    econ: Economics,
    policy: PricingPolicy,
    sample: DemandSample,
    reach: DealerReach,
    current: NDArray,
) -> Decisions:
    """Backward induction down the dealer chain: exact on step demand when the dealers'
    reach does not depend on their markup; a grid search for logit demand (or
    markup-dependent reach)."""
    rules = {
        "wholesale": policy.wholesale,
        "general_agent": "fixed" if econ.flattened else policy.general_agent,
        "dealer": policy.dealer,
    }
    if "best_response" not in rules.values():
        return decisions
    exact = sample.scale == 0 and (reach.elasticity == 0 or reach.weight.sum() <= 0)
    if exact:
        solved = _ExactChain(decisions, econ, sample, reach, current, rules)
    else:
        solved = _SmoothChain(decisions, econ, policy, sample, reach, current, rules)
    return _top_down(decisions, econ, rules, solved)


def _top_down(
    decisions: Decisions, econ: Economics, rules: dict[str, str], chain: _SmoothChain | _ExactChain
) -> Decisions:
    """The dealer chain's prices from the company down: each best-responding tier sets its
    price against the actual price of the tier above and the responses below it."""
    out = decisions
    if rules["wholesale"] == "best_response":
        out = replace(out, wholesale=chain.wholesale(out.wholesale))
    cost = out.wholesale
    if not econ.flattened:
        if rules["general_agent"] == "best_response":
            y = chain.agent(cost, cost * (1.0 + out.general_agent_markup))
            out = replace(out, general_agent_markup=_markup(y, cost, out.general_agent_markup))
        cost = cost * (1.0 + out.general_agent_markup)
    if rules["dealer"] == "best_response":
        y = chain.dealer(cost, cost * (1.0 + out.dealer_markup))
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
    prices are held at their current values. On step demand (logit scale 0) both are exact
    (candidates just below the switching prices); for logit demand a grid search.
    """
    list_rule = policy.list_price if (econ.reps_sell or econ.online_enabled) else "fixed"
    rep_rule = policy.rep if econ.reps_sell and econ.commission_rate > 0 else "fixed"
    if "best_response" not in (list_rule, rep_rule):
        return decisions
    direct = _DirectChain(decisions, econ, policy, sample, reach, current)
    list_price = decisions.list_price
    if list_rule == "best_response":
        if rep_rule != "best_response":
            list_price = direct.list_price_rep_held()
        elif not econ.online_enabled and not direct.telesales_moves:
            list_price = direct.list_price_rep_own_price()
        else:
            list_price = direct.list_price_rep_anticipated()
    discount = decisions.rep_discount
    if rep_rule == "best_response" and econ.rep_max_discount > 0:
        discount = direct.rep_discount(list_price, decisions.rep_discount)
    return replace(decisions, list_price=list_price, rep_discount=discount)


class _DirectChain:
    """The direct channels' payoffs for pairs (list price P, rep discount), and the company's
    and the rep's best responses on them; dealer-chain prices are held.

    Customers are mixed over whether their dealer reaches them (`demands`: weight and
    demand of each case). On step demand (`exact`) the candidates are the prices just below
    where some customer switches; otherwise a grid search.
    """

    def __init__(
        self,
        decisions: Decisions,
        econ: Economics,
        policy: PricingPolicy,
        sample: DemandSample,
        reach: DealerReach,
        current: NDArray,
    ) -> None:
        self.decisions, self.econ, self.current = decisions, econ, current
        self.points = policy.grid_points
        self.exact = sample.scale == 0
        share = float(reach.share(np.array(decisions.dealer_markup)))
        self.demands = [
            (weight, Demand(sample, offers))
            for weight, offers in ((share, None), (1.0 - share, _without_dealer(sample)))
            if weight > 0
        ]
        self.choke = choke_price(sample)
        self.nudge = _NUDGE * max(self.choke, decisions.list_price)
        self.telesales_moves = bool(sample.offers[:, TELESALES].any())

    def rows_at(self, list_price: NDArray, rep_price: NDArray) -> NDArray:
        """Channel prices for pairs (list price, rep price); online and telesales follow P."""
        floor, econ = self.econ.price_floor, self.econ
        list_price, rep_price = np.broadcast_arrays(list_price, rep_price)
        rows = np.repeat(self.current[None, :], list_price.size, axis=0)
        rows[:, REP] = np.maximum(floor, rep_price.ravel())
        rows[:, ONLINE] = np.maximum(floor, list_price.ravel() * (1.0 - econ.online_discount))
        rows[:, TELESALES] = np.maximum(floor, list_price.ravel())
        return rows

    def outcome(self, list_price: NDArray, discount: NDArray) -> tuple[NDArray, NDArray]:
        """Rep commission and company profit for pairs (list price, rep discount)."""
        econ, c = self.econ, self.econ.unit_cost
        list_price, discount = np.broadcast_arrays(list_price, discount)
        rows = self.rows_at(list_price, list_price * (1.0 - discount))
        units = step_units if self.exact else Demand.units
        q = sum(weight * units(demand, rows) for weight, demand in self.demands)
        commission = econ.commission_rate * _commission_base(rows[:, REP], econ) * q[:, REP]
        profit = (
            (self.decisions.wholesale - c) * q[:, DEALER]
            + (rows[:, REP] - c) * q[:, REP]
            - commission
            + (rows[:, ONLINE] - c - econ.online_cost_per_unit) * q[:, ONLINE]
            + (rows[:, TELESALES] - c) * q[:, TELESALES]
        )
        return commission.reshape(list_price.shape), profit.reshape(list_price.shape)

    def rep_switches(self, list_price: float) -> NDArray:
        """Rep prices just below each customer's switching price, at this list price."""
        rows = self.rows_at(np.array([list_price]), np.array([list_price]))[0]
        found = [switch_prices(demand, rows, REP) for _, demand in self.demands]
        return np.concatenate(found) - self.nudge

    def rep_discount(self, list_price: float, current_discount: float | None) -> float:
        """The rep's best discount at this list price (its commission), within its authority."""
        econ = self.econ
        if not self.exact:
            return best_price(
                lambda d: self.outcome(np.full(d.size, list_price), d)[0],
                0.0,
                econ.rep_max_discount,
                self.points,
                current_discount,
            )
        low = max(econ.price_floor, list_price * (1.0 - econ.rep_max_discount))
        high = max(econ.price_floor, list_price)
        was = None if current_discount is None else list_price * (1.0 - current_discount)

        def pay(p: NDArray) -> NDArray:
            return self.outcome(np.full(p.size, list_price), 1.0 - p / list_price)[0]

        options = self.rep_switches(list_price)
        options = options[(options >= low) & (options <= high)]
        price = best_candidate(pay, np.concatenate([options, [high]]), was)
        return float(np.clip(1.0 - price / list_price, 0.0, econ.rep_max_discount))

    def _ceiling(self) -> float:
        """The highest list price worth considering: its discounted prices reach the choke."""
        econ = self.econ
        top = max(self.choke, self.decisions.list_price)
        return top / (1.0 - max(econ.rep_max_discount, econ.online_discount))

    def list_price_rep_own_price(self) -> float:
        """The company's list price when it moves nothing the rep's demand depends on (no
        online, no telesales): the rep's response is its own best price, clipped to its
        authority [P (1 - delta_max), P]."""
        econ, c, floor, top = self.econ, self.econ.unit_cost, self.econ.price_floor, self._ceiling()
        was = self.decisions.list_price

        def rep_pay(p: NDArray) -> NDArray:  # the rep's commission at its own price p
            return self.outcome(p, np.zeros(p.size))[0]

        if self.exact:
            candidates = np.concatenate([self.rep_switches(was), [floor, top]])
            wanted = best_candidate(rep_pay, candidates.clip(floor, top))
        else:
            wanted = best_price(rep_pay, floor, top, self.points)

        def company(lp: NDArray) -> NDArray:
            return self.outcome(lp, np.clip(1.0 - wanted / lp, 0.0, econ.rep_max_discount))[1]

        if not self.exact:
            return best_price(company, c, top, self.points, was)
        # The rep's price is P below `wanted`, `wanted` up to wanted / (1 - delta_max),
        # P (1 - delta_max) above: it crosses a switching price y at P = y or
        # P = y / (1 - delta_max).
        y = self.rep_switches(was)
        kinks = [wanted, wanted / (1.0 - econ.rep_max_discount), c, top]
        options = np.concatenate([y, y / (1.0 - econ.rep_max_discount), kinks])
        options = options[(options >= c) & (options <= top)]
        return best_candidate(company, options, was)

    def list_price_rep_anticipated(self) -> float:
        """The company's list price anticipating the rep's discount at each list price.

        A coarse grid of discounts for each list price, refined by a parabola (cheap enough
        to nest inside the company's search). Not exact on step demand (see
        docs/pricing-policies.md).
        """
        points = min(self.points, 41)
        discounts = np.linspace(0.0, self.econ.rep_max_discount, points)

        def company(lp: NDArray) -> NDArray:
            commission, _ = self.outcome(lp[:, None], discounts[None, :])
            chosen = _grid_argmax(commission, discounts, np.full(lp.size, 0.0))
            return self.outcome(lp, chosen)[1]

        c, was = self.econ.unit_cost, self.decisions.list_price
        return best_price(company, c, self._ceiling(), points, was)

    def list_price_rep_held(self) -> float:
        """The company's list price with the rep's discount held."""
        c, top, was = self.econ.unit_cost, self._ceiling(), self.decisions.list_price
        discount = self.decisions.rep_discount

        def company(lp: NDArray) -> NDArray:
            return self.outcome(lp, np.full(lp.size, discount))[1]

        if not self.exact:
            return best_price(company, c, top, self.points, was)
        options = _list_price_switches(
            self.demands, self.rows_at, discount, self.econ, self.telesales_moves, self.nudge
        )
        options = options[(options >= c) & (options <= top)]
        return best_candidate(company, np.concatenate([options, [c, top]]), was)


def _list_price_switches(
    demands: list[tuple[float, Demand]],
    rows_at: Callable[[NDArray, NDArray], NDArray],
    rep_discount: float,
    econ: Economics,
    telesales_moves: bool,
    nudge: float,
) -> NDArray:
    """List prices just below which some customer changes channel (rep discount held).

    The rep, online and telesales prices are a_j P (a_j = 1 - discount, 1 - online
    discount, 1), or the floor F below F / a_j; the other prices are held. A customer's
    utilities are linear in P between these kinks, so its choice can change only where two
    of them cross: a moving channel and the best held one, two moving channels, or a moving
    channel and one held at the floor. Of those crossings, the ones where the customer's
    own choice does change are kept.
    """
    floor = econ.price_floor
    coef = {REP: 1.0 - rep_discount, ONLINE: 1.0 - econ.online_discount}
    if telesales_moves:
        coef[TELESALES] = 1.0
    moving = [j for j in coef if coef[j] > 0]
    found = []
    for _, demand in demands:
        base, slope = demand.base, demand.slope
        held = np.delete(base + slope * rows_at(np.zeros(1), np.zeros(1))[0], moving, axis=1)
        best_held = held.max(axis=1)
        points = [floor / coef[j] for j in moving]
        for j in moving:
            a = slope[:, j] * coef[j]
            with np.errstate(divide="ignore", invalid="ignore"):
                points.append((best_held - base[:, j]) / a)
                for k in moving:
                    if k > j:
                        points.append((base[:, k] - base[:, j]) / (a - slope[:, k] * coef[k]))
                    if k != j:
                        points.append((base[:, k] + slope[:, k] * floor - base[:, j]) / a)
        customer = np.concatenate([np.arange(base.shape[0])] * (len(points) - len(moving)))
        x = np.concatenate([p for p in points if np.ndim(p)])
        ok = np.isfinite(x) & (x > 0)
        x, customer = x[ok], customer[ok]

        below, above = (
            np.argmax(base[customer] + slope[customer] * rows_at(at, at * coef[REP]), axis=1)
            for at in (x - nudge, x + nudge)
        )
        changed = below != above
        found += [x[changed] - nudge, np.array([floor / coef[j] for j in moving])]
    return np.concatenate(found) if found else np.zeros(0)


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
