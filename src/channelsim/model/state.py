"""The model's state as structs of arrays, the random streams, and the set-up of a run.

Every weekly stage (reps.py, dealers.py, telesales.py, decisions.py, booking.py,
repricing.py) reads and updates a `World`: the attributes below, which `ChannelModel`
carries. Stages depend on this protocol, not on the model class, so they import nothing
above them and can be run on their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from channelsim.model.channels import DEALER, NO_ONE, REP
from channelsim.model.market import Population, SegmentTable
from channelsim.model.policies import Decisions, Economics
from channelsim.model.rules.pricing import ChainPrices
from channelsim.scenario.population import UNKNOWN, VIA_DEALER, VIA_REP, PopulationData
from channelsim.scenario.schema import Scenario

QUARTER = 13
NEVER = np.iinfo(np.int32).max


@dataclass
class RepForce:
    """Rep territory slots (struct of arrays)."""

    region: NDArray[np.int16]
    is_manager: NDArray[np.bool_]
    occupied: NDArray[np.bool_]
    tenure: NDArray[np.int32]
    vacancy: NDArray[np.int32]
    quota: NDArray[np.float64]
    credit_qtd: NDArray[np.float64]
    attainment_last: NDArray[np.float64]
    pay_week: NDArray[np.float64]
    pay_average: NDArray[np.float64]
    pay_total: NDArray[np.float64]
    # Effort that follows pay (reps.effort.model: incentive; see reps.plan_effort).
    effort: NDArray[np.float64]  # visits a week the rep chooses
    effort_done: NDArray[np.float64]  # effort carried over, so visits average `effort`
    salary: NDArray[np.float64]  # weekly base salary (participation: set each quarter)
    productivity: NDArray[np.float64]  # h: commission base per visit
    credit_per_visit: NDArray[np.float64]  # g: credited revenue per visit
    visits_qtd: NDArray[np.float64]
    base_qtd: NDArray[np.float64]  # commission base of the quarter's direct sales
    direct_credit_qtd: NDArray[np.float64]

    @classmethod
    def empty(
        cls, region: NDArray[np.int16], is_manager: NDArray[np.bool_], pay0: float, salary: float
    ):
        n = region.size
        return cls(
            region=region,
            is_manager=is_manager,
            occupied=np.ones(n, bool),
            tenure=np.full(n, 52, np.int32),
            vacancy=np.zeros(n, np.int32),
            quota=np.zeros(n),
            credit_qtd=np.zeros(n),
            attainment_last=np.ones(n),
            pay_week=np.zeros(n),
            pay_average=np.full(n, pay0),
            pay_total=np.zeros(n),
            effort=np.zeros(n),
            effort_done=np.zeros(n),
            salary=np.full(n, salary),
            productivity=np.zeros(n),
            credit_per_visit=np.zeros(n),
            visits_qtd=np.zeros(n),
            base_qtd=np.zeros(n),
            direct_credit_qtd=np.zeros(n),
        )


@dataclass
class DealerNetwork:
    """Dealers (struct of arrays)."""

    region: NDArray[np.int16]
    general_agent: NDArray[np.int16]
    active: NDArray[np.bool_]
    effort: NDArray[np.float64]
    dissatisfaction: NDArray[np.float64]
    strikes: NDArray[np.int32]
    profit_window: NDArray[np.float64]
    profit_total: NDArray[np.float64]
    purchases_qtd: NDArray[np.float64]
    replacement: NDArray[np.int32]
    conflicts_lost: NDArray[np.float64]
    # company margin (invoiced - cost of goods) on each dealer's sales, by week of the quarter
    company_margin_window: NDArray[np.float64]


@dataclass
class CustomerState:
    """Per-customer channel state that changes week to week."""

    dealer: NDArray[np.int32]
    rep_slot: NDArray[np.int32]
    crm: NDArray[np.bool_]
    tied: NDArray[np.bool_]
    stage: NDArray[np.int8]
    rep_ready: NDArray[np.bool_]
    dealer_reached: NDArray[np.bool_]
    tele_reached: NDArray[np.bool_]
    contacted: NDArray[np.bool_]
    rep_first: NDArray[np.int32]
    dealer_first: NDArray[np.int32]
    owner: NDArray[np.int8]
    owner_expires: NDArray[np.int32]
    premium: NDArray[np.float64]
    claims: NDArray[np.float64]
    flagged: NDArray[np.bool_]


@dataclass(frozen=True)
class Accounts:
    """Customers `idx` (in increasing order) with what the week's stages read of them that no
    stage changes before the week's end: their `Traits` (fixed for a run) and their dealer
    (changed only by dealers leaving or arriving, in `dealers.weekly_dynamics`, after the
    decisions).

    `ChannelModel.step` gathers them once a week for the in-market customers; the visit
    candidates and the deciding customers are subsets. At a million customers a gather
    from a customer array costs more than the arithmetic on what it gathers.
    """

    idx: NDArray[np.intp]
    segment: NDArray[np.int16]
    rep_slot: NDArray[np.int32]
    volume: NDArray[np.float64]
    value: NDArray[np.float64]
    dealer: NDArray[np.int32]

    @classmethod
    def of(cls, world: World, idx: NDArray) -> Accounts:
        rows = np.take(world.traits.rows, idx, axis=0)  # one pass: a row per customer
        segment, rep_slot = rows[:, 0].astype(np.int16), rows[:, 1].astype(np.int32)
        return cls(
            idx, segment, rep_slot, rows[:, 2].copy(), rows[:, 3].copy(), world.state.dealer[idx]
        )

    def subset(self, keep: NDArray[np.bool_]) -> Accounts:
        """The accounts where `keep` is true (np.compress: faster than a mask index)."""
        fields = (self.idx, self.segment, self.rep_slot, self.volume, self.value, self.dealer)
        return Accounts(*(np.compress(keep, field) for field in fields))

    @property
    def size(self) -> int:
        return int(self.idx.size)


class Traits:
    """What no stage changes about a customer once the run is set up: segment, rep slot,
    volume per purchase and valuation (the arrays of `Population` and `CustomerState`),
    copied into one row per customer so that `Accounts.of` gathers them in one pass.
    The integers are stored as float64, exactly (they are far below 2**53).
    """

    def __init__(self, population: Population, state: CustomerState) -> None:
        pop = population
        columns = [pop.segment, state.rep_slot, pop.volume, pop.value]
        self.rows = np.column_stack(columns).astype(np.float64, copy=False)


@dataclass
class Management:
    """Sales-management state (sales_management.py): rep skill, careers, coaching, forecasts."""

    skill: NDArray[np.float64]  # per rep slot, in [0, 1]
    level: NDArray[np.int32]  # promotion steps climbed
    since_promotion: NDArray[np.int32]  # weeks in post since hire or the last promotion
    in_post: NDArray[np.bool_]  # who was in post after last week's turnover
    regions: int
    coach_plan: NDArray[np.int64]  # joint visits each rep gets this week
    coached_week: NDArray[np.float64]  # joint visits each rep made this week
    manager_visits: NDArray[np.float64]  # managers' own selling visits added to each rep
    forecast: NDArray[np.float64]  # this quarter's forecast of credited sales
    forecast_valid: NDArray[np.bool_]  # the forecaster has been in post all quarter
    pipeline_then: NDArray[np.float64]  # stage-weighted pipeline when it forecast
    coached: NDArray[np.bool_]  # per customer: a joint visit in this buying window


@dataclass(frozen=True)
class Streams:
    """One random stream per mechanism, children of the model's seeded Generator.

    The order of the children is fixed: a new mechanism adds a stream at the end, so the
    draws of the existing ones do not change.
    """

    market: np.random.Generator
    choice: np.random.Generator
    reach: np.random.Generator
    sales: np.random.Generator
    people: np.random.Generator
    claims: np.random.Generator
    dealers: np.random.Generator
    pricing: np.random.Generator
    management: np.random.Generator  # sales management: initial skills, forecast errors

    @classmethod
    def spawn(cls, rng: np.random.Generator) -> Streams:
        return cls(*rng.spawn(9))


class Territories:
    """Each rep slot's customers (fixed for a run), found without scanning every customer,
    and the slots' quarterly potential, computed again only when the list price moves.
    """

    def __init__(self, rep_slot: NDArray[np.int32], slots: int) -> None:
        self.rep_slot = rep_slot
        has = np.flatnonzero(rep_slot >= 0)
        narrow = rep_slot[has].astype(np.int16) if slots <= np.iinfo(np.int16).max else None
        key = rep_slot[has] if narrow is None else narrow  # a radix sort for 16-bit keys
        self._order = has[np.argsort(key, kind="stable")]
        counts = np.bincount(rep_slot[has], minlength=slots)
        self._ends = np.cumsum(counts)
        self._starts = self._ends - counts
        self._potential: tuple[float, NDArray[np.float64]] | None = None

    def customers(self, slots: NDArray[np.intp]) -> NDArray[np.intp]:
        """The customers of these slots, in increasing order."""
        parts = [self._order[self._starts[s] : self._ends[s]] for s in slots]
        return np.sort(np.concatenate(parts)) if parts else np.zeros(0, np.intp)

    def potential(
        self, population: Population, segments: SegmentTable, list_price: float
    ) -> NDArray[np.float64]:
        """Each slot's quarterly potential at `list_price` (see `potential`)."""
        if self._potential is None or self._potential[0] != list_price:
            slot = self.rep_slot
            territory = np.bincount(
                np.maximum(slot, 0),
                weights=potential(population, segments, list_price) * (slot >= 0),
                minlength=self._starts.size,
            )
            self._potential = (list_price, territory)
        return self._potential[1]


