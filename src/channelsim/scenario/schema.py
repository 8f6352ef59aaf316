"""The scenario schema: every lever a user can set, with its type, range and meaning.

Models are frozen and forbid unknown keys, so a typo is an error rather than a silently
ignored setting. Cross-field rules (floor below list price, a general agent for every
region) live in validators here so that every entry point gets them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
NonNegative = Annotated[float, Field(ge=0.0)]
Positive = Annotated[float, Field(gt=0.0)]
Money = Annotated[float, Field(ge=0.0)]

MAX_CUSTOMERS = 10_000_000
DEFAULT_GENERAL_AGENT = "general agent"
CHANNEL_STRATEGIES = ("direct", "intermediary", "parallel")
ENGAGEMENT_RULES = ("open", "rep_only", "dealer_only", "rep_assists_dealer", "deal_registration")


class SettingError(ValueError):
    """A cross-field rule broken at `path` (dotted, relative to the model that checks it)."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path = path


def _unique(names: list[str], where: str) -> None:
    seen: set[str] = set()
    for i, name in enumerate(names):
        if name in seen:
            raise SettingError(f"{where}.{i}.name", f"name {name!r} appears twice in {where}")
        seen.add(name)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Valuation(Strict):
    """Per-unit value a customer puts on the product, drawn once per customer.

    The defaults (50 to 150) straddle the default list price (100), so a scenario that
    leaves them out sells to about half of its customers rather than to none.
    """

    distribution: Literal["uniform", "stratified"] = "uniform"
    low: Money = 50.0
    high: Positive = 150.0

    @model_validator(mode="after")
    def _ordered(self) -> Valuation:
        if self.high < self.low:
            unset = [k for k in ("low", "high") if k not in self.model_fields_set]
            note = "".join(
                f" ({k} was not set: its default is {getattr(self, k):g})" for k in unset
            )
            raise SettingError("high", f"high ({self.high}) must be >= low ({self.low}){note}")
        return self


class Segment(Strict):
    name: str = Field(min_length=1)
    customers: int | dict[str, Annotated[int, Field(ge=0)]] = Field(
        description="customers per region: one number for every region, or a map region -> count"
    )
    large_account: bool = False
    volume: Positive = 1.0
    cycle_weeks: Annotated[int, Field(ge=1, le=520)] = 52
    decision_weeks: Annotated[int, Field(ge=1, le=52)] = 1
    sales_cycle_stages: Annotated[int, Field(ge=1, le=10)] = 1
    valuation: Valuation = Valuation()
    price_sensitivity: Positive = 1.0
    service_sensitivity: NonNegative = 0.0
    direct_acceptance: Annotated[float, Field(gt=0.0, le=3.0)] = 1.0
    loyalty: NonNegative = 0.0
    loss_ratio: NonNegative = 0.0
    initial_share: Probability = 0.0

    @model_validator(mode="after")
    def _counts(self) -> Segment:
        if isinstance(self.customers, int) and self.customers < 0:
            raise SettingError("customers", f"customers must be >= 0, found {self.customers}")
        return self


class Region(Strict):
    name: str = Field(min_length=1)
    purchasing_power: Positive = 1.0


class Competitor(Strict):
    enabled: bool = True
    price: Money = 100.0
    service: Probability = 0.5


class Choice(Strict):
    scale: NonNegative = Field(0.0, description="logit scale (money per unit); 0 = deterministic")


class Market(Strict):
    regions: list[Region] = Field(min_length=1)
    segments: list[Segment] = Field(min_length=1)
    competitor: Competitor = Competitor()
    choice: Choice = Choice()

    @model_validator(mode="after")
    def _names(self) -> Market:
        regions = [r.name for r in self.regions]
        _unique(regions, "regions")
        _unique([s.name for s in self.segments], "segments")
        for i, seg in enumerate(self.segments):
            if isinstance(seg.customers, dict):
                unknown = sorted(set(seg.customers) - set(regions))
                if unknown:
                    raise SettingError(
                        f"segments.{i}.customers",
                        f"segment {seg.name!r}: customers names unknown region(s) {unknown}; "
                        f"expected one of {regions}",
                    )
        total = sum(
            sum(s.customers.values())
            if isinstance(s.customers, dict)
            else s.customers * len(regions)
            for s in self.segments
        )
        if total > MAX_CUSTOMERS:
            raise SettingError(
                "segments",
                f"{total:,} customers in all; at most {MAX_CUSTOMERS:,} fit in memory "
                "(every customer is simulated)",
            )
        return self


PriceRule = Literal["fixed", "best_response", "adaptive"]


