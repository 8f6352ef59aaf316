"""The scenario schema: every lever a user can set, with its type, range and meaning.

Models are frozen and forbid unknown keys, so a typo is an error rather than a silently
ignored setting. Cross-field rules (floor below list price, a general agent for every
region) live in validators here so that every entry point gets them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from channelsim.scenario.population import PopulationData

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
NonNegative = Annotated[float, Field(ge=0.0)]
Positive = Annotated[float, Field(gt=0.0)]
Money = Annotated[float, Field(ge=0.0)]

MAX_CUSTOMERS = 10_000_000
MAX_REGIONS = 32_767  # regions and general agents are numbered with 16-bit integers
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
    """Per-unit value a customer puts on the product, drawn once per customer."""

    distribution: Literal["uniform", "stratified"] = "uniform"
    low: Money = 0.0
    high: Positive = 1.0

    @model_validator(mode="after")
    def _ordered(self) -> Valuation:
        if self.high < self.low:
            raise SettingError("high", f"high ({self.high}) must be >= low ({self.low})")
        return self


class Segment(Strict):
    name: str = Field(min_length=1)
    customers: int | dict[str, Annotated[int, Field(ge=0)]] | None = Field(
        None,
        description="customers per region: one number for every region, or a map region -> "
        "count; left out when market.population reads them from a table",
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


class PopulationColumns(Strict):
    """The file's column name for each expected column, where the file uses another name."""

    customers: dict[str, str] = {}
    dealers: dict[str, str] = {}
    reps: dict[str, str] = {}


