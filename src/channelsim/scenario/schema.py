"""The scenario schema: every lever a user can set, with its type, range and meaning.

Models are frozen and forbid unknown keys, so a typo is an error rather than a silently
ignored setting. Cross-field rules (floor below list price, a general agent for every
region) live in validators here so that every entry point gets them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from channelsim.errors import ScenarioError
from channelsim.scenario.population import PopulationData

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
NonNegative = Annotated[float, Field(ge=0.0)]
Positive = Annotated[float, Field(gt=0.0)]
Money = Annotated[float, Field(ge=0.0)]

MAX_CUSTOMERS = 10_000_000
MAX_REGIONS = 32_767  # regions and general agents are numbered with 16-bit integers
MAX_MAGNITUDE = 1e15  # a setting's size: products of several such stay far below 1.8e308
COUNTERS = ("seed", "replicates", "weeks")  # whole numbers never multiplied into totals
DEFAULT_GENERAL_AGENT = "general agent"
WARMUP_CYCLES = 1.5  # default warm-up, in purchase cycles (docs/model.md, "Warm-up")
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

    distribution: Literal["uniform", "stratified"] = Field(
        "uniform",
        description=(
            "how values spread between low and high: uniform draws, or stratified (evenly "
            "spaced, for textbook checks)"
        ),
    )
    low: Money = Field(
        50.0,
        description=(
            "lowest value a customer of the segment puts on a unit (before purchasing power)"
        ),
        json_schema_extra={"unit": "money per unit"},
    )
    high: Positive = Field(
        150.0,
        description=(
            "highest value a customer of the segment puts on a unit (before purchasing power)"
        ),
        json_schema_extra={"unit": "money per unit"},
    )

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
    name: str = Field(
        min_length=1, description="name of the segment, used in --set paths and messages"
    )
    customers: int | dict[str, Annotated[int, Field(ge=0)]] | None = Field(
        None,
        description="customers per region: one number for every region, or a map region -> "
        "count; left out when market.population reads them from a table",
        json_schema_extra={"unit": "customers"},
    )
    large_account: bool = Field(
        False,
        description=(
            "large accounts: sold in multi-stage projects, the accounts reps and dealers fight over"
        ),
    )
    volume: Positive = Field(
        1.0, description="units bought per purchase", json_schema_extra={"unit": "units"}
    )
    cycle_weeks: Annotated[int, Field(ge=1, le=520)] = Field(
        52,
        description="weeks between a customer's purchases (renewal cycle)",
        json_schema_extra={"unit": "weeks"},
    )
    decision_weeks: Annotated[int, Field(ge=1, le=52)] = Field(
        1,
        description="length of the buying window in which sellers can reach the customer",
        json_schema_extra={"unit": "weeks"},
    )
    sales_cycle_stages: Annotated[int, Field(ge=1, le=10)] = Field(
        1,
        description="stages a rep's opportunity must pass before the rep can quote (1 = none)",
        json_schema_extra={"unit": "stages"},
    )
    valuation: Valuation = Field(
        Valuation(),
        description="per-unit value a customer puts on the product, drawn once per customer",
    )
    price_sensitivity: Positive = Field(
        1.0, description="weight of money surplus in the customer's utility (beta_p)"
    )
    service_sensitivity: NonNegative = Field(
        0.0,
        description="what full service is worth per unit (beta_s)",
        json_schema_extra={"unit": "money per unit"},
    )
    direct_acceptance: Annotated[float, Field(gt=0.0, le=3.0)] = Field(
        1.0,
        description=(
            "factor on the value of buying direct (rep, online, telesales) instead of "
            "through a dealer (theta)"
        ),
    )
    loyalty: NonNegative = Field(
        0.0,
        description="switching cost: extra utility per unit of staying with the last seller",
        json_schema_extra={"unit": "money per unit"},
    )
    loss_ratio: NonNegative = Field(
        0.0, description="insurance only: mean claims per unit of premium of the segment's policies"
    )
    initial_share: Probability = Field(
        0.0,
        description="share of the segment already buying from the company at the start",
        json_schema_extra={"unit": "share"},
    )

    @model_validator(mode="after")
    def _counts(self) -> Segment:
        if isinstance(self.customers, int) and self.customers < 0:
            raise SettingError("customers", f"customers must be >= 0, found {self.customers}")
        return self


class Region(Strict):
    name: str = Field(
        min_length=1, description="name of the region (a territory), used in --set paths and maps"
    )
    purchasing_power: Positive = Field(1.0, description="factor on every valuation in the region")


class Competitor(Strict):
    enabled: bool = Field(
        True, description="whether customers can buy from the competitor (the outside option)"
    )
    price: Money = Field(
        100.0, description="the competitor's price", json_schema_extra={"unit": "money per unit"}
    )
    service: Probability = Field(
        0.5, description="the competitor's service level", json_schema_extra={"unit": "0-1"}
    )


class Choice(Strict):
    scale: NonNegative = Field(
        0.0,
        description="logit scale of the random part of utility; 0 = deterministic choice",
        json_schema_extra={"unit": "money per unit"},
    )


class PopulationColumns(Strict):
    """The file's column name for each expected column, where the file uses another name."""

    customers: dict[str, str] = Field(
        {}, description="customer table: expected column -> the file's column name"
    )
    dealers: dict[str, str] = Field(
        {}, description="dealer table: expected column -> the file's column name"
    )
    reps: dict[str, str] = Field(
        {}, description="rep table: expected column -> the file's column name"
    )


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
    columns: PopulationColumns = Field(
        PopulationColumns(), description="column names of the tables, where they differ"
    )
    as_of: date | None = Field(
        None,
        description="date of week 0 (e.g. the export's date): needed for last_purchase dates; "
        "renewal months then count from it",
    )
    data: SkipJsonSchema[PopulationData | None] = Field(
        None, exclude=True, description="set by the loader, never in a file or a dump"
    )

    @field_validator("data", mode="before")
    @classmethod
    def _loader_only(cls, value: Any) -> Any:
        if value is not None and not isinstance(value, PopulationData):
            raise ValueError("is set by the loader from the tables; remove it from the file")
        return value


