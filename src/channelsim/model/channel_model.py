"""ChannelModel: builds the channel network from a Scenario and runs the weekly stages.

One step is one week. Customer state lives in arrays (see market.py); reps, dealers and
general agents are small arrays too, with Mesa agents as views (see agents.py). Every
random draw comes from child streams spawned, in a fixed order, from the model's seeded
Generator, one stream per mechanism, so two scenarios that differ only in their channel
set-up see the same customers and the same choice noise (common random numbers).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import mesa
import numpy as np
from numpy.typing import NDArray

from channelsim.model import metrics, policies
from channelsim.model.agents import Customer, Dealer, GeneralAgent, SalesRep
from channelsim.model.market import (
    CHANNELS,
    COMPETITOR,
    DEALER,
    NO_ONE,
    NONE,
    ONLINE,
    REP,
    TELESALES,
    build_population,
    choose,
    is_ours,
    segment_table,
    utilities,
)
from channelsim.model.rules import commission as pay
from channelsim.model.rules import dealers as dealer_rules
from channelsim.model.rules import engagement, pricing, salesforce
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

    @classmethod
    def empty(cls, region: NDArray[np.int16], is_manager: NDArray[np.bool_], pay0: float):
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


@dataclass
class RunResult:
    """What one run produces: its KPIs and its weekly series."""

    kpis: dict[str, float]
    weekly: dict[str, NDArray[np.float64]] = field(repr=False)


class ChannelModel(mesa.Model):
    """A market served by reps, general agents and dealers under one channel strategy."""

    def __init__(self, scenario: Scenario, seed: int | None = None) -> None:
        super().__init__(rng=scenario.seed if seed is None else seed)
        self.scenario = sc = scenario
        (
            self._rng_market,
            self._rng_choice,
            self._rng_reach,
            self._rng_sales,
            self._rng_people,
            self._rng_claims,
            self._rng_dealers,
        ) = self.rng.spawn(7)

        self.region_names = [r.name for r in sc.market.regions]
        self.segments = segment_table(sc.market)
        self.population = build_population(sc.market, self.segments, self._rng_market)
        self.uses_dealers = sc.strategy != "direct"
        self.reps_sell = sc.strategy != "intermediary"

        self.prices = pricing.chain_prices(
            list_price=sc.pricing.list_price,
            wholesale_price=sc.pricing.wholesale_price,
            general_agent_markup=0.0 if sc.flattened else sc.general_agents.markup,
            dealer_markup=sc.dealers.markup,
            price_floor=sc.pricing.price_floor,
            rep_discount=sc.pricing.rep_discount,
            online_discount=sc.online.discount,
            flattened_price=(
                (sc.pricing.flattened_price or sc.pricing.wholesale_price) if sc.flattened else None
            ),
        )
        self.rep_floor = pricing.rep_floor(
            sc.pricing.list_price, sc.pricing.rep_max_discount, sc.pricing.price_floor
        )
        self.dealer_floor = pricing.dealer_floor(
            self.prices.general_agent_to_dealer, sc.dealers.min_margin, sc.pricing.price_floor
        )

        self._build_reps()
        self._build_dealers()
        self._build_customers()
        self.weekly = metrics.WeeklyTable()
        self._quarter_attainments: list[float] = []
        self.dealers_exited = 0
        self._set_quotas(sc.pricing.list_price)
        self._init_pricing_policies()

    # --- construction --------------------------------------------------------------------

    def _potential(self, list_price: float) -> NDArray[np.float64]:
        """Revenue each customer could bring in a quarter at the list price."""
        seg = self.population.segment
        per_week = self.segments.volume[seg] / self.segments.cycle[seg]
        return per_week * QUARTER * list_price

    def _build_reps(self) -> None:
        sc = self.scenario
        region_potential = np.bincount(
            self.population.region,
            weights=self._potential(sc.pricing.list_price),
            minlength=len(self.region_names),
        )
        heads = _largest_remainder(sc.reps.headcount, region_potential)
        region = np.repeat(np.arange(len(heads), dtype=np.int16), heads)
        if not self.reps_sell or sc.reps.role == "channel_manager":
            is_manager = np.ones(region.size, bool)
        elif sc.reps.role == "mixed" and self.uses_dealers:
            is_manager = np.zeros(region.size, bool)
            total = int(np.floor(region.size * sc.reps.channel_manager_share + 0.5))
            managers = _largest_remainder(total, heads.astype(float))
            for r, k in enumerate(managers):
                start = int(heads[:r].sum())
                is_manager[start : start + k] = True
        else:
            is_manager = np.zeros(region.size, bool)
        self.reps = RepForce.empty(region, is_manager, sc.reps.attrition.market_pay)
        for slot in range(region.size):
            SalesRep(self, slot)
        self.rep_quits = 0

    def _build_dealers(self) -> None:
        sc = self.scenario
        counts = (
            [sc.dealer_count(name) for name in self.region_names]
            if self.uses_dealers
            else [0] * len(self.region_names)
        )
        region = np.repeat(np.arange(len(counts), dtype=np.int16), counts)
        ga_of_region = np.full(len(self.region_names), -1, dtype=np.int16)
        self.general_agent_names = (
            [] if sc.flattened else [a.name for a in sc.general_agents.agents]
        )
        if self.uses_dealers and not sc.flattened:
            for g, agent in enumerate(sc.general_agents.agents):
                for name in agent.regions:
                    ga_of_region[self.region_names.index(name)] = g
        n = region.size
        self.dealers = DealerNetwork(
            region=region,
            general_agent=ga_of_region[region] if n else np.zeros(0, np.int16),
            active=np.ones(n, bool),
            effort=np.full(n, sc.dealers.effort_base),
            dissatisfaction=np.zeros(n),
            strikes=np.zeros(n, np.int32),
            profit_window=np.zeros((n, QUARTER)),
            profit_total=np.zeros(n),
            purchases_qtd=np.zeros(n),
            replacement=np.full(n, -1, np.int32),
            conflicts_lost=np.zeros(n),
        )
        self.general_agent_margin = np.zeros(len(self.general_agent_names))
        self.general_agent_purchases_qtd = np.zeros(len(self.general_agent_names))
        for d in range(n):
            Dealer(self, d)
        for g, name in enumerate(self.general_agent_names):
            GeneralAgent(self, g, name)
        self._update_dealer_effort(sc.dealers.markup)

    def _build_customers(self) -> None:
        pop, rng = self.population, self._rng_market
        n = pop.size
        self.state = CustomerState(
            dealer=_assign_within_region(pop.region, self.dealers.region, rng),
            rep_slot=_assign_within_region(pop.region, self.reps.region, rng),
            crm=np.zeros(n, bool),
            tied=np.zeros(n, bool),
            stage=np.zeros(n, np.int8),
            rep_ready=np.zeros(n, bool),
            dealer_reached=np.zeros(n, bool),
            tele_reached=np.zeros(n, bool),
            contacted=np.zeros(n, bool),
            rep_first=np.full(n, NEVER, np.int32),
            dealer_first=np.full(n, NEVER, np.int32),
            owner=np.zeros(n, np.int8),
            owner_expires=np.full(n, -1, np.int32),
            premium=np.zeros(n),
            claims=np.zeros(n),
            flagged=np.zeros(n, bool),
        )
        # Customers who already buy from the company when the run starts.
        draw = rng.random(n)
        split = rng.random(n)
        existing = draw < self.segments.initial_share[pop.segment]
        has_dealer = self.state.dealer >= 0
        has_rep = (self.state.rep_slot >= 0) & self.reps_sell
        via_dealer = has_dealer & (~has_rep | (split < 0.5))
        via_rep = has_rep & ~via_dealer
        pop.incumbent[existing & via_dealer] = DEALER
        pop.incumbent[existing & via_rep] = REP
        pop.bought_before[existing & (via_dealer | via_rep)] = True
        self.state.tied[existing & via_rep] = True
        # Given `existing`, draw is uniform on [0, initial_share): P(crm) = crm_capture.
        crm_cut = self.scenario.reps.crm_capture * self.segments.initial_share[pop.segment]
        self.state.crm[existing & via_rep] = (draw < crm_cut)[existing & via_rep]

    def customer(self, index: int) -> Customer:
        """A Mesa agent view of one customer (made on request; customers live in arrays)."""
        return Customer(self, index)

    # --- the week ------------------------------------------------------------------------

    @property
    def week(self) -> int:
        return self.steps - 1

    def step(self) -> None:
        week = self.week
        self._reprice(week)
        w = self.weekly.start(week)
        in_market = np.flatnonzero(self.population.due <= week)
        self._rep_visits(in_market, week, w)
        support = self._channel_support()
        self._dealer_reach(in_market, week, support)
        self._telesales(in_market, w)
        deciding = in_market[self.population.window_end[in_market] == week]
        self._decide(deciding, week, support, w)
        self._pay_reps(week, w)
        self._rep_turnover(week, w)
        self._dealer_dynamics(week, w)
        self._record_stocks(w)

    def run(self) -> RunResult:
        """Run every week of the scenario and summarise."""
        for _ in range(self.scenario.weeks):
            self.step()
        return RunResult(kpis=metrics.summarise(self), weekly=self.weekly.columns())

    # --- stage 2: reps ---------------------------------------------------------------------

    def _seller_capacity(self) -> NDArray[np.float64]:
        reps, sc = self.reps, self.scenario
        productive = salesforce.ramp(reps.tenure, sc.reps.attrition.ramp_weeks)
        return np.floor(sc.reps.capacity * productive) * reps.occupied

    def _rep_visits(self, in_market: NDArray, week: int, w: dict) -> None:
        if not self.reps_sell or self.reps.region.size == 0:
            return
        pop, st, seg, sc = self.population, self.state, self.segments, self.scenario
        slot = st.rep_slot[in_market]
        ok = slot >= 0
        ok[ok] &= self.reps.occupied[slot[ok]] & ~self.reps.is_manager[slot[ok]]
        ok &= ~st.rep_ready[in_market]
        ok &= ~self._declined(in_market)
        large = seg.large[pop.segment[in_market]]
        rule = sc.engagement.large_accounts
        # A rep learns of a large account that is not its own by prospecting, or because
        # the dealer shares it (only the cooperative rules make dealers share).
        discovered = self._rng_sales.random(in_market.size) < sc.reps.prospecting
        shared = rule in engagement.SHARING_RULES and self.uses_dealers
        known = st.tied[in_market] | discovered | (shared & st.dealer_reached[in_market])
        ok &= ~large | known
        if rule == "dealer_only" and self.uses_dealers:
            ok &= ~large
        if rule == "deal_registration":
            held = (st.owner[in_market] == engagement.DEALER) & (
                st.owner_expires[in_market] >= week
            )
            ok &= ~(large & held)
        cand = in_market[ok]
        if cand.size == 0:
            return
        unit = self.prices.direct - (
            sc.pricing.unit_cost if sc.reps.commission.basis == "gross_margin" else 0.0
        )
        priority = seg.volume[pop.segment[cand]] * unit * (1.0 + st.tied[cand])
        jitter = self._rng_sales.random(cand.size)
        cslot = st.rep_slot[cand]
        order = np.lexsort((jitter, -priority, cslot))
        sorted_slot = cslot[order]
        rank = np.arange(order.size) - np.searchsorted(sorted_slot, sorted_slot, side="left")
        visited = cand[order[rank < self._seller_capacity()[sorted_slot]]]
        if visited.size == 0:
            return
        st.contacted[visited] = True
        st.rep_first[visited] = np.minimum(st.rep_first[visited], week)
        stages = seg.stages[pop.segment[visited]]
        multi = stages > 1
        skill = salesforce.ramp(
            self.reps.tenure[st.rep_slot[visited]], sc.reps.attrition.ramp_weeks
        )
        advance = self._rng_sales.random(visited.size) < sc.reps.pipeline.advance_prob * skill
        advance |= ~multi
        st.stage[visited] = np.minimum(st.stage[visited] + advance, stages)
        st.rep_ready[visited] = st.stage[visited] >= stages
        w["pipeline_visits"] += float(multi.sum())
        w["pipeline_advances"] += float((advance & multi).sum())

    def _channel_support(self) -> NDArray[np.float64]:
        """Share of full channel-manager support each dealer gets this week."""
        d = self.dealers
        if d.region.size == 0:
            return np.zeros(0)
        sc = self.scenario
        managers = self.reps.occupied & self.reps.is_manager
        productive = salesforce.ramp(self.reps.tenure, sc.reps.attrition.ramp_weeks)
        visits = np.bincount(
            self.reps.region,
            weights=sc.reps.capacity * productive * managers,
            minlength=len(self.region_names),
        )
        active = np.bincount(d.region, weights=d.active, minlength=len(self.region_names))
        per_dealer = visits / np.maximum(active, 1) / sc.reps.support.visits_per_dealer
        return np.minimum(1.0, per_dealer[d.region]) * d.active

    # --- stage 3: dealers, stage 4: telesales ---------------------------------------------

    def _dealer_reach(self, in_market: NDArray, week: int, support: NDArray) -> None:
        draw = self._rng_reach.random(in_market.size)
        if not self.uses_dealers or self.dealers.region.size == 0:
            return
        st, sc, d = self.state, self.scenario, self.dealers
        dealer = st.dealer[in_market]
        has = dealer >= 0
        has[has] &= d.active[dealer[has]]
        has &= ~self._declined(in_market)
        idx = dealer[has]
        reach = np.minimum(
            1.0,
            sc.dealers.reach * d.effort[idx] * (1.0 + sc.reps.support.reach_boost * support[idx]),
        )
        own = self.population.incumbent[in_market[has]] == DEALER
        reach = np.where(own, np.maximum(reach, sc.dealers.relationship_reach), reach)
        hit = in_market[has][draw[has] < reach]
        st.dealer_reached[hit] = True
        st.contacted[hit] = True
        st.dealer_first[hit] = np.minimum(st.dealer_first[hit], week)

    def _telesales(self, in_market: NDArray, w: dict) -> None:
        tele = self.scenario.telesales
        if not tele.enabled:
            return
        st, pop = self.state, self.population
        calls = tele.agents * tele.calls_per_agent
        w["telesales_cost"] += tele.agents * tele.cost_per_agent_week
        ok = st.crm[in_market] & pop.bought_before[in_market] & ~st.tele_reached[in_market]
        ok &= ~st.rep_ready[in_market] & ~self._declined(in_market)
        cand = in_market[ok]
        if cand.size == 0 or calls == 0:
            return
        if cand.size > calls:
            jitter = self._rng_sales.random(cand.size)
            order = np.lexsort((jitter, pop.window_end[cand]))
            cand = cand[order[:calls]]
        st.tele_reached[cand] = True
        st.contacted[cand] = True

    def _declined(self, idx: NDArray) -> NDArray[np.bool_]:
        ins = self.scenario.insurance
        if not (ins.enabled and ins.action == "decline"):
            return np.zeros(idx.size, bool)
        return self.state.flagged[idx]

    # --- stages 5-6: offers, conflicts, choice, booking ------------------------------------

    def _decide(self, idx: NDArray, week: int, support: NDArray, w: dict) -> None:
        gumbel = self._rng_choice.gumbel(size=(idx.size, len(CHANNELS)))
        capture_draw = self._rng_choice.random(idx.size)
        claim_noise = self._rng_claims.gamma(
            self.scenario.insurance.claim_dispersion,
            1.0 / self.scenario.insurance.claim_dispersion,
            size=idx.size,
        )
        if idx.size == 0:
            return
        sc, pop, st, seg, d = (
            self.scenario,
            self.population,
            self.state,
            self.segments,
            self.dealers,
        )
        s = pop.segment[idx]
        n = idx.size
        declined = self._declined(idx)

        # Who can offer.
        dealer = st.dealer[idx]
        dealer_ok = st.dealer_reached[idx] & (dealer >= 0)
        dealer_ok[dealer_ok] &= d.active[dealer[dealer_ok]]
        slot = st.rep_slot[idx]
        rep_ok = st.rep_ready[idx] & (slot >= 0)
        rep_ok[rep_ok] &= self.reps.occupied[slot[rep_ok]]
        large = seg.large[s]
        rule = sc.engagement.large_accounts if self.uses_dealers and self.reps_sell else "open"
        if sc.engagement.large_accounts == "deal_registration":
            st.owner[idx], st.owner_expires[idx] = engagement.register(
                st.owner[idx],
                st.owner_expires[idx],
                week,
                st.rep_first[idx],
                st.dealer_first[idx],
                self._rng_choice.random(n) < 0.5,
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
        prices[:, DEALER] = self.prices.dealer_to_customer
        prices[:, REP] = self.prices.direct
        prices[:, ONLINE] = self.prices.online
        prices[:, TELESALES] = max(sc.pricing.price_floor, self.decisions.list_price)
        prices[:, COMPETITOR] = sc.market.competitor.price
        if sc.insurance.enabled and sc.insurance.action == "reprice":
            surcharge = np.where(st.flagged[idx], 1.0 + sc.insurance.surcharge, 1.0)
            prices[:, :COMPETITOR] *= surcharge[:, None]

        # Open conflicts: Bertrand undercutting down to the floors.
        erosion = np.zeros(n)
        if conflict.any():
            c = np.flatnonzero(conflict)
            theta = seg.direct_acceptance[s[c]]
            rep_wins = self.rep_floor < self.dealer_floor
            value = pop.value[idx[c]] * (theta if rep_wins else 1.0)
            rep_won, price = pricing.bertrand(
                self.rep_floor, self.dealer_floor, value, prices[c, REP], prices[c, DEALER]
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
        service = self._service_levels(dealer_service)

        available = np.zeros((n, len(CHANNELS)), bool)
        available[:, DEALER] = dealer_ok & ~declined
        available[:, REP] = rep_ok & ~declined
        available[:, ONLINE] = sc.online.enabled & ~declined
        available[:, TELESALES] = st.tele_reached[idx] & ~declined
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
        self._book(idx, choice, prices, erosion, conflict, assisted, capture_draw, claim_noise, w)
        self._close_window(idx)

    def _service_levels(self, dealer_service: NDArray) -> NDArray:
        """Service of every channel as each customer sees it; only the dealer's varies."""
        sc = self.scenario
        service = np.zeros((dealer_service.size, len(CHANNELS)))
        service[:, DEALER] = np.minimum(1.0, dealer_service)
        service[:, REP] = sc.reps.service_quality
        service[:, ONLINE] = sc.online.service_quality
        service[:, TELESALES] = sc.telesales.service_quality
        service[:, COMPETITOR] = sc.market.competitor.service
        return service

    def _book(
        self,
        idx: NDArray,
        choice: NDArray,
        prices: NDArray,
        erosion: NDArray,
        conflict: NDArray,
        assisted: NDArray,
        capture_draw: NDArray,
        claim_noise: NDArray,
        w: dict,
    ) -> None:
        sc, pop, st, seg = self.scenario, self.population, self.state, self.segments
        s = pop.segment[idx]
        volume = seg.volume[s]
        ours = is_ours(choice)
        price = prices[np.arange(idx.size), choice]
        revenue = np.where(ours, price * volume, 0.0)
        units = np.where(ours, volume, 0.0)
        by_dealer = choice == DEALER

        company_price = np.where(by_dealer, self.prices.company_to_general_agent, price)
        dealer_cost = np.where(by_dealer, self.prices.general_agent_to_dealer, price)
        company, general_agent, dealer_margin = pricing.money_split(
            price, company_price, dealer_cost
        )
        w["revenue"] += revenue.sum()
        w["company_revenue"] += (company * units).sum()
        w["ga_margin"] += (general_agent * units).sum()
        w["dealer_margin"] += (dealer_margin * units).sum()
        w["units"] += units.sum()
        w["units_market"] += volume.sum()
        w["cost_of_goods"] += units.sum() * sc.pricing.unit_cost
        w["revenue_list"] += (units * self.decisions.list_price).sum()
        for code, name in (
            (DEALER, "dealer"),
            (REP, "direct"),
            (ONLINE, "online"),
            (TELESALES, "telesales"),
        ):
            w[f"revenue_{name}"] += revenue[choice == code].sum()
        w["online_cost"] += sc.online.cost_per_order * (choice == ONLINE).sum()
        w["conflicts"] += conflict.sum()
        w["conflict_price_erosion"] += erosion[ours].sum()
        w["assisted_sales"] += (assisted & by_dealer).sum()

        # Who gets paid what.
        d = self.dealers
        dealer = st.dealer[idx]
        if d.region.size and by_dealer.any():
            dd = dealer[by_dealer]
            np.add.at(
                d.profit_window[:, self.week % QUARTER], dd, (dealer_margin * units)[by_dealer]
            )
            np.add.at(d.purchases_qtd, dd, (dealer_cost * units)[by_dealer])
            ga = d.general_agent[dd]
            has_ga = ga >= 0
            np.add.at(
                self.general_agent_margin, ga[has_ga], (general_agent * units)[by_dealer][has_ga]
            )
            np.add.at(
                self.general_agent_purchases_qtd, ga[has_ga], (company * units)[by_dealer][has_ga]
            )
        slot = st.rep_slot[idx]
        has_rep = slot >= 0
        has_rep[has_rep] &= self.reps.occupied[slot[has_rep]]
        self._credit_reps(slot, has_rep & (choice == REP), revenue, units, direct=True)
        self._credit_reps(slot, has_rep & by_dealer, revenue, units, direct=False)

        # Customers' new state.
        was_ours = is_ours(pop.incumbent[idx])
        repeat_eligible = pop.bought_before[idx] & was_ours
        w["new_customers"] += (ours & ~pop.bought_before[idx]).sum()
        w["repeat_purchases"] += (ours & repeat_eligible).sum()
        w["repeat_eligible"] += repeat_eligible.sum()
        w["churned_customers"] += (~ours & was_ours).sum()
        w["idle_customers"] += (repeat_eligible & ~st.contacted[idx]).sum()
        capture = np.select(
            [choice == REP, by_dealer, (choice == ONLINE) | (choice == TELESALES)],
            [sc.reps.crm_capture, sc.dealers.crm_share, 1.0],
            0.0,
        )
        st.crm[idx] |= ours & (capture_draw < capture)
        st.tied[idx] = choice == REP
        pop.bought_before[idx] |= ours
        pop.incumbent[idx] = np.where(
            ours, choice, np.where(choice == COMPETITOR, COMPETITOR, NO_ONE)
        ).astype(np.int8)

        if sc.insurance.enabled:
            claims = np.where(ours, revenue * pop.risk[idx] * claim_noise, 0.0)
            st.premium[idx] += revenue
            st.claims[idx] += claims
            w["claims"] += claims.sum()
            w["premium"] += revenue.sum()
            ratio = st.claims[idx] / np.maximum(st.premium[idx], 1e-12)
            st.flagged[idx] = (st.premium[idx] > 0) & (ratio > sc.insurance.loss_ratio_threshold)

    def _credit_reps(
        self, slot: NDArray, mask: NDArray, revenue: NDArray, units: NDArray, direct: bool
    ) -> None:
        if not mask.any():
            return
        sc, reps = self.scenario, self.reps
        s = slot[mask]
        credit = np.bincount(s, weights=revenue[mask], minlength=reps.region.size)
        reps.credit_qtd += credit
        if direct:
            base = pay.commission_base(
                sc.reps.commission.basis, revenue[mask], sc.pricing.unit_cost, units[mask]
            )
            rate = sc.reps.commission.rate
        else:
            base = revenue[mask]
            rate = sc.reps.commission.overlay_rate
        attained = pay.attainment(reps.credit_qtd[s], reps.quota[s])
        earned = pay.commission(base, rate, attained, sc.reps.commission.tiers)
        reps.pay_week += np.bincount(s, weights=earned, minlength=reps.region.size)

    def _close_window(self, idx: NDArray) -> None:
        pop, st, seg = self.population, self.state, self.segments
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

    # --- stage 7: pay, quotas, attrition, hiring, dealers ----------------------------------

    def _set_quotas(self, list_price: float) -> None:
        """Next quarter's quotas, from territory potential at the current list price."""
        reps, sc = self.reps, self.scenario
        n = reps.region.size
        if n == 0:
            return
        potential = np.bincount(
            np.maximum(self.state.rep_slot, 0),
            weights=self._potential(list_price) * (self.state.rep_slot >= 0),
            minlength=n,
        )
        noise = self._rng_people.standard_normal(n) * sc.reps.quota.noise
        if sc.reps.quota.method == "data_driven":
            reps.quota = salesforce.data_driven_quota(potential, sc.reps.quota.target_share)
        else:
            reps.quota = salesforce.negotiated_quota(
                potential.sum() * sc.reps.quota.target_share, n, noise, sc.reps.quota.haggling_bias
            )

    def _pay_reps(self, week: int, w: dict) -> None:
        reps, sc = self.reps, self.scenario
        if reps.region.size == 0:
            return
        reps.pay_week += sc.reps.base_salary * reps.occupied
        if week % QUARTER == QUARTER - 1:
            attained = pay.attainment(reps.credit_qtd, reps.quota)
            reps.pay_week += (
                pay.quota_bonus(attained, sc.reps.commission.quota_bonus) * reps.occupied
            )
            if reps.occupied.any():
                self._quarter_attainments.append(float(attained[reps.occupied].mean()))
            reps.attainment_last = np.where(reps.occupied, attained, reps.attainment_last)
            reps.credit_qtd[:] = 0.0
            self._set_quotas(self.decisions.list_price)
        w["rep_compensation"] += reps.pay_week.sum()
        reps.pay_total += reps.pay_week
        reps.pay_average = np.where(
            reps.occupied, 0.9 * reps.pay_average + 0.1 * reps.pay_week, reps.pay_average
        )
        reps.pay_week[:] = 0.0

    def _rep_turnover(self, week: int, w: dict) -> None:
        reps, sc, st, pop = self.reps, self.scenario, self.state, self.population
        n = reps.region.size
        draw = self._rng_people.random(n)
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
        self.rep_quits += int(quits.sum())
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

    def _update_dealer_effort(self, markup: float) -> None:
        sc, d = self.scenario, self.dealers
        d.effort = (
            dealer_rules.dealer_effort(
                sc.dealers.effort_base,
                markup,
                sc.dealers.reference_margin,
                sc.dealers.effort_margin_elasticity,
                d.dissatisfaction,
            )
            * d.active
        )

    def _dealer_dynamics(self, week: int, w: dict) -> None:
        sc, d = self.scenario, self.dealers
        n = d.region.size
        if n == 0:
            return
        cfg = sc.dealers
        col = week % QUARTER
        costs = (cfg.fixed_cost + cfg.effort_cost * d.effort) * d.active
        d.profit_window[:, col] -= costs
        w["dealer_costs"] += costs.sum()
        if week % QUARTER == QUARTER - 1:
            self._pay_rebates(w)
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
                self._dealers_leave(np.flatnonzero(leaving))
                w["dealers_exited"] += leaving.sum()
        # Replacements arrive after their delay.
        due = ~d.active & (d.replacement == 0)
        d.replacement = np.where(~d.active & (d.replacement > 0), d.replacement - 1, d.replacement)
        if due.any():
            self._dealers_arrive(np.flatnonzero(due))
        d.profit_window[:, (week + 1) % QUARTER] = 0.0
        self._update_dealer_effort(self.decisions.dealer_markup)

    def _pay_rebates(self, w: dict) -> None:
        sc, d = self.scenario, self.dealers
        col = self.week % QUARTER
        ga_rebate = sc.general_agents.volume_rebate
        paid = ga_rebate.rate * np.maximum(
            0.0, self.general_agent_purchases_qtd - ga_rebate.threshold
        )
        self.general_agent_margin += paid
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
            np.add.at(self.general_agent_margin, d.general_agent, -dealer_paid)
        self.general_agent_purchases_qtd[:] = 0.0
        d.purchases_qtd[:] = 0.0

    def _dealers_leave(self, leaving: NDArray) -> None:
        d, st, cfg = self.dealers, self.state, self.scenario.dealers
        self.dealers_exited += leaving.size
        d.active[leaving] = False
        d.effort[leaving] = 0.0
        d.replacement[leaving] = cfg.exit.replacement_delay_weeks if cfg.exit.replace else -1
        orphans = np.flatnonzero(np.isin(st.dealer, leaving))
        self._reassign_dealers(orphans)
        self.population.incumbent[orphans] = np.where(
            self.population.incumbent[orphans] == DEALER, NO_ONE, self.population.incumbent[orphans]
        )

    def _dealers_arrive(self, arriving: NDArray) -> None:
        d, st = self.dealers, self.state
        d.active[arriving] = True
        d.dissatisfaction[arriving] = 0.0
        d.strikes[arriving] = 0
        d.profit_window[arriving] = 0.0
        d.replacement[arriving] = -1
        regions = d.region[arriving]
        orphans = np.flatnonzero(
            (st.dealer < 0) & np.isin(self.population.region, regions) & self.uses_dealers
        )
        self._reassign_dealers(orphans)

    def _reassign_dealers(self, customers: NDArray) -> None:
        """Give customers of a departed dealer to another active dealer in their region."""
        d, st = self.dealers, self.state
        active = np.flatnonzero(d.active)
        st.dealer[customers] = _assign_within_region(
            self.population.region[customers], d.region[active], self._rng_dealers, active
        )

    # --- stage 8: metrics --------------------------------------------------------------------

    def _record_stocks(self, w: dict) -> None:
        w["customers_active"] = float(np.count_nonzero(is_ours(self.population.incumbent)))
        w["dealers_active"] = float(self.dealers.active.sum())
        w["reps_active"] = float(self.reps.occupied.sum())
        w["crm_share"] = float(self.state.crm.mean()) if self.state.crm.size else 0.0

    # --- pricing policies (issue 6): best-response and adaptive prices ----------------------
    # The logic is in policies.py, the equations in docs/pricing-policies.md. With every tier
    # `fixed` (the default) nothing here changes a price or draws a random number.

    def _init_pricing_policies(self) -> None:
        sc = self.scenario
        # An eighth child of the seeded generator: spawning it leaves the seven above as they were.
        self._rng_pricing = self.rng.spawn(1)[0]
        self.decisions = policies.Decisions(
            wholesale=(sc.pricing.flattened_price or sc.pricing.wholesale_price)
            if sc.flattened
            else sc.pricing.wholesale_price,
            list_price=sc.pricing.list_price,
            general_agent_markup=sc.general_agents.markup,
            dealer_markup=sc.dealers.markup,
            rep_discount=sc.pricing.rep_discount,
        )
        rate = 1.0 / self.segments.cycle[self.population.segment]
        units = (rate * self.segments.volume[self.population.segment]).sum()
        self._economics = policies.Economics(
            unit_cost=sc.pricing.unit_cost,
            price_floor=sc.pricing.price_floor,
            flattened=sc.flattened,
            uses_dealers=self.uses_dealers and self.dealers.region.size > 0,
            reps_sell=self.reps_sell and bool((~self.reps.is_manager).any()),
            rep_max_discount=sc.pricing.rep_max_discount,
            online_enabled=sc.online.enabled,
            online_discount=sc.online.discount,
            online_cost_per_unit=sc.online.cost_per_order * rate.sum() / max(units, 1e-12),
            telesales_price=max(sc.pricing.price_floor, sc.pricing.list_price),
            competitor_price=sc.market.competitor.price,
            commission_basis=sc.reps.commission.basis,
            commission_rate=sc.reps.commission.rate,
        )
        self._climbs: dict[str, policies.Climb] = {}
        self._flows_at_review = self.weekly.totals()
        self.price_history: list[tuple[int, pricing.ChainPrices]] = []

    def _reprice(self, week: int) -> None:
        """Tiers with a best-response or adaptive policy review their prices every few weeks."""
        policy = self.scenario.pricing.policy
        best, adaptive = policies.uses(policy, "best_response"), policies.uses(policy, "adaptive")
        if not (best or adaptive):
            return
        if week % policy.reprice_weeks == 0:
            sample, reach = self._demand_sample()
            decisions = self.decisions
            if adaptive:
                draws = self._rng_pricing.random((len(policies.TIERS), 2))
                totals = self.weekly.totals()
                if week > 0:
                    flows = metrics.derive(
                        {k: np.asarray(v - self._flows_at_review[k]) for k, v in totals.items()}
                    )
                    decisions, self._climbs = policies.adapt(
                        decisions,
                        self._economics,
                        policy,
                        self._climbs,
                        policies.realised_profits({k: float(v) for k, v in flows.items()}),
                        policies.choke_price(sample),
                        draws,
                    )
                self._flows_at_review = totals
            if best:
                decisions = policies.best_responses(
                    decisions, self._economics, policy, sample, reach
                )
            self._apply_decisions(decisions)
            self.price_history.append((week, self.prices))
        if policy.dealer != "fixed":
            self._update_dealer_effort(self.decisions.dealer_markup)

    def _apply_decisions(self, decisions: policies.Decisions) -> None:
        sc = self.scenario
        self.decisions = decisions
        self.prices = policies.chain(decisions, self._economics)
        self.rep_floor = pricing.rep_floor(
            decisions.list_price, sc.pricing.rep_max_discount, sc.pricing.price_floor
        )
        self.dealer_floor = pricing.dealer_floor(
            self.prices.general_agent_to_dealer, sc.dealers.min_margin, sc.pricing.price_floor
        )

    def _demand_sample(self) -> tuple[policies.DemandSample, policies.DealerReach]:
        """The customers, offers and dealer reach that best responses anticipate."""
        sc, pop, st, seg = self.scenario, self.population, self.state, self.segments
        d = self.dealers
        idx = policies.systematic_sample(pop.size, sc.pricing.policy.sample_customers)
        s, n = pop.segment[idx], idx.size
        declined = self._declined(idx)
        dealer = st.dealer[idx]
        has_dealer = (dealer >= 0) & self.uses_dealers & ~declined
        has_dealer[has_dealer] &= d.active[dealer[has_dealer]]
        slot = st.rep_slot[idx]
        has_rep = (slot >= 0) & self.reps_sell & ~declined
        has_rep[has_rep] &= self.reps.occupied[slot[has_rep]] & ~self.reps.is_manager[slot[has_rep]]
        large = seg.large[s]
        rule = sc.engagement.large_accounts if self.uses_dealers and self.reps_sell else "open"
        quoting = engagement.who_quotes(
            rule, has_rep[large], has_dealer[large], st.owner[idx][large]
        )
        has_rep[large] = quoting.rep_quotes
        has_dealer[large] &= quoting.dealer_quotes
        offers = np.zeros((n, len(CHANNELS)), bool)
        offers[:, DEALER] = has_dealer
        offers[:, REP] = has_rep
        offers[:, ONLINE] = sc.online.enabled & ~declined
        offers[:, TELESALES] = (
            sc.telesales.enabled & st.crm[idx] & pop.bought_before[idx] & ~declined
        )
        offers[:, COMPETITOR] = sc.market.competitor.enabled
        offers[:, NONE] = True
        support = np.zeros(n)
        if d.region.size:
            support[dealer >= 0] = self._channel_support()[dealer[dealer >= 0]]
        service = self._service_levels(
            sc.dealers.service_quality + sc.reps.support.service_boost * support
        )
        weight = seg.volume[s] / seg.cycle[s] * (pop.size / max(n, 1))
        sample = policies.DemandSample(
            value=pop.value[idx],
            direct_acceptance=seg.direct_acceptance[s],
            price_sensitivity=seg.price_sensitivity[s],
            service_sensitivity=seg.service_sensitivity[s],
            loyalty=seg.loyalty[s],
            incumbent=pop.incumbent[idx],
            service=service,
            offers=offers,
            weight=weight,
            scale=sc.market.choice.scale,
        )
        own = pop.incumbent[idx] == DEALER
        reach = policies.DealerReach(
            reach=(sc.dealers.reach * (1.0 + sc.reps.support.reach_boost * support))[has_dealer],
            effort_ceiling=sc.dealers.effort_base * (1.0 - d.dissatisfaction[dealer[has_dealer]]),
            relationship=np.where(own, sc.dealers.relationship_reach, 0.0)[has_dealer],
            windows=seg.decision_weeks[s][has_dealer],
            weight=weight[has_dealer],
            reference_margin=sc.dealers.reference_margin,
            elasticity=sc.dealers.effort_margin_elasticity,
        )
        return sample, reach


def _largest_remainder(total: int, weights: NDArray) -> NDArray[np.int64]:
    """Split `total` heads in proportion to `weights`, whole numbers that add up."""
    if total == 0 or weights.sum() <= 0:
        return np.zeros(weights.size, np.int64)
    exact = total * weights / weights.sum()
    heads = np.floor(exact).astype(np.int64)
    short = total - heads.sum()
    heads[np.argsort(-(exact - heads), kind="stable")[:short]] += 1
    return heads


def _assign_within_region(
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
    first = np.searchsorted(sorted_region, customer_region, side="left")
    last = np.searchsorted(sorted_region, customer_region, side="right")
    count = last - first
    has = count > 0
    pick = first[has] + np.minimum((draw[has] * count[has]).astype(np.int64), count[has] - 1)
    out[has] = ids[order[pick]]
    return out