class World(Protocol):
    """What the weekly stages read and update (`ChannelModel` is one)."""

    scenario: Scenario
    streams: Streams
    region_names: list[str]
    segments: SegmentTable
    population: Population
    uses_dealers: bool
    reps_sell: bool
    reps: RepForce
    dealers: DealerNetwork
    state: CustomerState
    traits: Traits
    territories: Territories
    general_agent_margin: NDArray[np.float64]
    general_agent_purchases_qtd: NDArray[np.float64]
    decisions: Decisions
    economics: Economics
    prices: ChainPrices
    rep_floor: float
    dealer_floor: float
    rep_quits: int
    dealers_exited: int
    quarter_attainments: list[float]
    management: Management


# --- set-up ----------------------------------------------------------------------------


def potential(
    population: Population, segments: SegmentTable, list_price: float
) -> NDArray[np.float64]:
    """Revenue each customer could bring in a quarter at the list price."""
    seg = population.segment
    per_week = population.volume / segments.cycle[seg]
    return per_week * QUARTER * list_price


def build_reps(
    scenario: Scenario,
    population: Population,
    segments: SegmentTable,
    regions: int,
    reps_sell: bool,
    uses_dealers: bool,
    tables: PopulationData | None = None,
) -> RepForce:
    """Rep slots per region in proportion to the region's potential; who is a channel manager.

    With a rep table, its rows are the slots (ordered by region, see `rep_slot_of_row`).
    """
    reps = scenario.reps
    region_potential = np.bincount(
        population.region,
        weights=potential(population, segments, scenario.pricing.list_price),
        minlength=regions,
    )
    table = tables.reps if tables is not None else None
    if table is None:
        heads = largest_remainder(reps.headcount, region_potential)
        region = np.repeat(np.arange(len(heads), dtype=np.int16), heads)
    else:
        region = table.region[np.argsort(table.region, kind="stable")]
        heads = np.bincount(region, minlength=regions)
    if table is not None and table.is_manager is not None:
        manager = table.is_manager[np.argsort(table.region, kind="stable")]
        is_manager = manager | (not reps_sell)
    elif not reps_sell or reps.role == "channel_manager":
        is_manager = np.ones(region.size, bool)
    elif reps.role == "mixed" and uses_dealers:
        is_manager = np.zeros(region.size, bool)
        total = int(np.floor(region.size * reps.channel_manager_share + 0.5))
        managers = largest_remainder(total, heads.astype(float))
        for r, k in enumerate(managers):
            start = int(heads[:r].sum())
            is_manager[start : start + k] = True
    else:
        is_manager = np.zeros(region.size, bool)
    return RepForce.empty(region, is_manager, reps.attrition.market_pay, reps.base_salary)