class Market(Strict):
    regions: list[Region] = Field(
        min_length=1, max_length=MAX_REGIONS, description="the regions (territories) of the market"
    )
    segments: list[Segment] = Field(min_length=1, description="the customer segments")
    competitor: Competitor = Field(
        Competitor(), description="the competitor, the customers' outside option"
    )
    choice: Choice = Field(Choice(), description="how random customers' choices are")
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
        total = 0 if self.population is not None else sum(self.customer_counts().values())
        if total > MAX_CUSTOMERS:
            raise SettingError(
                "segments",
                f"{total:,} customers in all; at most {MAX_CUSTOMERS:,} fit in memory "
                "(every customer is simulated)",
            )
        return self

    def customer_counts(self) -> dict[tuple[str, str], int]:
        """Customers per (region, segment) name, every pair present (0 where none).

        The segments' `customers` settings, or the rows of the customer table of a market
        read from tables (`market.population`, whose rows the loader has attached).
        """
        pairs = [(r.name, s.name) for s in self.segments for r in self.regions]
        if self.population is None:
            per = {s.name: s.customers for s in self.segments}
            return {
                (region, seg): per[seg].get(region, 0) if isinstance(per[seg], dict) else per[seg]
                for region, seg in pairs
            }
        data = self.population.data
        if data is None:
            raise ScenarioError(
                "market.population: the customer table has not been read; load the scenario "
                "with channelsim.load_scenario, which reads and checks its tables"
            )
        cohort = data.segment.astype(np.int64) * len(self.regions) + data.region
        counts = np.bincount(cohort, minlength=len(pairs))
        return {pair: int(n) for pair, n in zip(pairs, counts, strict=True)}


PriceRule = Literal["fixed", "best_response", "adaptive"]


