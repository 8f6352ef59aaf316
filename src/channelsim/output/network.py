"""A picture of a scenario's channel network, so a user can check the file says what they meant.

Company -> general agents -> dealers per region; reps per region with their roles; the
online and telesales channels; the engagement rule on large accounts. Everything is read
from the scenario; reps are split over regions as the model splits them (in proportion to
each region's potential revenue, whole heads by largest remainder).
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from functools import partial

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch

from channelsim.model.state import largest_remainder
from channelsim.output.figures import margins, subplots
from channelsim.output.rendering import Recipe
from channelsim.scenario.schema import Scenario

ENGAGEMENT_TEXT = {
    "open": "reps and dealers both quote; a clash is a conflict, priced by {pricing}",
    "rep_only": "only the rep quotes",
    "dealer_only": "only the dealer quotes",
    "rep_assists_dealer": "the dealer sells; a rep assists and earns overlay credit",
    "deal_registration": "the first to reach the account registers it for {weeks} weeks",
}
COLOURS = {
    "company": "#1f77b4",
    "ga": "#ff7f0e",
    "dealers": "#ffbb78",
    "reps": "#aec7e8",
    "region": "#e8e8e8",
    "online": "#98df8a",
    "telesales": "#c5b0d5",
    "off": "#f4f4f4",
}


@dataclass(frozen=True)
class RegionNetwork:
    """What serves one region: dealers, reps by role, customers by segment."""

    name: str
    dealers: int
    sellers: int
    channel_managers: int
    customers: int
    large_accounts: int
    general_agent: str | None


def regions(scenario: Scenario) -> list[RegionNetwork]:
    """Each region's dealers, reps (sellers and channel managers) and customers."""
    market = scenario.market
    names = [r.name for r in market.regions]
    per_pair = market.customer_counts()
    counts = np.array([[per_pair[r, s.name] for r in names] for s in market.segments])
    weight = np.array([s.volume / s.cycle_weeks for s in market.segments])
    heads = largest_remainder(scenario.reps.headcount, (counts * weight[:, None]).sum(axis=0))
    reps_sell = scenario.strategy != "intermediary"
    uses_dealers = scenario.strategy != "direct"
    if not reps_sell or scenario.reps.role == "channel_manager":
        managers = heads
    elif scenario.reps.role == "mixed" and uses_dealers:
        total = int(np.floor(heads.sum() * scenario.reps.channel_manager_share + 0.5))
        managers = largest_remainder(total, heads.astype(float))
    else:
        managers = np.zeros_like(heads)
    agent_of = {}
    if uses_dealers and not scenario.flattened:
        agent_of = {r: a.name for a in scenario.general_agents.agents for r in a.regions}
    large = np.array([s.large_account for s in market.segments])
    return [
        RegionNetwork(
            name=name,
            dealers=scenario.dealer_count(name) if uses_dealers else 0,
            sellers=int(heads[r] - managers[r]),
            channel_managers=int(managers[r]),
            customers=int(counts[:, r].sum()),
            large_accounts=int(counts[large, r].sum()),
            general_agent=agent_of.get(name),
        )
        for r, name in enumerate(names)
    ]


@dataclass(frozen=True)
class _Box:
    x: float
    y: float
    width: float
    height: float = 0.32

    @property
    def left(self) -> tuple[float, float]:
        return (self.x - self.width / 2, self.y)

    @property
    def right(self) -> tuple[float, float]:
        return (self.x + self.width / 2, self.y)


def _box(ax, box: _Box, text: str, colour: str) -> _Box:
    ax.add_patch(
        FancyBboxPatch(
            (box.x - box.width / 2, box.y - box.height / 2),
            box.width,
            box.height,
            boxstyle="round,pad=0.02,rounding_size=0.06",
            fc=colour,
            ec="#555",
            lw=0.8,
            zorder=3,
        )
    )
    ax.text(box.x, box.y, text, ha="center", va="center", fontsize=7.5, zorder=4)
    return box


def _arrow(ax, start: _Box, end: _Box, colour: str) -> None:
    ax.annotate(
        "",
        xy=end.left,
        xytext=start.right,
        arrowprops={"arrowstyle": "-|>", "color": colour, "lw": 0.9, "shrinkA": 0, "shrinkB": 0},
        zorder=2,
    )


def _reps_text(region: RegionNetwork) -> str:
    parts = []
    if region.sellers:
        parts.append(f"{region.sellers} selling")
    if region.channel_managers:
        managers = region.channel_managers
        parts.append(f"{managers} channel manager{'s' if managers != 1 else ''}")
    total = region.sellers + region.channel_managers
    return f"{total} rep{'s' if total != 1 else ''}" + (": " + ", ".join(parts) if parts else "")


