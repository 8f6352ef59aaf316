"""The telesales stage: a call team works through past customers recorded in the CRM."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from channelsim.model.state import World, declined


def call(world: World, in_market: NDArray, w: dict) -> None:
    """Call in-market CRM customers who bought before, those whose window closes first first.

    Only customers no rep has made ready are called; the team's cost is paid every week.
    """
    tele = world.scenario.telesales
    if not tele.enabled:
        return
    st, pop = world.state, world.population
    calls = tele.agents * tele.calls_per_agent
    w["telesales_cost"] += tele.agents * tele.cost_per_agent_week
    ok = st.crm[in_market] & pop.bought_before[in_market] & ~st.tele_reached[in_market]
    ok &= ~st.rep_ready[in_market] & ~declined(world, in_market)
    cand = in_market[ok]
    if cand.size == 0 or calls == 0:
        return
    if cand.size > calls:
        jitter = world.streams.sales.random(cand.size)
        order = np.lexsort((jitter, pop.window_end[cand]))
        cand = cand[order[:calls]]
    st.tele_reached[cand] = True
    st.contacted[cand] = True