class AdaptivePricing(Strict):
    """Hill climbing on realised profit (see docs/pricing-policies.md)."""

    step: Annotated[float, Field(gt=0.0, lt=1.0)] = Field(
        0.03, description="relative price change per move", json_schema_extra={"unit": "share"}
    )
    exploration: Probability = Field(
        0.1,
        description="chance a move goes in a random direction",
        json_schema_extra={"unit": "probability"},
    )
    min_price: Money | None = Field(
        None,
        description="lowest price; default the tier's own cost",
        json_schema_extra={"unit": "money per unit"},
    )
    max_price: Positive | None = Field(
        None,
        description="highest price; default the highest willingness to pay in the market",
        json_schema_extra={"unit": "money per unit"},
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
        "fixed",
        description="how the company sets its price to general agents (to dealers when flattened)",
    )
    list_price: PriceRule = Field(
        "fixed", description="how the company sets its list price (rep quotes, online)"
    )
    general_agent: PriceRule = Field("fixed", description="how general agents set their markup")
    dealer: PriceRule = Field("fixed", description="how dealers set their markup")
    rep: PriceRule = Field(
        "fixed", description="how reps set their discount within their authority"
    )
    reprice_weeks: Annotated[int, Field(ge=1, le=520)] = Field(
        13, description="weeks between price reviews", json_schema_extra={"unit": "weeks"}
    )
    grid_points: Annotated[int, Field(ge=11, le=5001)] = Field(
        201, description="points of the price grid a best response searches before refining"
    )
    sample_customers: Annotated[int, Field(ge=100, le=1_000_000)] = Field(
        2000,
        description=(
            "customers (a systematic sample) whose expected demand a price review evaluates"
        ),
        json_schema_extra={"unit": "customers"},
    )
    adaptive: AdaptivePricing = Field(
        AdaptivePricing(), description="settings of the adaptive (hill-climbing) rule"
    )


class Pricing(Strict):
    list_price: Positive = Field(
        100.0,
        description="the company's list price: reps quote from it, online and telesales sell at it",
        json_schema_extra={"unit": "money per unit"},
    )
    unit_cost: Money = Field(
        50.0,
        description="the company's cost of a unit sold",
        json_schema_extra={"unit": "money per unit"},
    )
    wholesale_price: Money = Field(
        70.0,
        description="the company's price to general agents",
        json_schema_extra={"unit": "money per unit"},
    )
    flattened_price: Money | None = Field(
        None,
        description="price the company charges dealers when flattened; default wholesale_price",
        json_schema_extra={"unit": "money per unit"},
    )
    price_floor: Money = Field(
        0.0,
        description="no seller of the company sells below this price",
        json_schema_extra={"unit": "money per unit"},
    )
    rep_max_discount: Annotated[float, Field(ge=0.0, lt=1.0)] = Field(
        0.1,
        description="largest discount off list price a rep may give (its authority)",
        json_schema_extra={"unit": "share"},
    )
    rep_discount: Annotated[float, Field(ge=0.0, lt=1.0)] = Field(
        0.0,
        description="discount off list price reps give normally",
        json_schema_extra={"unit": "share"},
    )
    policy: PricingPolicy = Field(
        PricingPolicy(), description="how each price-setting tier sets its price"
    )

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
    threshold: Money = Field(
        0.0,
        description="quarterly purchases before the rebate starts",
        json_schema_extra={"unit": "money per quarter"},
    )
    rate: Annotated[float, Field(ge=0.0, le=0.5)] = Field(
        0.0,
        description="rebate on quarterly purchases above the threshold",
        json_schema_extra={"unit": "share"},
    )


class GeneralAgentSpec(Strict):
    name: str = Field(min_length=1, description="name of the general agent")
    regions: list[str] = Field(min_length=1, description="the regions whose dealers it supplies")


class GeneralAgents(Strict):
    markup: Annotated[float, Field(ge=0.0, le=5.0)] = Field(
        0.1,
        description="general agents' markup on the wholesale price",
        json_schema_extra={"unit": "share"},
    )
    unit_cost: Money = Field(
        0.0,
        description="the general agents' own cost per unit they pass on (money per unit, >= 0; "
        "handling, logistics, finance): it comes out of their margin, is reported as "
        "ga_costs and enters their best response",
        json_schema_extra={"unit": "money per unit"},
    )
    agents: list[GeneralAgentSpec] = Field(
        [],
        max_length=MAX_REGIONS,
        description=(
            "the general agents and the regions each supplies; default: one general agent "
            "for every region"
        ),
    )
    volume_rebate: VolumeRebate = Field(
        VolumeRebate(), description="the company's quarterly rebate to general agents"
    )

    @model_validator(mode="after")
    def _names(self) -> GeneralAgents:
        _unique([a.name for a in self.agents], "agents")
        return self