class AdaptivePricing(Strict):
    """Hill climbing on realised profit (see docs/pricing-policies.md)."""

    step: Annotated[float, Field(gt=0.0, lt=1.0)] = Field(
        0.03, description="relative price change per move"
    )
    exploration: Probability = Field(0.1, description="chance a move goes in a random direction")
    min_price: Money | None = Field(None, description="lowest price; default the tier's own cost")
    max_price: Positive | None = Field(
        None, description="highest price; default the highest willingness to pay in the market"
    )

    @model_validator(mode="after")
    def _bounds(self) -> AdaptivePricing:
        low, high = self.min_price, self.max_price
        if low is not None and high is not None and high <= low:
            raise SettingError("max_price", f"max_price ({high}) must exceed min_price ({low})")
        return self


class PricingPolicy(Strict):
    """How each price-setting tier sets its price: fixed, best response or adaptive."""

    wholesale: PriceRule = Field(
        "fixed", description="the company's price to general agents (to dealers when flattened)"
    )
    list_price: PriceRule = Field(
        "fixed", description="the company's list price (rep quotes, online, as configured)"
    )
    general_agent: PriceRule = Field("fixed", description="general agents' markup")
    dealer: PriceRule = Field("fixed", description="dealers' markup")
    rep: PriceRule = Field("fixed", description="the rep's discount within its authority")
    reprice_weeks: Annotated[int, Field(ge=1, le=520)] = Field(
        13, description="weeks between price reviews"
    )
    grid_points: Annotated[int, Field(ge=11, le=5001)] = Field(
        201, description="points of the price grid a best response searches before refining"
    )
    sample_customers: Annotated[int, Field(ge=100, le=1_000_000)] = Field(
        2000, description="customers (a systematic sample) whose expected demand is evaluated"
    )
    adaptive: AdaptivePricing = AdaptivePricing()


class Pricing(Strict):
    list_price: Positive = 100.0
    unit_cost: Money = 50.0
    wholesale_price: Money = 70.0
    flattened_price: Money | None = Field(
        None, description="price the company charges dealers when flattened; default wholesale"
    )
    price_floor: Money = 0.0
    rep_max_discount: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.1
    rep_discount: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.0
    policy: PricingPolicy = PricingPolicy()

    @model_validator(mode="after")
    def _consistent(self) -> Pricing:
        if self.price_floor > self.list_price:
            raise SettingError(
                "price_floor",
                f"price_floor ({self.price_floor}) must not exceed list_price ({self.list_price})",
            )
        if self.rep_discount > self.rep_max_discount:
            raise SettingError(
                "rep_discount",
                f"rep_discount ({self.rep_discount}) must not exceed rep_max_discount "
                f"({self.rep_max_discount})",
            )
        return self


class VolumeRebate(Strict):
    threshold: Money = Field(0.0, description="quarterly purchases (money) before the rebate")
    rate: Annotated[float, Field(ge=0.0, le=0.5)] = 0.0


class GeneralAgentSpec(Strict):
    name: str = Field(min_length=1)
    regions: list[str] = Field(min_length=1)


class GeneralAgents(Strict):
    markup: Annotated[float, Field(ge=0.0, le=5.0)] = 0.1
    unit_cost: Money = Field(
        0.0,
        description="the general agents' own cost per unit they pass on (money per unit, >= 0; "
        "handling, logistics, finance): it comes out of their margin, is reported as "
        "ga_costs and enters their best response",
    )
    agents: list[GeneralAgentSpec] = []
    volume_rebate: VolumeRebate = VolumeRebate()

    @model_validator(mode="after")
    def _names(self) -> GeneralAgents:
        _unique([a.name for a in self.agents], "agents")
        return self


class DealerExit(Strict):
    enabled: bool = True
    patience_weeks: Annotated[int, Field(ge=1, le=520)] = 26
    dissatisfaction_threshold: Probability = 0.6
    replace: bool = False
    replacement_delay_weeks: Annotated[int, Field(ge=0, le=520)] = 26


class Dealers(Strict):
    per_region: Annotated[int, Field(ge=0)] | dict[str, Annotated[int, Field(ge=0)]] = 2
    markup: Annotated[float, Field(ge=0.0, le=5.0)] = 0.2
    unit_cost: Money = Field(
        0.0,
        description="the dealers' own cost per unit they sell (money per unit, >= 0; "
        "delivery, installation, finance): it comes out of their margin, is reported as "
        "dealer_unit_costs, raises their floor and enters their best response",
    )
    min_margin: Annotated[float, Field(ge=0.0, le=1.0)] = 0.0
    service_quality: Probability = 0.8
    reach: Probability = Field(0.3, description="weekly chance to reach an in-market customer")
    relationship_reach: Probability = Field(
        0.8, description="weekly chance to reach one of its own past customers"
    )
    effort_base: Probability = 0.8
    effort_margin_elasticity: NonNegative = 1.0
    reference_margin: Positive = 0.2
    effort_cost: Money = Field(0.0, description="weekly cost of full market-development effort")
    fixed_cost: Money = 0.0
    crm_share: Probability = Field(0.0, description="chance a dealer sale is recorded in the CRM")
    conflict_sensitivity: NonNegative = Field(
        0.15, description="dissatisfaction added per conflict lost to a rep"
    )
    dissatisfaction_recovery: Probability = 0.05
    volume_rebate: VolumeRebate = VolumeRebate()
    exit: DealerExit = DealerExit()