def rep_slot_of_row(tables: PopulationData) -> NDArray[np.int32]:
    """The rep slot of each row of the rep table (slots are ordered by region)."""
    order = np.argsort(tables.reps.region, kind="stable")
    slot = np.empty(order.size, np.int32)
    slot[order] = np.arange(order.size)
    return slot


def build_dealers(
    scenario: Scenario,
    region_names: list[str],
    uses_dealers: bool,
    tables: PopulationData | None = None,
) -> DealerNetwork:
    """Each region's dealers, supplied by the general agent that covers the region.

    With a dealer table, its rows are the dealers, with the general agents it names.
    """
    counts = (
        [scenario.dealer_count(name) for name in region_names]
        if uses_dealers
        else [0] * len(region_names)
    )
    region = np.repeat(np.arange(len(counts), dtype=np.int16), counts)
    table = tables.dealers if tables is not None else None
    if table is not None:
        region = table.region if uses_dealers else np.zeros(0, np.int16)
    ga_of_region = np.full(len(region_names), -1, dtype=np.int16)
    if uses_dealers and not scenario.flattened:
        for g, agent in enumerate(scenario.general_agents.agents):
            for name in agent.regions:
                ga_of_region[region_names.index(name)] = g
    n = region.size
    cfg = scenario.dealers
    return DealerNetwork(
        region=region,
        general_agent=(
            np.zeros(0, np.int16)
            if not n
            else table.general_agent
            if table is not None
            else ga_of_region[region]
        ),
        active=np.ones(n, bool),
        effort=np.full(n, cfg.effort_base),
        dissatisfaction=np.zeros(n),
        strikes=np.zeros(n, np.int32),
        profit_window=np.zeros((n, QUARTER)),
        profit_total=np.zeros(n),
        purchases_qtd=np.zeros(n),
        replacement=np.full(n, -1, np.int32),
        conflicts_lost=np.zeros(n),
        company_margin_window=np.zeros((n, QUARTER)),
    )