class DealerExit(Strict):
    enabled: bool = Field(True, description="whether dealers can leave the network")
    patience_weeks: Annotated[int, Field(ge=1, le=520)] = Field(
        26,
        description=(
            "consecutive bad weeks (losing money or too dissatisfied) before a dealer leaves"
        ),
        json_schema_extra={"unit": "weeks"},
    )
    dissatisfaction_threshold: Probability = Field(
        0.6,
        description="dissatisfaction above which a week counts as bad",
        json_schema_extra={"unit": "0-1"},
    )
    replace: bool = Field(False, description="whether a new dealer takes the place of one who left")
    replacement_delay_weeks: Annotated[int, Field(ge=0, le=520)] = Field(
        26, description="weeks until the new dealer opens", json_schema_extra={"unit": "weeks"}
    )


class Dealers(Strict):
    per_region: Annotated[int, Field(ge=0)] | dict[str, Annotated[int, Field(ge=0)]] = Field(
        2,
        description="dealers per region: one number for every region, or a map region -> count",
        json_schema_extra={"unit": "dealers"},
    )
    markup: Annotated[float, Field(ge=0.0, le=5.0)] = Field(
        0.2, description="dealers' markup on what they pay", json_schema_extra={"unit": "share"}
    )
    unit_cost: Money = Field(
        0.0,
        description="the dealers' own cost per unit they sell (money per unit, >= 0; "
        "delivery, installation, finance): it comes out of their margin, is reported as "
        "dealer_unit_costs, raises their floor and enters their best response",
        json_schema_extra={"unit": "money per unit"},
    )
    min_margin: Annotated[float, Field(ge=0.0, le=1.0)] = Field(
        0.0,
        description="lowest markup a dealer accepts when undercutting in a conflict",
        json_schema_extra={"unit": "share"},
    )
    service_quality: Probability = Field(
        0.8, description="dealers' service level", json_schema_extra={"unit": "0-1"}
    )
    reach: Probability = Field(
        0.3,
        description="weekly chance to reach an in-market customer",
        json_schema_extra={"unit": "probability per week"},
    )
    relationship_reach: Probability = Field(
        0.8,
        description="weekly chance to reach one of its own past customers",
        json_schema_extra={"unit": "probability per week"},
    )
    effort_base: Probability = Field(
        0.8,
        description="market-development effort at the reference margin, before dissatisfaction",
        json_schema_extra={"unit": "0-1"},
    )
    effort_margin_elasticity: NonNegative = Field(
        1.0, description="how strongly effort follows the dealer's margin"
    )
    reference_margin: Positive = Field(
        0.2,
        description="margin at which effort equals effort_base",
        json_schema_extra={"unit": "share"},
    )
    effort_cost: Money = Field(
        0.0,
        description="weekly cost of full market-development effort",
        json_schema_extra={"unit": "money per week"},
    )
    fixed_cost: Money = Field(
        0.0,
        description="a dealer's weekly fixed cost",
        json_schema_extra={"unit": "money per week"},
    )
    crm_share: Probability = Field(
        0.0,
        description="chance a dealer sale is recorded in the company's CRM",
        json_schema_extra={"unit": "probability"},
    )
    conflict_sensitivity: NonNegative = Field(
        0.15,
        description="dissatisfaction added per conflict lost to a rep",
        json_schema_extra={"unit": "0-1"},
    )
    dissatisfaction_recovery: Probability = Field(
        0.05,
        description="share of dissatisfaction that fades each week",
        json_schema_extra={"unit": "share per week"},
    )
    volume_rebate: VolumeRebate = Field(
        VolumeRebate(), description="the general agent's quarterly rebate to dealers"
    )
    exit: DealerExit = Field(DealerExit(), description="when dealers leave the network")