class Commission(Strict):
    basis: Literal["revenue", "gross_margin"] = "revenue"
    rate: Annotated[float, Field(ge=0.0, le=1.0)] = 0.05
    tiers: list[tuple[NonNegative, NonNegative]] = Field(
        default_factory=list,
        description="[attainment threshold, rate multiplier] pairs, e.g. [[1.0, 1.5]]",
    )
    quota_bonus: Money = 0.0
    overlay_rate: Annotated[float, Field(ge=0.0, le=1.0)] = 0.0


class Quota(Strict):
    method: Literal["negotiated", "data_driven"] = "negotiated"
    target_share: Annotated[float, Field(gt=0.0, le=2.0)] = Field(
        0.5, description="share of the territory's potential revenue expected per quarter"
    )
    noise: Annotated[float, Field(ge=0.0, le=1.0)] = 0.3
    haggling_bias: Annotated[float, Field(ge=-1.0, le=1.0)] = 0.2


class Attrition(Strict):
    base_rate: Probability = Field(0.004, description="weekly quit probability at par")
    pay_sensitivity: NonNegative = 2.0
    attainment_sensitivity: NonNegative = 1.0
    market_pay: Money = Field(1500.0, description="weekly pay a rep could earn elsewhere")
    hiring_delay_weeks: Annotated[int, Field(ge=0, le=104)] = 8
    ramp_weeks: Annotated[int, Field(ge=0, le=104)] = 12


class Pipeline(Strict):
    advance_prob: Probability = Field(0.5, description="chance one visit advances a stage")


class ChannelSupport(Strict):
    reach_boost: NonNegative = Field(1.0, description="relative dealer reach gain at full support")
    service_boost: Probability = 0.1
    visits_per_dealer: Positive = Field(5.0, description="weekly visits for full support")


class RepEffort(Strict):
    """How many visits a rep makes a week (docs/model.md, "Rep effort")."""

    model: Literal["fixed", "incentive"] = Field(
        "fixed",
        description="fixed: every rep makes reps.capacity visits a week (less during ramp-up); "
        "incentive: each rep chooses e* = beta h / k visits a week, at most reps.capacity, "
        "with beta its marginal pay per unit of commission base and h its commission base per "
        "visit, re-measured every quarter",
    )
    cost: Positive = Field(
        1.0,
        description="k: the rep's cost of effort, k e^2 / 2 money per week for e visits a week "
        "(money per visit^2; > 0)",
    )
    risk_aversion: NonNegative = Field(
        0.0, description="r: the rep's absolute risk aversion (per unit of money; >= 0)"
    )
    sales_noise: NonNegative = Field(
        0.0,
        description="sigma: standard deviation of a rep's weekly commission base not explained "
        "by its effort (money per week; >= 0); the risk premium is r sigma^2 beta^2 / 2",
    )
    participation: bool = Field(
        False,
        description="true: each quarter the weekly base salary is set so that the rep's "
        "certainty equivalent equals attrition.market_pay (the company pays for the effort "
        "and risk it asks for; replaces reps.base_salary)",
    )
    initial_productivity: Money | None = Field(
        None,
        description="h for the first quarter (commission base per visit, money per visit); "
        "default: the commission base of one purchase by the territory's average account "
        "at list price",
    )


class Reps(Strict):
    headcount: Annotated[int, Field(ge=0, le=100_000)] = 20
    capacity: Annotated[float, Field(ge=0.0)] = 25.0
    role: Literal["seller", "channel_manager", "mixed"] = "seller"
    channel_manager_share: Probability = 0.0
    service_quality: Probability = 0.7
    crm_capture: Probability = 0.2
    prospecting: Probability = Field(
        0.3, description="weekly chance a rep learns of an in-market large account not its own"
    )
    base_salary: Money = 800.0
    commission: Commission = Commission()
    quota: Quota = Quota()
    attrition: Attrition = Attrition()
    pipeline: Pipeline = Pipeline()
    support: ChannelSupport = ChannelSupport()
    effort: RepEffort = RepEffort()


class Engagement(Strict):
    large_accounts: Literal[
        "open", "rep_only", "dealer_only", "rep_assists_dealer", "deal_registration"
    ] = "open"
    registration_weeks: Annotated[int, Field(ge=1, le=520)] = 26
    assist_service_boost: Probability = 0.15
    conflict_pricing: Literal["floors", "utility"] = Field(
        "utility",
        description="how an open conflict between a rep and a dealer is priced. floors: the "
        "seller with the lower floor wins at the other's floor, capped by the value; "
        "utility: asymmetric Bertrand, the offer the customer values more at the sellers' "
        "floors wins, priced so the customer is indifferent to the loser's floor offer "
        "(service, direct acceptance and loyalty count; identical offers give the floors "
        "answer)",
    )


