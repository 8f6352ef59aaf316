"""The validation suite: channelsim, configured as textbook models, against their closed forms.

Each case runs ordinary scenario files from scenarios/validation/ (so users can see how the
textbook assumptions are expressed) and returns `Check`s: a quantity, its closed form, the
simulated value and a tolerance with the reason for it. Used by `channelsim validate-model`,
by tests/validation/ and for the table in docs/validation.md.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from channelsim.model.channel_model import ChannelModel
from channelsim.scenario.loading import ScenarioError, load_scenario
from channelsim.scenario.schema import Scenario

# scenarios/validation, shipped inside the package (a link in the source tree, copies in a
# wheel) so `channelsim validate-model` works from any install.
FOLDER = Path(__file__).parent / "validation_scenarios"


@dataclass(frozen=True)
class Check:
    """One simulated quantity against its closed form."""

    case: str
    quantity: str
    closed_form: float
    simulated: float
    tolerance: float
    why: str

    @property
    def error(self) -> float:
        return self.simulated - self.closed_form

    @property
    def passed(self) -> bool:
        return bool(abs(self.error) <= self.tolerance)


@dataclass(frozen=True)
class Outcome:
    """One run of a validation scenario."""

    scenario: Scenario
    model: ChannelModel
    kpis: dict[str, float]

    def per_week(self, kpi: str) -> float:
        return self.kpis[kpi] / self.scenario.weeks


def simulate(folder: Path, name: str, overrides: Iterable[str] = ()) -> Outcome:
    """Run scenarios/validation/<name>.yaml (with `--set`-style overrides) at its own seed."""
    path = Path(folder) / f"{name}.yaml"
    if not path.is_file():
        raise ScenarioError(f"{path}: validation scenario not found (see --scenarios)")
    scenario = load_scenario(path, overrides)
    model = ChannelModel(scenario, seed=scenario.seed)
    return Outcome(scenario, model, model.run().kpis)


def _market(outcome: Outcome) -> tuple[int, float]:
    """Customers N and unit cost c of a one-segment textbook market."""
    sc = outcome.scenario
    return sum(sc.market.customer_counts().values()), sc.pricing.unit_cost


# --- 1. stacked margins ----------------------------------------------------------------

STACKED = "1 stacked margins"
WHY_UNITS = "one customer: each tier's price is exact for the step demand it faces"
WHY_PROFIT = "price error x quantity + margin x quantity error, from the lines above"


@dataclass(frozen=True)
class _Textbook:
    """A one-segment market with valuations U[0, 1]: N customers, unit cost c, and the
    tolerances its step demand allows (demand falls by one customer per 1/N of the price)."""

    n: int
    c: float

    @property
    def a(self) -> float:
        return self.n * (1.0 - self.c)  # A = a - b c with a = b = N

    def dp(self, below: int) -> float:
        """One step of the demand a tier faces with `below` best-responding tiers below it."""
        return 1.0 / self.n * 2**below

    def why_p(self, below: int) -> str:
        return (
            f"one step of the demand this tier faces: it loses a customer every "
            f"2^{below}/N = {self.dp(below):g} of its price (exact best response on step demand)"
        )

    def profit_tol(self, margin: float, quantity: float, below: int = 0) -> float:
        return self.dp(below) * quantity + margin * 1.0  # one customer more or less

    def ratio_tol(self, ratio: float, parts: Sequence[tuple[float, float]], base: float) -> float:
        total = sum(self.a**2 / (4 * self.n) * r for r, _ in parts)
        spread = sum(t for _, t in parts)
        return ratio * (spread / total + self.profit_tol((1 - self.c) / 2, self.a / 2) / base)


def stacked_margins(folder: Path = FOLDER) -> list[Check]:
    """Spengler: prices, quantities and profits of 1, 2 and 3 tiers, all best responses."""
    integrated = simulate(folder, "integrated")
    two = simulate(folder, "maker_dealer")
    three = simulate(folder, "maker_agent_dealer")
    market = _Textbook(*_market(integrated))
    base = integrated.per_week("company_profit")
    return [
        *_integrated(market, integrated),
        *_maker_dealer(market, two, base),
        *_maker_agent_dealer(market, three, base),
    ]


def _integrated(m: _Textbook, run: Outcome) -> list[Check]:
    """One tier: the monopoly price (1 + c) / 2 and profit A^2 / 4N."""
    c, a = m.c, m.a
    return [
        Check(
            STACKED, "integrated: price", (1 + c) / 2, run.model.prices.online, m.dp(0), m.why_p(0)
        ),
        Check(STACKED, "integrated: units/week", a / 2, run.per_week("units"), 1.0, WHY_UNITS),
        Check(
            STACKED,
            "integrated: profit/week",
            a**2 / (4 * m.n),
            run.per_week("company_profit"),
            m.profit_tol((1 - c) / 2, a / 2),
            WHY_PROFIT,
        ),
    ]


def _maker_dealer(m: _Textbook, run: Outcome, base: float) -> list[Check]:
    """Two tiers: double marginalisation keeps 3/4 of the integrated profit."""
    c, a, n = m.c, m.a, m.n
    w = run.model.prices.general_agent_to_dealer
    maker, dealer = run.per_week("company_profit"), run.per_week("dealer_margin")
    tol_m, tol_d = m.profit_tol((1 - c) / 2, a / 4, 1), m.profit_tol((1 - c) / 4, a / 4)
    return [
        Check(STACKED, "maker->dealer: wholesale w", (1 + c) / 2, w, m.dp(1), m.why_p(1)),
        Check(
            STACKED,
            "maker->dealer: retail p",
            (3 + c) / 4,
            run.model.prices.dealer_to_customer,
            m.dp(0),
            m.why_p(0),
        ),
        Check(STACKED, "maker->dealer: units/week", a / 4, run.per_week("units"), 1.0, WHY_UNITS),
        Check(
            STACKED, "maker->dealer: maker profit/week", a**2 / (8 * n), maker, tol_m, WHY_PROFIT
        ),
        Check(
            STACKED, "maker->dealer: dealer profit/week", a**2 / (16 * n), dealer, tol_d, WHY_PROFIT
        ),
        Check(
            STACKED,
            "maker->dealer: total/integrated profit",
            3 / 4,
            (maker + dealer) / base,
            m.ratio_tol(3 / 4, [(1 / 2, tol_m), (1 / 4, tol_d)], base),
            "relative profit tolerances of both chains added",
        ),
    ]


def _maker_agent_dealer(m: _Textbook, run: Outcome, base: float) -> list[Check]:
    """Three tiers: 7/16 of the integrated profit."""
    c, a, n = m.c, m.a, m.n
    p = run.model.prices
    maker = run.per_week("company_profit")
    agent, dealer = run.per_week("ga_margin"), run.per_week("dealer_margin")
    tol_m = m.profit_tol((1 - c) / 2, a / 8, 2)
    tol_a, tol_d = m.profit_tol((1 - c) / 4, a / 8, 1), m.profit_tol((1 - c) / 8, a / 8)
    name = "maker->agent->dealer"
    return [
        Check(STACKED, f"{name}: w1", (1 + c) / 2, p.company_to_general_agent, m.dp(2), m.why_p(2)),
        Check(STACKED, f"{name}: w2", (3 + c) / 4, p.general_agent_to_dealer, m.dp(1), m.why_p(1)),
        Check(STACKED, f"{name}: p", (7 + c) / 8, p.dealer_to_customer, m.dp(0), m.why_p(0)),
        Check(STACKED, f"{name}: units/week", a / 8, run.per_week("units"), 1.0, WHY_UNITS),
        Check(STACKED, f"{name}: maker profit", a**2 / (16 * n), maker, tol_m, WHY_PROFIT),
        Check(STACKED, f"{name}: agent profit", a**2 / (32 * n), agent, tol_a, WHY_PROFIT),
        Check(STACKED, f"{name}: dealer profit", a**2 / (64 * n), dealer, tol_d, WHY_PROFIT),
        Check(
            STACKED,
            f"{name}: total/integrated",
            7 / 16,
            (maker + agent + dealer) / base,
            m.ratio_tol(7 / 16, [(1 / 4, tol_m), (1 / 8, tol_a), (1 / 16, tol_d)], base),
            "relative profit tolerances of both chains added",
        ),
    ]


# --- 2. dual-channel demand ------------------------------------------------------------


def dual_channel_shares(p_r: float, p_d: float, theta: float) -> tuple[float, float]:
    """Chiang, Chhajed & Hess (2003): dealer and direct demand shares, valuations U[0, 1]."""
    if p_d >= theta * p_r:
        return max(0.0, 1.0 - p_r), 0.0
    if p_r - p_d <= 1.0 - theta:
        return 1.0 - (p_r - p_d) / (1.0 - theta), (theta * p_r - p_d) / (theta * (1.0 - theta))
    return 0.0, max(0.0, 1.0 - p_d / theta)


def _channel_shares(outcome: Outcome) -> tuple[float, float]:
    """Simulated dealer and online shares of customer-weeks."""
    n, _ = _market(outcome)
    prices = outcome.model.prices
    decisions = n * outcome.scenario.weeks
    dealer = outcome.kpis["revenue_dealer"] / prices.dealer_to_customer / decisions
    online = outcome.kpis["revenue_online"] / prices.online / decisions
    return dealer, online


DUAL_CHANNEL_ONLINE_PRICES = (0.5, 0.35, 0.2)


def dual_channel(folder: Path = FOLDER) -> list[Check]:
    """Dealer and online shares in the three price regions of the dual-channel model."""
    case = "2 dual channel"
    checks = []
    for p_d in DUAL_CHANNEL_ONLINE_PRICES:
        run = simulate(folder, "dual_channel", [f"pricing.list_price={p_d}"])
        n, _ = _market(run)
        theta = run.scenario.market.segments[0].direct_acceptance
        p_r = run.model.prices.dealer_to_customer
        expected = dual_channel_shares(p_r, p_d, theta)
        why = f"a share is a count of customers out of N = {n}: +-1/N at each of two boundaries"
        for label, closed, simulated in zip(
            ("dealer", "online"), expected, _channel_shares(run), strict=True
        ):
            checks.append(
                Check(
                    case, f"p_d={p_d:g}, p_r={p_r:g}: {label} share", closed, simulated, 2 / n, why
                )
            )
    return checks


# --- 3. Bertrand conflict ----------------------------------------------------------------

BERTRAND_CASES = (
    # (label, account value, rep_max_discount): rep floor = 1 - discount, dealer floor 0.5
    ("dealer floor lower, value above both", 0.9, 0.4),
    ("dealer floor lower, value between floors", 0.55, 0.4),
    ("rep floor lower", 0.9, 0.6),
    ("equal floors (tie to the dealer)", 0.9, 0.5),
)


def bertrand(folder: Path = FOLDER) -> list[Check]:
    """An open conflict over one account: the lower floor wins at min(value, higher floor)."""
    case = "3 Bertrand conflict"
    why = "deterministic: one account, no random draw decides the outcome"
    checks = []
    for label, value, discount in BERTRAND_CASES:
        run = simulate(
            folder,
            "bertrand",
            [
                f"market.segments.account.valuation.low={value}",
                f"market.segments.account.valuation.high={value}",
                f"pricing.rep_max_discount={discount}",
            ],
        )
        rep_floor, dealer_floor = run.model.rep_floor, run.model.dealer_floor
        dealer_wins = dealer_floor <= rep_floor
        price = min(value, max(rep_floor, dealer_floor))
        revenue = run.kpis["revenue"]
        checks += [
            Check(case, f"{label}: price paid", price, revenue / run.kpis["units"], 1e-9, why),
            Check(
                case,
                f"{label}: dealer's share of sales",
                float(dealer_wins),
                run.kpis["revenue_dealer"] / revenue,
                1e-9,
                why,
            ),
            Check(case, f"{label}: conflicts/week", 1.0, run.per_week("conflicts"), 1e-9, why),
        ]
    return checks


# --- 4. logit ------------------------------------------------------------------------------

LOGIT_SCALES = (0.2, 0.1, 0.05, 0.02)
LIMIT_SCALES = (0.01, 0.001)


def logit_shares(
    values: np.ndarray, p_r: float, p_d: float, theta: float, scale: float
) -> tuple[np.ndarray, np.ndarray]:
    """Per-customer logit probabilities of dealer and online (outside option utility 0).

    P_j = exp(V_j / mu) / (1 + sum_k exp(V_k / mu)), V_dealer = v - p_r, V_online = theta v - p_d.
    """
    v = np.column_stack([values - p_r, theta * values - p_d, np.zeros_like(values)]) / scale
    e = np.exp(v - v.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    return p[:, 0], p[:, 1]


def logit(folder: Path = FOLDER) -> list[Check]:
    """Simulated logit shares against the formula, and their limit as the scale goes to 0."""
    case = "4 logit"
    checks = []
    for scale in (*LOGIT_SCALES, *LIMIT_SCALES):
        run = simulate(folder, "logit", [f"market.choice.scale={scale}"])
        n, _ = _market(run)
        weeks = run.scenario.weeks
        seg = run.scenario.market.segments[0]
        theta = seg.direct_acceptance
        values = (np.arange(n) + 0.5) / n * (seg.valuation.high - seg.valuation.low)
        values += seg.valuation.low
        p_r, p_d = run.model.prices.dealer_to_customer, run.model.prices.online
        per_customer = logit_shares(values, p_r, p_d, theta, scale)
        deterministic = dual_channel_shares(p_r, p_d, theta)
        simulated = _channel_shares(run)
        for k, label in enumerate(("dealer", "online")):
            prob = per_customer[k]
            se = math.sqrt(float((prob * (1 - prob)).sum())) / (n * math.sqrt(weeks))
            if scale in LOGIT_SCALES:
                checks.append(
                    Check(
                        case,
                        f"scale {scale:g}: {label} share",
                        float(prob.mean()),
                        simulated[k],
                        4 * se,
                        f"4 standard errors of a share of {n} x {weeks} logit draws",
                    )
                )
            else:
                gap = abs(float(prob.mean()) - deterministic[k])
                checks.append(
                    Check(
                        case,
                        f"scale {scale:g} -> 0: {label} share",
                        deterministic[k],
                        simulated[k],
                        4 * se + gap + 1 / n,
                        f"4 SE + the formula's own distance to the limit ({gap:.1e}) + 1/N",
                    )
                )
    return checks


# --- 5. rep pricing ------------------------------------------------------------------------


def rep_pricing(folder: Path = FOLDER) -> list[Check]:
    """A rep with price discretion: revenue pay -> price 1/2, gross-margin pay -> (1 + c)/2."""
    case = "5 rep pricing"
    checks = []
    for basis in ("revenue", "gross_margin"):
        run = simulate(folder, "rep_pricing", [f"reps.commission.basis={basis}"])
        n, c = _market(run)
        price = 0.5 if basis == "revenue" else (1 + c) / 2
        dp = 1.0 / n
        checks += [
            Check(
                case,
                f"{basis} commission: rep price",
                price,
                run.model.prices.direct,
                dp,
                f"one demand step, 1/N = {1 / n:g} (exact best response on step demand)",
            ),
            Check(
                case,
                f"{basis} commission: units/week",
                n * (1 - price),
                run.per_week("units"),
                1.0,
                "one customer (exact best response on step demand)",
            ),
        ]
    return checks


# --- 6. intermediaries' own costs -------------------------------------------------------------


def own_costs(folder: Path = FOLDER) -> list[Check]:
    """Stacked margins with the general agent's and the dealer's own unit costs."""
    case = "6 own costs"
    run = simulate(folder, "own_costs")
    n, c = _market(run)
    c_ga, c_d = run.scenario.general_agents.unit_cost, run.scenario.dealers.unit_cost
    big_a = n * (1.0 - c - c_ga - c_d)  # A = a - b (c + c_GA + c_D), a = b = N
    w1 = c + big_a / (2 * n)
    w2 = w1 + c_ga + big_a / (4 * n)
    p = w2 + c_d + big_a / (8 * n)
    q = big_a / 8
    prices = run.model.prices

    def why(below: int) -> str:
        return f"one step of the demand this tier faces: 2^{below}/N = {2**below / n:g}"

    k = run.kpis
    paid = k["company_revenue"] + k["ga_margin"] + k["dealer_margin"]
    paid += k["ga_unit_costs"] + k["dealer_unit_costs"]
    why_pi = "price error x quantity + margin x one customer"
    return [
        Check(case, "w1", w1, prices.company_to_general_agent, 4 / n, why(2)),
        Check(case, "w2", w2, prices.general_agent_to_dealer, 2 / n, why(1)),
        Check(case, "p", p, prices.dealer_to_customer, 1 / n, why(0)),
        Check(case, "units/week", q, run.per_week("units"), 1.0, "one customer"),
        Check(
            case,
            "maker profit/week",
            big_a**2 / (16 * n),
            run.per_week("company_profit"),
            4 / n * q + (w1 - c),
            why_pi,
        ),
        Check(
            case,
            "agent margin/week (after its costs)",
            big_a**2 / (32 * n),
            run.per_week("ga_margin"),
            2 / n * q + (w2 - w1 - c_ga),
            why_pi,
        ),
        Check(
            case,
            "dealer margin/week (after its costs)",
            big_a**2 / (64 * n),
            run.per_week("dealer_margin"),
            1 / n * q + (p - w2 - c_d),
            why_pi,
        ),
        Check(
            case,
            "agent costs / units",
            c_ga,
            k["ga_unit_costs"] / k["units"],
            1e-9,
            "exact: c_GA per unit sold",
        ),
        Check(
            case,
            "money identity: (company + margins + costs) / revenue",
            1.0,
            paid / k["revenue"],
            1e-9,
            "exact up to float rounding",
        ),
    ]


# --- 7. conflicts between unlike offers ----------------------------------------------------

CONFLICT_SERVICE_CASES = (
    # (label, rep_max_discount): rep floor = 1 - discount, dealer floor 0.5
    ("dealer floor lower", 0.4),
    ("rep floor lower, dealer's service wins", 0.55),
    ("rep floor far lower, rep wins", 0.7),
)


def conflict_service(folder: Path = FOLDER) -> list[Check]:
    """Asymmetric Bertrand: the offer worth more at the floors wins, at indifference."""
    case = "7 conflict with service"
    why = "deterministic: one account, no random draw decides the outcome"
    checks = []
    for label, discount in CONFLICT_SERVICE_CASES:
        run = simulate(folder, "conflict_service", [f"pricing.rep_max_discount={discount}"])
        sc = run.scenario
        seg = sc.market.segments[0]
        value = seg.valuation.low
        b_s, b_p = seg.service_sensitivity, seg.price_sensitivity
        s_d, s_r = sc.dealers.service_quality, sc.reps.service_quality
        edge = b_s * (s_d - s_r) / b_p  # the dealer's offer is worth this much more
        rep_floor, dealer_floor = 1.0 - discount, sc.pricing.flattened_price
        dealer_normal = dealer_floor * (1.0 + sc.dealers.markup)
        dealer_wins = dealer_floor - edge <= rep_floor
        if dealer_wins:
            price = min(rep_floor + edge, value + b_s * s_d / b_p, dealer_normal)
        else:
            price = min(dealer_floor - edge, value + b_s * s_r / b_p, sc.pricing.list_price)
        revenue = run.kpis["revenue"]
        checks += [
            Check(case, f"{label}: price paid", price, revenue / run.kpis["units"], 1e-9, why),
            Check(
                case,
                f"{label}: dealer's share of sales",
                float(dealer_wins),
                run.kpis["revenue_dealer"] / revenue,
                1e-9,
                why,
            ),
        ]
    for label, value, discount in BERTRAND_CASES:
        run = simulate(
            folder,
            "bertrand",
            [
                f"market.segments.account.valuation.low={value}",
                f"market.segments.account.valuation.high={value}",
                f"pricing.rep_max_discount={discount}",
                "engagement.conflict_pricing=utility",
            ],
        )
        price = min(value, max(run.model.rep_floor, run.model.dealer_floor))
        checks.append(
            Check(
                case,
                f"identical offers, {label}: price paid",
                price,
                run.kpis["revenue"] / run.kpis["units"],
                1e-9,
                "identical offers: exactly the Bertrand answer of case 3",
            )
        )
    return checks


# --- 8. effort that follows pay ----------------------------------------------------------------

REP_EFFORT_SETS = (
    # (effort cost k, risk aversion r, sales noise sigma)
    (0.001, 0.001, 1000.0),
    (0.002, 0.0005, 500.0),
)
COMMISSION_GRID = tuple(round(0.05 + 0.025 * i, 4) for i in range(23))  # 0.05 .. 0.6


def rep_effort(folder: Path = FOLDER) -> list[Check]:
    """Holmstrom-Milgrom: effort beta h / k, and the best commission m h^2 / (h^2 + k r sigma^2)."""
    case = "8 rep effort"
    checks = []
    for k, r, sigma in REP_EFFORT_SETS:
        settings = [
            f"reps.effort.cost={k}",
            f"reps.effort.risk_aversion={r}",
            f"reps.effort.sales_noise={sigma}",
        ]
        profits = []
        for beta in COMMISSION_GRID:
            run = simulate(folder, "rep_effort", [*settings, f"reps.commission.rate={beta}"])
            profits.append(run.per_week("company_profit"))
            if beta in (0.25, 0.4):
                h = run.scenario.market.segments[0].volume * run.scenario.pricing.list_price
                weeks = run.scenario.weeks
                checks.append(
                    Check(
                        case,
                        f"k={k:g}, beta={beta:g}: visits/week = beta h / k",
                        beta * h / k,
                        run.per_week("rep_visits"),
                        1.0 / weeks,
                        f"whole visits; the carried-over fraction is under one in {weeks} weeks",
                    )
                )
        sc = run.scenario
        h = sc.market.segments[0].volume * sc.pricing.list_price
        m = 1.0 - sc.pricing.unit_cost / sc.pricing.list_price
        best = m * h**2 / (h**2 + k * r * sigma**2)
        checks.append(
            Check(
                case,
                f"k={k:g}, r sigma^2={r * sigma**2:g}: profit-maximising commission",
                best,
                _vertex(np.array(COMMISSION_GRID), np.array(profits)),
                0.005,
                "vertex of the parabola through the best three points of a sweep with step "
                "0.025; profit is quadratic in beta, whole visits move it by under 0.005",
            )
        )
    return checks


def _vertex(x: np.ndarray, y: np.ndarray) -> float:
    """The maximum of the parabola through the best point of (x, y) and its neighbours."""
    j = int(np.clip(np.argmax(y), 1, x.size - 2))
    a, b, _ = np.polyfit(x[j - 1 : j + 2], y[j - 1 : j + 2], 2)
    return float(-b / (2 * a)) if a < 0 else float(x[np.argmax(y)])


CASES: dict[str, Callable[[Path], list[Check]]] = {
    "stacked_margins": stacked_margins,
    "dual_channel": dual_channel,
    "bertrand": bertrand,
    "logit": logit,
    "rep_pricing": rep_pricing,
    "own_costs": own_costs,
    "conflict_service": conflict_service,
    "rep_effort": rep_effort,
}


def run_suite(folder: Path = FOLDER, cases: Iterable[str] | None = None) -> list[Check]:
    """Every check of the chosen cases (all by default), in case order."""
    chosen = list(CASES) if cases is None else list(cases)
    unknown = [c for c in chosen if c not in CASES]
    if unknown:
        raise ScenarioError(f"unknown validation case(s) {unknown}; expected some of {list(CASES)}")
    return [check for name in chosen for check in CASES[name](Path(folder))]