class Commission(Strict):
    basis: Literal["revenue", "gross_margin"] = Field(
        "revenue", description="what commission is paid on: revenue or gross margin"
    )
    rate: Annotated[float, Field(ge=0.0, le=1.0)] = Field(
        0.05, description="commission rate", json_schema_extra={"unit": "share"}
    )
    tiers: list[tuple[NonNegative, NonNegative]] = Field(
        default_factory=list,
        description="[attainment threshold, rate multiplier] pairs, e.g. [[1.0, 1.5]]",
    )
    quota_bonus: Money = Field(
        0.0,
        description="bonus for reaching the quarterly quota",
        json_schema_extra={"unit": "money per quarter"},
    )
    overlay_rate: Annotated[float, Field(ge=0.0, le=1.0)] = Field(
        0.0,
        description="commission on dealer sales in the rep's territory",
        json_schema_extra={"unit": "share"},
    )


class Quota(Strict):
    method: Literal["negotiated", "data_driven"] = Field(
        "negotiated",
        description=(
            "negotiated (flat, ignores the territory) or data_driven (from the "
            "territory's potential)"
        ),
    )
    target_share: Annotated[float, Field(gt=0.0, le=2.0)] = Field(
        0.5,
        description="share of the territory's potential revenue expected per quarter",
        json_schema_extra={"unit": "share"},
    )
    noise: Annotated[float, Field(ge=0.0, le=1.0)] = Field(
        0.3, description="spread of negotiated quotas around their target"
    )
    haggling_bias: Annotated[float, Field(ge=-1.0, le=1.0)] = Field(
        0.2,
        description="how far reps talk negotiated quotas down",
        json_schema_extra={"unit": "share"},
    )


class Attrition(Strict):
    base_rate: Probability = Field(
        0.004,
        description="weekly quit probability of a rep paid at par and on quota",
        json_schema_extra={"unit": "probability per week"},
    )
    pay_sensitivity: NonNegative = Field(
        2.0, description="how strongly pay below market_pay raises the quit rate"
    )
    attainment_sensitivity: NonNegative = Field(
        1.0, description="how strongly missing quota raises the quit rate"
    )
    market_pay: Money = Field(
        1500.0,
        description="weekly pay a rep could earn elsewhere",
        json_schema_extra={"unit": "money per week"},
    )
    hiring_delay_weeks: Annotated[int, Field(ge=0, le=104)] = Field(
        8,
        description="weeks a rep's slot stays empty after a quit",
        json_schema_extra={"unit": "weeks"},
    )
    ramp_weeks: Annotated[int, Field(ge=0, le=104)] = Field(
        12,
        description="weeks a new rep needs to reach full capacity",
        json_schema_extra={"unit": "weeks"},
    )


class Pipeline(Strict):
    advance_prob: Probability = Field(
        0.5,
        description="chance one visit advances a large-account opportunity a stage",
        json_schema_extra={"unit": "probability"},
    )


