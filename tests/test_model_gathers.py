"""The once-a-week gathers agree with a fresh look at the arrays.

`state.Accounts` holds what the stages read of the in-market customers (segment, rep slot,
dealer), gathered at the start of the week; at the decisions it must still equal what the
arrays say, week after week, with every mechanism on (dealers leaving and being replaced,
reps quitting, telesales, insurance, deal registration, data-driven quotas).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from channelsim.model import decisions
from channelsim.model.channel_model import ChannelModel
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