def build_customers(
    scenario: Scenario,
    population: Population,
    segments: SegmentTable,
    reps: RepForce,
    dealers: DealerNetwork,
    reps_sell: bool,
    rng: np.random.Generator,
    tables: PopulationData | None = None,
) -> CustomerState:
    """Each customer's dealer and rep slot, and who already buys from the company at the start.

    Sets the starting incumbents in `population`. Where the customer table names a dealer,
    a rep, who the customer buys from or whether it is in the CRM, that replaces the draw
    (the draws are still made, so the other customers' are unchanged).
    """
    pop, n = population, population.size
    state = CustomerState(
        dealer=assign_within_region(pop.region, dealers.region, rng),
        rep_slot=assign_within_region(pop.region, reps.region, rng),
        crm=np.zeros(n, bool),
        tied=np.zeros(n, bool),
        stage=np.zeros(n, np.int8),
        rep_ready=np.zeros(n, bool),
        dealer_reached=np.zeros(n, bool),
        tele_reached=np.zeros(n, bool),
        contacted=np.zeros(n, bool),
        rep_first=np.full(n, NEVER, np.int32),
        dealer_first=np.full(n, NEVER, np.int32),
        owner=np.full(n, NO_ONE, np.int8),
        owner_expires=np.full(n, -1, np.int32),
        premium=np.zeros(n),
        claims=np.zeros(n),
        flagged=np.zeros(n, bool),
    )
    if tables is not None:
        state.claims[:] = tables.claims_to_date  # the CRM's claims history (insurance)
    if tables is not None and tables.dealers is not None:
        state.dealer[:] = tables.dealer if dealers.region.size else -1
    if tables is not None and tables.reps is not None:
        named = tables.rep >= 0
        state.rep_slot[named] = rep_slot_of_row(tables)[tables.rep[named]]
    draw = rng.random(n)
    split = rng.random(n)
    existing = draw < segments.initial_share[pop.segment]
    if tables is not None:
        existing = np.where(tables.buys_from == UNKNOWN, existing, tables.buys_from > 0)
        split = np.where(tables.buys_from == VIA_REP, 1.0, split)
        split = np.where(tables.buys_from == VIA_DEALER, 0.0, split)
    has_dealer = state.dealer >= 0
    has_rep = (state.rep_slot >= 0) & reps_sell
    via_dealer = has_dealer & (~has_rep | (split < 0.5))
    via_rep = has_rep & ~via_dealer
    pop.incumbent[existing & via_dealer] = DEALER
    pop.incumbent[existing & via_rep] = REP
    pop.bought_before[existing & (via_dealer | via_rep)] = True
    state.tied[existing & via_rep] = True
    # Given `existing`, draw is uniform on [0, initial_share): P(crm) = crm_capture.
    crm_cut = scenario.reps.crm_capture * segments.initial_share[pop.segment]
    state.crm[existing & via_rep] = (draw < crm_cut)[existing & via_rep]
    if tables is not None:
        known = tables.in_crm != UNKNOWN
        state.crm[known] = tables.in_crm[known] == 1
    return state