class PopulationFiles(Strict):
    """Customers (and optionally dealers and reps) read from CSV or .xlsx tables.

    The loader resolves the paths relative to the scenario file that names them, reads and
    checks the tables (scenario/population.py) and puts the result in `data`; the model
    builds its agents from `data` and never reads a file.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    customers: str = Field(min_length=1, description="customer table (CSV or .xlsx)")
    dealers: str | None = Field(None, description="dealer table; default dealers.per_region")
    reps: str | None = Field(None, description="rep table; default reps.headcount")
    columns: PopulationColumns = PopulationColumns()
    data: PopulationData | None = Field(
        None, exclude=True, description="set by the loader, never in a file or a dump"
    )

    @field_validator("data", mode="before")
    @classmethod
    def _loader_only(cls, value: Any) -> Any:
        if value is not None and not isinstance(value, PopulationData):
            raise ValueError("is set by the loader from the tables; remove it from the file")
        return value


class Market(Strict):
    regions: list[Region] = Field(min_length=1, max_length=MAX_REGIONS)
    segments: list[Segment] = Field(min_length=1)
    competitor: Competitor = Competitor()
    choice: Choice = Choice()
    population: PopulationFiles | None = Field(
        None, description="read customers, dealers and reps from tables instead of counts"
    )

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
        for i, seg in enumerate(self.segments):
            if self.population is None and seg.customers is None:
                raise SettingError(f"segments.{i}.customers", "required setting is missing")
            if self.population is not None and seg.customers is not None:
                raise SettingError(
                    f"segments.{i}.customers",
                    "market.population reads the customers from a table; remove the "
                    "segment's customers count",
                )
        total = sum(
            sum(s.customers.values())
            if isinstance(s.customers, dict)
            else (s.customers or 0) * len(regions)
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
    agents: list[GeneralAgentSpec] = Field([], max_length=MAX_REGIONS)
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
    per_region: int | dict[str, Annotated[int, Field(ge=0)]] = 2
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


class RepSkill(Strict):
    """How well each rep sells, and how it learns (docs/model.md, "Rep skill").

    Skill is a number in [0, 1]. It always evolves (so its KPIs are reported), but acts on
    sales only through value_per_skill, advance_per_skill and outside_pay_per_skill, which
    are 0 (neutral) by default.
    """

    initial: tuple[Probability, Probability] = Field(
        (0.3, 0.9),
        description="[low, high]: skills of the reps in post at the start, uniform between "
        "low and high (0 = novice, 1 = the best possible)",
    )
    new_hire: Probability = Field(0.2, description="skill of a newly hired rep, in [0, 1]")
    ceiling: Probability = Field(1.0, description="highest skill a rep can learn to, in [0, 1]")
    learning_rate: Probability = Field(
        0.01,
        description="share of the gap to the ceiling a rep closes by one week in post, in "
        "[0, 1]: the learning curve s(t) = ceiling - (ceiling - s0) (1 - rate)^t",
    )
    reference: Probability = Field(
        0.5, description="skill of an average rep, at which skill changes nothing, in [0, 1]"
    )
    value_per_skill: NonNegative = Field(
        0.0,
        description="money per unit the rep's offer is worth to a customer per unit of skill "
        "above the reference (less below it); raises the win chance under logit choice; "
        "0 = neutral",
    )
    advance_per_skill: NonNegative = Field(
        0.0,
        description="relative change of the pipeline advance chance per unit of skill above "
        "the reference: advance_prob x ramp x (1 + this (s - reference)); 0 = neutral",
    )
    outside_pay_per_skill: NonNegative = Field(
        0.0,
        description="relative rise of a rep's outside pay per unit of skill above the "
        "reference: market_pay (1 + this (s - reference)), so good reps are poached more "
        "easily; 0 = neutral",
    )
    high: Probability = Field(
        0.7, description="skill at or above which a rep counts as high-skill in the KPIs"
    )

    @model_validator(mode="after")
    def _ordered(self) -> RepSkill:
        low, high = self.initial
        if high < low:
            raise SettingError("initial", f"initial high ({high}) must be >= low ({low})")
        if max(high, self.new_hire) > self.ceiling:
            raise SettingError(
                "ceiling",
                f"ceiling ({self.ceiling}) must be >= initial skills and new_hire "
                f"({max(high, self.new_hire)})",
            )
        return self


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
    skill: RepSkill = Field(
        RepSkill(), description="rep skill: its learning curve and what it does to sales"
    )


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


class Coaching(Strict):
    """Joint field visits: a manager joins a rep on a customer visit."""

    joint_visits_per_rep: Annotated[int, Field(ge=0, le=50)] = Field(
        2,
        description="joint visits each rep should get a week (the texts' rule: at least two); "
        "weakest reps first when the managers' time runs short",
    )
    skill_gain: Probability = Field(
        0.02,
        description="share of the gap to the skill ceiling closed by one coached visit, on top "
        "of the week's learning, in [0, 1]",
    )
    visit_value: NonNegative = Field(
        5.0,
        description="money per unit a coached visit adds to the rep's offer to that customer "
        "in its buying window (the manager helps close the deal)",
    )


class Training(Strict):
    budget_per_rep: Money = Field(
        0.0, description="training spent per seller in post per quarter (money); 0 = none"
    )
    gain_per_1000: Probability = Field(
        0.1,
        description="share of the gap to the skill ceiling each 1,000 of a quarter's budget "
        "closes: 1 - (1 - gain)^(budget / 1000), in [0, 1]",
    )


class Career(Strict):
    """Promotion to senior rep at a tenure and attainment threshold, with a pay step."""

    enabled: bool = Field(False, description="true: reps can be promoted (a career path)")
    levels: Annotated[int, Field(ge=1, le=5)] = Field(
        1, description="promotion steps a rep can climb (1: to senior rep)"
    )
    tenure_weeks: Annotated[int, Field(ge=0, le=1040)] = Field(
        52, description="weeks in post (since the last promotion) before a promotion"
    )
    attainment: NonNegative = Field(
        1.0, description="last quarter's quota attainment needed for a promotion (ratio)"
    )
    pay_step: Money = Field(100.0, description="weekly pay added per step climbed (money)")
    quit_hazard_factor: Annotated[float, Field(ge=0.0, le=1.0)] = Field(
        0.5,
        description="factor on the weekly quit hazard of a rep who sees a promotion ahead "
        "(a step left to climb, and last attainment >= visible_from x attainment), in [0, 1]",
    )
    visible_from: NonNegative = Field(
        0.8,
        description="share of the attainment threshold a rep must have reached to believe a "
        "promotion is ahead",
    )


class Forecasting(Strict):
    sandbagging: Annotated[float, Field(ge=0.0, lt=1.0)] = Field(
        0.15, description="relative under-forecast under negotiated quotas, in [0, 1)"
    )
    optimism: Annotated[float, Field(ge=0.0, le=1.0)] = Field(
        0.1, description="relative over-forecast under data-driven quotas, in [0, 1]"
    )
    noise: Annotated[float, Field(ge=0.0, le=2.0)] = Field(
        0.3,
        description="relative forecast error of a novice; a rep of skill s errs noise (1 - s)",
    )
    quota_weight: Probability = Field(
        0.0,
        description="weight of the rep's forecast in a data-driven quota: "
        "(1 - w) x formula + w x forecast, in [0, 1]; 0 = quotas ignore forecasts",
    )


class Sharing(Strict):
    rate: Probability = Field(
        0.0,
        description="share of the gap to the region's best seller closed at each team meeting, "
        "in [0, 1]; 0 = no sharing of practice",
    )
    meeting_weeks: Annotated[int, Field(ge=1, le=52)] = Field(
        4, description="weeks between team meetings"
    )


class SalesManagement(Strict):
    """The sales-management process of the texts: coaching and field visits, training, career
    paths, forecasts, sharing of practice (docs/model.md, 3.14-3.15). Neutral by default."""

    managers: Annotated[int, Field(ge=0, le=10_000)] = Field(
        0,
        description="sales managers, one pool that coaches the sellers of every region; "
        "0 = no coaching",
    )
    manager_capacity: NonNegative = Field(
        20.0, description="field visits a manager can make a week (joint or own)"
    )
    admin_share: Probability = Field(
        0.2, description="share of a manager's capacity taken by admin, in [0, 1]"
    )
    manager_sells: bool = Field(
        True,
        description="field time not spent on joint visits becomes the manager's own selling "
        "visits, shared among the region's sellers' accounts (coaching competes with them)",
    )
    manager_salary: Money = Field(2000.0, description="weekly cost of one manager (money)")
    coaching: Coaching = Field(Coaching(), description="joint field visits of managers and reps")
    training: Training = Field(Training(), description="a training budget per rep and quarter")
    career: Career = Field(Career(), description="promotion steps with a pay step each")
    forecasts: Forecasting = Field(
        Forecasting(), description="the reps' quarterly sales forecasts and their bias"
    )
    sharing: Sharing = Field(Sharing(), description="team meetings that spread good practice")


class Scenario(Strict):
    """A market and a way of selling to it."""

    name: str = "scenario"
    description: str = ""
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
    sales_management: SalesManagement = Field(
        SalesManagement(),
        description="coaching, training, career paths, forecasts, sharing of practice "
        "(docs/model.md 3.14-3.15); neutral by default",
    )

    def with_overrides(self, settings: Mapping[str, Any]) -> Scenario:
        """A copy with dotted-path settings applied, checked like a file's."""
        from channelsim.scenario.loading import scenario_with

        return scenario_with(self, settings)

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
            if missing and not self._dealers_from_table:
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

    @property
    def _dealers_from_table(self) -> bool:
        """Dealers come from a table, whose general agents the population loader checks."""
        pop = self.market.population
        return pop is not None and pop.dealers is not None

    def dealer_count(self, region: str) -> int:
        per = self.dealers.per_region
        return per.get(region, 0) if isinstance(per, dict) else per