class Online(Strict):
    enabled: bool = False
    discount: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.0
    service_quality: Probability = 0.2
    cost_per_order: Money = 0.0


class Telesales(Strict):
    enabled: bool = False
    agents: Annotated[int, Field(ge=0, le=10_000)] = 2
    calls_per_agent: Annotated[int, Field(ge=0, le=2_000)] = 150
    cost_per_agent_week: Money = 600.0
    service_quality: Probability = 0.4


class Insurance(Strict):
    enabled: bool = False
    claim_dispersion: Positive = Field(2.0, description="gamma shape of claims per policy")
    loss_ratio_threshold: NonNegative = 1.2
    action: Literal["decline", "reprice"] = "reprice"
    surcharge: NonNegative = 0.25


class Scenario(Strict):
    """A market and a way of selling to it."""

    name: str = "scenario"
    description: str = ""
    currency: str = Field(
        "",
        max_length=12,
        description="currency of every price and money KPI, used in labels (e.g. EUR, CNY); "
        "default none: labels say 'money'",
    )
    strategy: Literal["direct", "intermediary", "parallel"] = "parallel"
    flattened: bool = False
    weeks: Annotated[int, Field(ge=1, le=5200)] = 104
    seed: Annotated[int, Field(ge=0)] = 1
    replicates: Annotated[int, Field(ge=1, le=100_000)] = 10
    market: Market
    pricing: Pricing = Pricing()
    general_agents: GeneralAgents = GeneralAgents()
    dealers: Dealers = Dealers()
    reps: Reps = Reps()
    engagement: Engagement = Engagement()
    online: Online = Online()
    telesales: Telesales = Telesales()
    insurance: Insurance = Insurance()

    def with_overrides(self, settings: Mapping[str, Any]) -> Scenario:
        """A copy with dotted-path settings applied, checked like a file's."""
        from channelsim.scenario.loading import scenario_with

        return scenario_with(self, settings)

    @model_validator(mode="before")
    @classmethod
    def _one_general_agent_by_default(cls, data: Any) -> Any:
        """Without `general_agents.agents`, one general agent serves every region, so a
        minimal intermediary or parallel scenario runs; a list given is used as it is."""
        if not isinstance(data, dict):
            return data
        agents = data.get("general_agents", {})
        market = data.get("market")
        regions = market.get("regions") if isinstance(market, dict) else None
        if not isinstance(agents, dict) or "agents" in agents or not isinstance(regions, list):
            return data
        names = [r.get("name") if isinstance(r, dict) else None for r in regions]
        if not names or not all(isinstance(n, str) and n for n in names):
            return data
        default = [{"name": DEFAULT_GENERAL_AGENT, "regions": names}]
        return {**data, "general_agents": {**agents, "agents": default}}

    @model_validator(mode="after")
    def _cross_field(self) -> Scenario:
        regions = [r.name for r in self.market.regions]
        if isinstance(self.dealers.per_region, dict):
            unknown = sorted(set(self.dealers.per_region) - set(regions))
            if unknown:
                raise SettingError(
                    "dealers.per_region",
                    f"dealers.per_region names unknown region(s) {unknown}; expected {regions}",
                )
        uses_dealers = self.strategy != "direct"
        if uses_dealers and not self.flattened:
            covered: dict[str, str] = {}
            for i, agent in enumerate(self.general_agents.agents):
                where = f"general_agents.agents.{i}.regions"
                for region in agent.regions:
                    if region not in regions:
                        raise SettingError(
                            where,
                            f"general agent {agent.name!r} serves unknown region {region!r}; "
                            f"expected one of {regions}",
                        )
                    if region in covered:
                        raise SettingError(
                            where,
                            f"region {region!r} is served by both {covered[region]!r} and "
                            f"{agent.name!r}; each region needs exactly one general agent",
                        )
                    covered[region] = agent.name
            missing = [r for r in regions if r not in covered and self.dealer_count(r) > 0]
            if missing:
                raise SettingError(
                    "general_agents.agents",
                    f"regions {missing} have dealers but no general agent; add them to "
                    "general_agents.agents[].regions or set flattened: true",
                )
        if self.reps.role == "channel_manager" and self.strategy == "direct":
            raise SettingError(
                "reps.role", "reps.role 'channel_manager' needs dealers; strategy 'direct' has none"
            )
        return self

    def dealer_count(self, region: str) -> int:
        per = self.dealers.per_region
        return per.get(region, 0) if isinstance(per, dict) else per