def flag_of(table: NDArray[np.bool_], key: NDArray) -> NDArray[np.bool_]:
    """`table[key]` where `key >= 0`, False where it is -1 (no dealer, no rep slot): one
    lookup in a small table of dealers or slots instead of masking twice."""
    if table.size == 0:
        return np.zeros(key.size, bool)
    return (key >= 0) & table[np.maximum(key, 0)]


def keeps_first_contact(world: World) -> bool:
    """Whether the weeks of first contact (`rep_first`, `dealer_first`) are recorded: only
    deal registration reads them, so under any other rule they stay NEVER."""
    return world.scenario.engagement.large_accounts == "deal_registration"


def declined(world: World, idx: NDArray) -> NDArray[np.bool_]:
    """Customers the company refuses to serve (insurance that declines flagged accounts)."""
    ins = world.scenario.insurance
    if not (ins.enabled and ins.action == "decline"):
        return np.zeros(idx.size, bool)
    return world.state.flagged[idx]


def largest_remainder(total: int, weights: NDArray) -> NDArray[np.int64]:
    """Split `total` heads in proportion to `weights`, whole numbers that add up."""
    if total == 0 or weights.sum() <= 0:
        return np.zeros(weights.size, np.int64)
    exact = total * weights / weights.sum()
    heads = np.floor(exact).astype(np.int64)
    short = total - heads.sum()
    heads[np.argsort(-(exact - heads), kind="stable")[:short]] += 1
    return heads


def assign_within_region(
    customer_region: NDArray,
    server_region: NDArray,
    rng: np.random.Generator,
    server_ids: NDArray | None = None,
) -> NDArray[np.int32]:
    """Give each customer a random server (rep slot or dealer) of its region, or -1 if none."""
    ids = np.arange(server_region.size) if server_ids is None else server_ids
    draw = rng.random(customer_region.size)
    out = np.full(customer_region.size, -1, np.int32)
    if server_region.size == 0:
        return out
    order = np.argsort(server_region, kind="stable")
    sorted_region = server_region[order]
    # Where each region's servers start and end, looked up per customer: the same positions
    # as searching for every customer's region, without a binary search per customer.
    low = int(customer_region.min()) if customer_region.size else 0
    regions = np.arange(low, int(customer_region.max(initial=low)) + 1)
    first = np.searchsorted(sorted_region, regions, side="left")[customer_region - low]
    last = np.searchsorted(sorted_region, regions, side="right")[customer_region - low]
    count = last - first
    has = count > 0
    pick = first[has] + np.minimum((draw[has] * count[has]).astype(np.int64), count[has] - 1)
    out[has] = ids[order[pick]]
    return out
