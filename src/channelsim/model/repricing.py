"""Price reviews: tiers with a best-response or adaptive pricing policy move their prices.

The logic is in policies.py, the equations in docs/pricing-policies.md. With every tier
`fixed` (the default) nothing here changes a price or draws a random number.
"""

from __future__ import annotations

import numpy as np

from channelsim.model import decisions, metrics, policies
from channelsim.model.channels import DEALER
from channelsim.model.dealers import channel_support, update_effort
from channelsim.model.market import Population, SegmentTable
from channelsim.model.rules import pricing
from channelsim.model.state import Accounts, World
from channelsim.scenario.schema import Scenario


def initial_decisions(scenario: Scenario) -> policies.Decisions:
    """The prices the scenario sets, as the decisions the pricing policies start from."""
    sc = scenario
    return policies.Decisions(
        wholesale=(sc.pricing.flattened_price or sc.pricing.wholesale_price)
        if sc.flattened
        else sc.pricing.wholesale_price,
        list_price=sc.pricing.list_price,
        general_agent_markup=sc.general_agents.markup,
        dealer_markup=sc.dealers.markup,
        rep_discount=sc.pricing.rep_discount,
    )


def economics(
    scenario: Scenario,
    population: Population,
    segments: SegmentTable,
    uses_dealers: bool,
    reps_sell: bool,
) -> policies.Economics:
    """The facts of the channel that prices are set against (constant during a run)."""
    sc = scenario
    rate = 1.0 / segments.cycle[population.segment]
    units = (rate * population.volume).sum()
    return policies.Economics(
        unit_cost=sc.pricing.unit_cost,
        price_floor=sc.pricing.price_floor,
        flattened=sc.flattened,
        uses_dealers=uses_dealers,
        reps_sell=reps_sell,
        rep_max_discount=sc.pricing.rep_max_discount,
        online_enabled=sc.online.enabled,
        online_discount=sc.online.discount,
        online_cost_per_unit=sc.online.cost_per_order * rate.sum() / max(units, 1e-12),
        competitor_price=sc.market.competitor.price,
        commission_basis=sc.reps.commission.basis,
        commission_rate=sc.reps.commission.rate,
        general_agent_cost=0.0 if sc.flattened else sc.general_agents.unit_cost,
        dealer_cost=sc.dealers.unit_cost,
    )


class PriceReviews:
    """The pricing policies' memory between reviews, and the prices each review set."""

    def __init__(self, rng: np.random.Generator, flows: dict[str, float]) -> None:
        self.rng = rng
        self.climbs: dict[str, policies.Climb] = {}
        self.flows_at_review = flows
        self.history: list[tuple[int, pricing.ChainPrices]] = []

    def review(self, world: World, week: int, weekly: metrics.WeeklyTable) -> None:
        """Tiers with a best-response or adaptive policy review their prices every few weeks."""
        policy = world.scenario.pricing.policy
        best, adaptive = policies.uses(policy, "best_response"), policies.uses(policy, "adaptive")
        if not (best or adaptive):
            return
        if week % policy.reprice_weeks == 0:
            sample, reach = demand_sample(world)
            decisions = world.decisions
            if adaptive:
                draws = self.rng.random((len(policies.TIERS), 2))
                totals = weekly.totals()
                if week > 0:
                    flows = metrics.derive(
                        {k: np.asarray(v - self.flows_at_review[k]) for k, v in totals.items()}
                    )
                    decisions, self.climbs = policies.adapt(
                        decisions,
                        world.economics,
                        policy,
                        self.climbs,
                        policies.realised_profits({k: float(v) for k, v in flows.items()}),
                        policies.choke_price(sample),
                        draws,
                    )
                self.flows_at_review = totals
            if best:
                decisions = policies.best_responses(
                    decisions, world.economics, policy, sample, reach
                )
            apply(world, decisions)
            self.history.append((week, world.prices))
        if policy.dealer != "fixed":
            update_effort(world, world.decisions.dealer_markup)


def apply(world: World, decisions: policies.Decisions) -> None:
    """Set the channel's prices and the sellers' floors from new decisions."""
    sc = world.scenario
    world.decisions = decisions
    world.prices = policies.chain(decisions, world.economics)
    world.rep_floor = pricing.rep_floor(
        decisions.list_price, sc.pricing.rep_max_discount, sc.pricing.price_floor
    )
    world.dealer_floor = pricing.dealer_floor(
        world.prices.general_agent_to_dealer,
        sc.dealers.min_margin,
        sc.pricing.price_floor,
        sc.dealers.unit_cost,
    )


def demand_sample(world: World) -> tuple[policies.DemandSample, policies.DealerReach]:
    """The customers, offers and dealer reach that best responses anticipate."""
    sc, pop, st, seg = world.scenario, world.population, world.state, world.segments
    d = world.dealers
    idx = policies.systematic_sample(pop.size, sc.pricing.policy.sample_customers)
    s, n = pop.segment[idx], idx.size
    # Anticipated offers: every seller who could reach the customer in its window.
    could = np.ones(n, bool)
    eligible = sc.telesales.enabled & st.crm[idx] & pop.bought_before[idx]
    accounts = Accounts.of(world, idx)
    offers = decisions.offers(world, accounts, could, could, eligible).available
    has_dealer = offers[:, DEALER]
    dealer = accounts.dealer
    support = np.zeros(n)
    if d.region.size:
        support[dealer >= 0] = channel_support(world)[dealer[dealer >= 0]]
    service = decisions.service_levels(
        world, sc.dealers.service_quality + sc.reps.support.service_boost * support
    )
    weight = pop.volume[idx] / seg.cycle[s] * (pop.size / max(n, 1))
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
