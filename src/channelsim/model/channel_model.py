"""ChannelModel: builds the channel network from a Scenario and runs the weekly stages.

One step is one week. Customer state lives in arrays (see market.py and state.py); reps,
dealers and general agents are small arrays too, with Mesa agents as views (see
agents.py). Each stage of the week lives in its own module: reps.py (visits, pay,
turnover), dealers.py, telesales.py, decisions.py (offers and choice), booking.py
(money and commissions), repricing.py (pricing policies), sales_management.py (skill,
coaching, training, careers, forecasts). Every random draw comes from
child streams spawned, in a fixed order, from the model's seeded Generator, one stream per
mechanism (state.Streams), so two scenarios that differ only in their channel set-up see
the same customers and the same choice noise (common random numbers).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import mesa
import numpy as np
from numpy.typing import NDArray

from channelsim.model import (
    dealers,
    decisions,
    metrics,
    repricing,
    reps,
    sales_management,
    state,
    telesales,
)
from channelsim.model.agents import Customer, Dealer, GeneralAgent, SalesRep
from channelsim.model.market import build_population, segment_table
from channelsim.model.rules.pricing import ChainPrices
from channelsim.scenario.schema import Scenario


@dataclass
class RunResult:
    """What one run produces: its KPIs and its weekly series."""

    kpis: dict[str, float]
    weekly: dict[str, NDArray[np.float64]] = field(repr=False)


class ChannelModel(mesa.Model):
    """A market served by reps, general agents and dealers under one channel strategy.

    Its attributes are the `state.World` the stages read and update.
    """

    def __init__(self, scenario: Scenario, seed: int | None = None) -> None:
        super().__init__(rng=scenario.seed if seed is None else seed)
        self.scenario = scenario
        self.streams = state.Streams.spawn(self.rng)
        self._build_market()
        self._build_sellers()
        self._build_books()

    def _build_market(self) -> None:
        """The customers: read from tables (market.population) or drawn from the counts."""
        sc = self.scenario
        self.region_names = [r.name for r in sc.market.regions]
        self.segments = segment_table(sc.market)
        self.tables = sc.market.population.data if sc.market.population else None
        self.population = build_population(
            sc.market, self.segments, self.streams.market, self.tables
        )
        self.uses_dealers = sc.strategy != "direct"
        self.reps_sell = sc.strategy != "intermediary"

    def _build_sellers(self) -> None:
        """Rep slots, dealers and general agents (arrays, with their Mesa agent views), then
        each customer's dealer, rep and incumbent seller."""
        sc = self.scenario
        regions = len(self.region_names)
        self.reps = state.build_reps(
            sc,
            self.population,
            self.segments,
            regions,
            self.reps_sell,
            self.uses_dealers,
            self.tables,
        )
        for slot in range(self.reps.region.size):
            SalesRep(self, slot)
        self.rep_quits = 0
        self.dealers = state.build_dealers(sc, self.region_names, self.uses_dealers, self.tables)
        self.general_agent_names = (
            [] if sc.flattened else [a.name for a in sc.general_agents.agents]
        )
        self.general_agent_margin = np.zeros(len(self.general_agent_names))
        self.general_agent_purchases_qtd = np.zeros(len(self.general_agent_names))
        for d in range(self.dealers.region.size):
            Dealer(self, d)
        for g, name in enumerate(self.general_agent_names):
            GeneralAgent(self, g, name)
        dealers.update_effort(self, sc.dealers.markup)
        self.state = state.build_customers(
            sc,
            self.population,
            self.segments,
            self.reps,
            self.dealers,
            self.reps_sell,
            self.streams.market,
            self.tables,
        )
        self.territories = state.Territories(self.state.rep_slot, self.reps.region.size)
        self.traits = state.Traits(self.population, self.state)

    def _build_books(self) -> None:
        """The weekly table, sales management, first quotas and the starting prices."""
        sc = self.scenario
        self.weekly = metrics.WeeklyTable()
        self.quarter_attainments: list[float] = []
        self.dealers_exited = 0
        self.management = sales_management.build(
            sc, self.reps, self.population.size, len(self.region_names), self.streams.management
        )
        reps.set_quotas(self, sc.pricing.list_price)
        self.economics = repricing.economics(
            sc,
            self.population,
            self.segments,
            uses_dealers=self.uses_dealers and self.dealers.region.size > 0,
            reps_sell=self.reps_sell and bool((~self.reps.is_manager).any()),
        )
        repricing.apply(self, repricing.initial_decisions(sc))
        self.price_reviews = repricing.PriceReviews(self.streams.pricing, self.weekly.totals())

    def customer(self, index: int) -> Customer:
        """A Mesa agent view of one customer (made on request; customers live in arrays)."""
        return Customer(self, index)

    @property
    def price_history(self) -> list[tuple[int, ChainPrices]]:
        """(week, prices) after every price review."""
        return self.price_reviews.history

    @property
    def week(self) -> int:
        return self.steps - 1

    def step(self) -> None:
        """One week, stage by stage."""
        week = self.week
        self.price_reviews.review(self, week, self.weekly)
        w = self.weekly.start(week)
        in_market = np.flatnonzero(self.population.due <= week)
        market = state.Accounts.of(self, in_market)
        reps.plan_effort(self, week)
        sales_management.plan(self, week, w)
        visited = reps.visit(self, market, week, w)
        sales_management.coach(self, visited, w)
        support = dealers.channel_support(self)
        dealers.reach(self, market, week, support)
        telesales.call(self, in_market, w)
        deciding = market.subset(self.population.window_end[in_market] == week)
        decisions.decide(self, deciding, week, support, w)
        sales_management.review(self, week, deciding.idx, w)
        reps.pay(self, week, w)
        reps.turnover(self, w)
        sales_management.people(self, week, w)
        dealers.weekly_dynamics(self, week, w)
        metrics.record_stocks(
            w, self.population.incumbent, self.dealers.active, self.reps.occupied, self.state.crm
        )

    def run(self) -> RunResult:
        """Run the warm-up, then the scenario's weeks, and summarise the latter."""
        warmup = self.scenario.warmup()
        for _ in range(warmup):  # simulated, but left out of every KPI
            self.step()
        attainments, dealer_profit = len(self.quarter_attainments), self.dealers.profit_total.copy()
        for _ in range(self.scenario.weeks):
            self.step()
        end = metrics.EndOfRun(
            weeks=self.scenario.weeks,
            insurance=self.scenario.insurance.enabled,
            quarter_attainments=tuple(self.quarter_attainments[attainments:]),
            dealer_profit_total=self.dealers.profit_total - dealer_profit,
            warmup=warmup,
        )
        return RunResult(
            kpis=metrics.summarise(self.weekly, end), weekly=self.weekly.columns(offset=warmup)
        )