def network_figure(scenario: Scenario) -> Figure:
    """The scenario's channel network as a diagram, one row per region.

    Regions served by the same general agent are drawn next to each other.
    """
    rows = regions(scenario)
    agent_order = {a.name: i for i, a in enumerate(scenario.general_agents.agents)}
    rows.sort(key=lambda r: agent_order.get(r.general_agent, len(agent_order)))
    n = len(rows)
    fig, [[ax]] = subplots(1, 1, 11, 0.8 * n + 2.6)
    ax.set_xlim(-0.2, 10.8)
    ax.set_ylim(-2.5, n - 0.4)
    ax.axis("off")
    _draw_chains(ax, scenario, rows)
    _draw_direct_channels(ax, scenario)
    _draw_engagement_rule(ax, scenario)
    flat = scenario.flattened and scenario.strategy != "direct"
    ax.set_title(
        f"{scenario.name}: strategy {scenario.strategy}"
        + (" (flattened: the company supplies dealers directly)" if flat else ""),
        fontsize=11,
    )
    margins(fig, left=0.1, right=0.1, bottom=0.1, top=0.4)
    return fig


def _draw_chains(ax, scenario: Scenario, rows: list[RegionNetwork]) -> None:
    """The company, its general agents, and each region's dealers, reps and customers."""
    n = len(rows)
    y = {row.name: float(n - 1 - i) for i, row in enumerate(rows)}
    company = _box(
        ax,
        _Box(0.75, (n - 1) / 2, 1.4, 0.5),
        f"Company\nlist price {scenario.pricing.list_price:g}",
        COLOURS["company"],
    )
    agents: dict[str, list[str]] = {}
    for row in rows:
        if row.general_agent:
            agents.setdefault(row.general_agent, []).append(row.name)
    agent_boxes = {}
    for agent, served in agents.items():
        agent_boxes[agent] = _box(
            ax,
            _Box(3.1, float(np.mean([y[r] for r in served])), 1.7, 0.5),
            f"{agent}\nmarkup {scenario.general_agents.markup:.0%}",
            COLOURS["ga"],
        )
        _arrow(ax, company, agent_boxes[agent], COLOURS["ga"])
    for row in rows:
        customers = _box(
            ax,
            _Box(9.3, y[row.name], 2.6, 0.55),
            f"{row.name}: {row.customers:,} customers\n({row.large_accounts:,} large accounts)",
            COLOURS["region"],
        )
        if row.dealers:
            dealers = _box(
                ax,
                _Box(5.9, y[row.name] + 0.2, 2.5),
                f"{row.dealers} dealers (markup {scenario.dealers.markup:.0%})",
                COLOURS["dealers"],
            )
            supplier = agent_boxes.get(row.general_agent or "", company)  # flattened: company
            _arrow(ax, supplier, dealers, COLOURS["dealers" if supplier is company else "ga"])
            _arrow(ax, dealers, customers, COLOURS["dealers"])
        if row.sellers + row.channel_managers:
            reps = _box(ax, _Box(5.9, y[row.name] - 0.2, 2.5), _reps_text(row), COLOURS["reps"])
            _arrow(ax, company, reps, "#6a8fbf")
            if row.sellers:
                _arrow(ax, reps, customers, "#6a8fbf")


def _draw_direct_channels(ax, scenario: Scenario) -> None:
    """Online and telesales, which sell to every region."""
    online, telesales = scenario.online, scenario.telesales
    online_text = f"Online: {online.discount:.0%} off list" if online.enabled else "Online: off"
    tele_text = (
        f"Telesales: {telesales.agents} agents x {telesales.calls_per_agent} calls/week"
        if telesales.enabled
        else "Telesales: off"
    )
    _box(ax, _Box(1.2, -1.0, 2.2), online_text, COLOURS["online" if online.enabled else "off"])
    _box(
        ax,
        _Box(4.3, -1.0, 3.4),
        tele_text,
        COLOURS["telesales" if telesales.enabled else "off"],
    )
    if online.enabled or telesales.enabled:
        ax.text(6.3, -1.0, "sell to every region's customers", fontsize=8, va="center")


def _draw_engagement_rule(ax, scenario: Scenario) -> None:
    """The rule of engagement on large accounts, in words."""
    rule = scenario.engagement.large_accounts
    pricing = {
        "floors": "floors (the lower floor wins)",
        "utility": "asymmetric Bertrand (the offer valued more wins)",
    }.get(scenario.engagement.conflict_pricing, scenario.engagement.conflict_pricing)
    explanation = ENGAGEMENT_TEXT[rule].format(
        weeks=scenario.engagement.registration_weeks, pricing=pricing
    )
    if scenario.strategy != "parallel":
        explanation += f" (no clash possible: strategy {scenario.strategy})"
    ax.text(
        0.0,
        -1.9,
        # wrapped, so a long rule stays inside the figure
        textwrap.fill(f"Engagement rule on large accounts: {rule}: {explanation}", 130),
        fontsize=8.5,
        va="center",
        bbox={"boxstyle": "round,pad=0.3", "fc": "white", "ec": "#b00", "lw": 0.8},
    )


def network_recipes(scenarios: list[Scenario]) -> dict[str, Recipe]:
    """One network picture per scenario, named `network` for one, `network_<name>` for
    more, as recipes (`output.rendering`)."""
    if len(scenarios) == 1:
        return {"network": partial(network_figure, scenarios[0])}
    return {f"network_{_file_stem(s.name)}": partial(network_figure, s) for s in scenarios}


def _file_stem(name: str) -> str:
    """A scenario name as a safe file-name part."""
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)[:80] or "scenario"
