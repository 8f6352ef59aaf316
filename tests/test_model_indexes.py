"""The engine's indexes and once-a-week gathers agree with a fresh look at the arrays.

`state.DueIndex` stands in for scanning every customer's due week, and `state.Accounts`
holds what the stages read of the in-market customers (segment, rep slot, dealer),
gathered at the start of the week; both must equal what the arrays say, week after week,
with every mechanism on (dealers leaving and being replaced, reps quitting, telesales,
insurance, deal registration, data-driven quotas).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from channelsim.model import decisions
from channelsim.model.channel_model import ChannelModel
from channelsim.model.market import Population
from channelsim.model.state import DueIndex
from channelsim.scenario.loading import load_scenario

ROOT = Path(__file__).resolve().parents[1]
EVERY_MECHANISM = [
    "online.enabled=true",
    "telesales.enabled=true",
    "insurance.enabled=true",
    "reps.role=mixed",
    "reps.channel_manager_share=0.3",
    "engagement.large_accounts=deal_registration",
    "dealers.exit.replace=true",
    "reps.quota.method=data_driven",
    "weeks=60",
    "warmup_weeks=20",
]
SCENARIOS = {
    "parallel, every mechanism": ("parallel.yaml", EVERY_MECHANISM),
    "from CRM tables": ("example_crm/scenario.yaml", ["weeks=60"]),
    "s_company_after": ("s_company_after.yaml", ["weeks=40", "warmup_weeks=10"]),
}


@pytest.mark.parametrize("name", SCENARIOS)
def test_the_due_index_equals_a_scan_of_every_due_week_every_week(name):
    path, overrides = SCENARIOS[name]
    scenario = load_scenario(ROOT / "scenarios" / path, overrides)
    for seed in (1, 2, 3):
        model = ChannelModel(scenario, seed=seed)
        closes = 0
        for _ in range(scenario.warmup() + scenario.weeks):
            week = model.steps  # the week the next step runs
            scan = np.flatnonzero(model.population.due <= week)
            np.testing.assert_array_equal(model.due_index.at(week), scan)
            before = model.population.due.copy()
            model.step()
            closes += int((model.population.due != before).sum())
        assert closes > model.population.size  # every customer's due week moved, most often


def test_the_due_index_files_customers_that_leave_the_market_under_their_new_due_week():
    due = np.array([0, 3, 1, 5, 1, -2], np.int32)
    population = Population(
        region=np.zeros(6, np.int16),
        segment=np.zeros(6, np.int16),
        volume=np.ones(6),
        value=np.ones(6),
        risk=np.ones(6),
        due=due,
        window_end=due.copy(),
        incumbent=np.full(6, -1, np.int8),
        bought_before=np.zeros(6, bool),
    )
    index = DueIndex(population)
    assert index.at(0).tolist() == [0, 5]
    due[0] = 2  # customer 0's window closed in week 0: next due in week 2
    assert index.at(1).tolist() == [2, 4, 5]
    assert index.at(3).tolist() == [0, 1, 2, 4, 5]  # week 2 skipped: still filed in
    due[[2, 4]] = 4
    assert index.at(4).tolist() == [0, 1, 2, 4, 5]
    due[[0, 1]] = 9
    assert index.at(5).tolist() == [2, 3, 4, 5]
    assert index.at(9).tolist() == [0, 1, 2, 3, 4, 5]
    assert index.at(1).tolist() == [5]  # an earlier week starts afresh


def test_the_accounts_gathered_at_the_start_of_the_week_hold_at_the_decisions(monkeypatch):
    scenario = load_scenario(
        ROOT / "scenarios" / "parallel.yaml",
        [*EVERY_MECHANISM, "dealers.exit.patience_weeks=2", "dealers.fixed_cost=400"],
    )
    decide = decisions.decide
    checked = []

    def checking(world, deciding, *args):
        st = world.state
        np.testing.assert_array_equal(deciding.segment, world.population.segment[deciding.idx])
        np.testing.assert_array_equal(deciding.rep_slot, st.rep_slot[deciding.idx])
        np.testing.assert_array_equal(deciding.dealer, st.dealer[deciding.idx])
        checked.append(deciding.size)
        decide(world, deciding, *args)

    monkeypatch.setattr(decisions, "decide", checking)
    model = ChannelModel(scenario, seed=4)
    model.run()
    assert model.dealers_exited > 0 and model.rep_quits > 0  # dealers changed under customers
    assert sum(checked) > model.population.size
