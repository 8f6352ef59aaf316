"""The once-a-week gathers agree with a fresh look at the arrays.

`state.Accounts` holds what the stages read of the in-market customers (segment, rep slot,
volume, valuation from `state.Traits`, and dealer), gathered at the start of the week; at
the decisions it must still equal what the arrays say, to the bit, week after week, with
every mechanism on (dealers leaving and being replaced, reps quitting, telesales,
insurance, deal registration, data-driven quotas). `close_window` relies on every buying
window ending `decision_weeks - 1` weeks after it opens.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from channelsim.model import decisions
from channelsim.model.channel_model import ChannelModel
from channelsim.model.state import NEVER, flag_of
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


def test_the_accounts_gathered_at_the_start_of_the_week_hold_at_the_decisions(monkeypatch):
    scenario = load_scenario(
        ROOT / "scenarios" / "parallel.yaml",
        [*EVERY_MECHANISM, "dealers.exit.patience_weeks=2", "dealers.fixed_cost=400"],
    )
    decide = decisions.decide
    checked = []

    def checking(world, deciding, *args):
        st, pop, idx = world.state, world.population, deciding.idx
        np.testing.assert_array_equal(deciding.segment, pop.segment[idx])
        np.testing.assert_array_equal(deciding.rep_slot, st.rep_slot[idx])
        np.testing.assert_array_equal(deciding.dealer, st.dealer[idx])
        assert deciding.volume.tobytes() == pop.volume[idx].tobytes()  # to the bit
        assert deciding.value.tobytes() == pop.value[idx].tobytes()
        assert deciding.segment.dtype == pop.segment.dtype
        assert deciding.rep_slot.dtype == st.rep_slot.dtype
        checked.append(deciding.size)
        decide(world, deciding, *args)

    monkeypatch.setattr(decisions, "decide", checking)
    model = ChannelModel(scenario, seed=4)
    model.run()
    assert model.dealers_exited > 0 and model.rep_quits > 0  # dealers changed under customers
    assert sum(checked) > model.population.size


def test_traits_and_buying_windows_keep_their_invariants_through_a_run():
    scenario = load_scenario(ROOT / "scenarios" / "parallel.yaml", EVERY_MECHANISM)
    for seed in (1, 2):
        model = ChannelModel(scenario, seed=seed)
        start = model.population.due.copy()
        model.run()
        pop, st = model.population, model.state
        columns = [pop.segment, st.rep_slot, pop.volume, pop.value]
        assert model.traits.rows.tobytes() == np.column_stack(columns).astype(float).tobytes()
        dw = model.segments.decision_weeks[pop.segment]
        np.testing.assert_array_equal(pop.window_end, pop.due + dw - 1)
        assert (pop.due > start).all()  # every window closed at least once


def test_a_flag_looked_up_by_dealer_or_slot_is_false_where_there_is_none():
    rng = np.random.default_rng(5)
    table = rng.random(7) < 0.5
    key = rng.integers(-1, 7, 500)
    masked = key >= 0
    masked[masked] &= table[key[masked]]
    np.testing.assert_array_equal(flag_of(table, key), masked)
    assert not flag_of(np.zeros(0, bool), np.full(3, -1)).any()


def test_weeks_of_first_contact_are_recorded_only_where_deal_registration_reads_them():
    path = ROOT / "scenarios" / "parallel.yaml"
    for rule, recorded in (("deal_registration", True), ("open", False)):
        scenario = load_scenario(
            path, ["weeks=8", "warmup_weeks=0", f"engagement.large_accounts={rule}"]
        )
        model = ChannelModel(scenario, seed=1)
        for _ in range(8):
            model.step()
        st = model.state
        assert (st.rep_first < NEVER).any() == recorded
        assert (st.dealer_first < NEVER).any() == recorded