class ChannelSupport(Strict):
    reach_boost: NonNegative = Field(
        1.0, description="relative gain in dealer reach at full channel-manager support"
    )
    service_boost: Probability = Field(
        0.1, description="dealer service gained at full support", json_schema_extra={"unit": "0-1"}
    )
    visits_per_dealer: Positive = Field(
        5.0,
        description="channel-manager visits a dealer needs for full support",
        json_schema_extra={"unit": "visits per week"},
    )


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
        json_schema_extra={"unit": "money per visit^2"},
    )
    risk_aversion: NonNegative = Field(
        0.0,
        description="r: the rep's absolute risk aversion (per unit of money; >= 0)",
        json_schema_extra={"unit": "per unit of money"},
    )
    sales_noise: NonNegative = Field(
        0.0,
        description="sigma: standard deviation of a rep's weekly commission base not explained "
        "by its effort (money per week; >= 0); the risk premium is r sigma^2 beta^2 / 2",
        json_schema_extra={"unit": "money per week"},
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
        json_schema_extra={"unit": "money per visit"},
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
    headcount: Annotated[int, Field(ge=0, le=100_000)] = Field(
        20,
        description="rep slots (sellers and channel managers)",
        json_schema_extra={"unit": "reps"},
    )
    capacity: Annotated[float, Field(ge=0.0)] = Field(
        25.0,
        description="customer visits a fully ramped rep makes a week",
        json_schema_extra={"unit": "visits per week"},
    )
    role: Literal["seller", "channel_manager", "mixed"] = Field(
        "seller",
        description="seller (sells to customers), channel_manager (supports dealers) or mixed",
    )
    channel_manager_share: Probability = Field(
        0.0,
        description="with role mixed: share of reps who are channel managers",
        json_schema_extra={"unit": "share"},
    )
    service_quality: Probability = Field(
        0.7, description="reps' service level", json_schema_extra={"unit": "0-1"}
    )
    crm_capture: Probability = Field(
        0.2,
        description="chance a rep records a customer it sold to in the CRM",
        json_schema_extra={"unit": "probability"},
    )
    prospecting: Probability = Field(
        0.3,
        description="weekly chance a rep learns of an in-market large account not its own",
        json_schema_extra={"unit": "probability per week"},
    )
    base_salary: Money = Field(
        800.0,
        description="a rep's weekly base salary",
        json_schema_extra={"unit": "money per week"},
    )
    commission: Commission = Field(Commission(), description="how reps are paid on sales")
    quota: Quota = Field(Quota(), description="how quarterly quotas are set")
    attrition: Attrition = Field(
        Attrition(), description="when reps quit and how they are replaced"
    )
    pipeline: Pipeline = Field(Pipeline(), description="large-account sales cycle")
    support: ChannelSupport = Field(
        ChannelSupport(), description="what channel managers do for dealers"
    )
    effort: RepEffort = Field(RepEffort(), description="how many visits a rep makes a week")
    skill: RepSkill = Field(
        RepSkill(), description="rep skill: its learning curve and what it does to sales"
    )


class Engagement(Strict):
    large_accounts: Literal[
        "open", "rep_only", "dealer_only", "rep_assists_dealer", "deal_registration"
    ] = Field(
        "open", description="who may quote to a large account both a rep and a dealer reached"
    )
    registration_weeks: Annotated[int, Field(ge=1, le=520)] = Field(
        26,
        description="deal_registration: weeks a registration holds",
        json_schema_extra={"unit": "weeks"},
    )
    assist_service_boost: Probability = Field(
        0.15,
        description="rep_assists_dealer: service the rep's help adds to the dealer's",
        json_schema_extra={"unit": "0-1"},
    )
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
    enabled: bool = Field(False, description="whether the company sells online")
    discount: Annotated[float, Field(ge=0.0, lt=1.0)] = Field(
        0.0, description="online discount off list price", json_schema_extra={"unit": "share"}
    )
    service_quality: Probability = Field(
        0.2, description="online service level", json_schema_extra={"unit": "0-1"}
    )
    cost_per_order: Money = Field(
        0.0,
        description="cost of serving an online order",
        json_schema_extra={"unit": "money per order"},
    )


class Telesales(Strict):
    enabled: bool = Field(
        False, description="whether a telesales team calls past customers recorded in the CRM"
    )
    agents: Annotated[int, Field(ge=0, le=10_000)] = Field(
        2, description="telesales agents", json_schema_extra={"unit": "agents"}
    )
    calls_per_agent: Annotated[int, Field(ge=0, le=2_000)] = Field(
        150, description="calls an agent makes a week", json_schema_extra={"unit": "calls per week"}
    )
    cost_per_agent_week: Money = Field(
        600.0, description="weekly cost of an agent", json_schema_extra={"unit": "money per week"}
    )
    service_quality: Probability = Field(
        0.4, description="telesales service level", json_schema_extra={"unit": "0-1"}
    )


class Insurance(Strict):
    enabled: bool = Field(
        False, description="insurance: the price is a premium and policies bring claims"
    )
    claim_dispersion: Positive = Field(
        2.0, description="gamma shape of claims per policy (larger: less spread)"
    )
    loss_ratio_threshold: NonNegative = Field(
        1.2, description="a customer's loss ratio above which renewal is declined or repriced"
    )
    action: Literal["decline", "reprice"] = Field(
        "reprice", description="decline or reprice customers above the threshold"
    )
    surcharge: NonNegative = Field(
        0.25,
        description="price surcharge on repriced customers",
        json_schema_extra={"unit": "share"},
    )


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

    name: str = Field(
        "scenario",
        description="the scenario's name: labels its rows in tables and its column in reports",
    )
    description: str = Field("", description="what the scenario is about, shown in reports")
    currency: str = Field(
        "",
        max_length=12,
        description=(
            "currency of every price and money KPI, used in labels (e.g. EUR, CNY); "
            "default none: labels say 'money'"
        ),
    )
    strategy: Literal["direct", "intermediary", "parallel"] = Field(
        "parallel",
        description=(
            "direct (own reps), intermediary (general agents and dealers) or parallel (both)"
        ),
    )
    flattened: bool = Field(
        False, description="dealers buy from the company directly: no general-agent tier"
    )
    weeks: Annotated[int, Field(ge=1, le=5200)] = Field(
        104,
        description="weeks measured: every KPI covers these weeks, after the warm-up",
        json_schema_extra={"unit": "weeks"},
    )
    warmup_weeks: Annotated[int, Field(ge=0, le=5200)] | None = Field(
        None,
        description=(
            "weeks simulated before the measured weeks and left out of every KPI, so the "
            "start-up transient does not count; default (empty): one and a half purchase "
            "cycles of the longest cycle_weeks (docs/model.md, 'Warm-up')"
        ),
        json_schema_extra={"unit": "weeks"},
    )
    seed: Annotated[int, Field(ge=0)] = Field(1, description="base seed of the replicates' seeds")
    replicates: Annotated[int, Field(ge=1, le=100_000)] = Field(
        10, description="replicates run by default", json_schema_extra={"unit": "runs"}
    )
    market: Market = Field(description="the customers, regions and competitor")
    pricing: Pricing = Field(Pricing(), description="prices, costs and discounts")
    general_agents: GeneralAgents = Field(
        GeneralAgents(), description="the general agents between the company and the dealers"
    )
    dealers: Dealers = Field(Dealers(), description="the dealers")
    reps: Reps = Field(Reps(), description="the company's rep force")
    engagement: Engagement = Field(
        Engagement(), description="rules of engagement between reps and dealers on large accounts"
    )
    online: Online = Field(Online(), description="the online channel")
    telesales: Telesales = Field(Telesales(), description="the telesales team")
    insurance: Insurance = Field(Insurance(), description="insurance option: premiums and claims")
    sales_management: SalesManagement = Field(
        SalesManagement(),
        description="coaching, training, career paths, forecasts, sharing of practice "
        "(docs/model.md 3.14-3.15); neutral by default",
    )

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
        for path, value in numeric_settings(self).items():
            if abs(value) > MAX_MAGNITUDE:
                raise SettingError(
                    path,
                    f"{value:g} is beyond {MAX_MAGNITUDE:g}; numbers that large overflow "
                    "double precision in the model's totals",
                )
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

    def warmup(self) -> int:
        """Weeks of warm-up: `warmup_weeks`, or one and a half purchase cycles (of the
        longest `cycle_weeks`), which covers the start-up transient measured in the bundled
        scenarios (benchmarks/warmup.py: 50 to 70 weeks for a 52-week cycle)."""
        if self.warmup_weeks is not None:
            return self.warmup_weeks
        return math.ceil(WARMUP_CYCLES * max(s.cycle_weeks for s in self.market.segments))

    def dealer_count(self, region: str) -> int:
        per = self.dealers.per_region
        return per.get(region, 0) if isinstance(per, dict) else per


def numeric_settings(scenario: Scenario) -> dict[str, float]:
    """Every numeric setting by dotted path (list items by index), counters left out."""
    numeric: dict[str, float] = {}

    def walk(value: Any, path: str) -> None:
        if isinstance(value, Mapping):
            for key, item in value.items():
                walk(item, f"{path}.{key}" if path else str(key))
        elif isinstance(value, list | tuple):
            for i, item in enumerate(value):
                walk(item, f"{path}.{i}")
        elif isinstance(value, int | float) and not isinstance(value, bool):
            numeric[path] = float(value)

    walk(scenario.model_dump(mode="python"), "")
    for counter in COUNTERS:
        numeric.pop(counter, None)
    return numeric
