"""Direction-of-effect checks: each lever moves its KPI the way theory (or our investigation,
docs/comparative-statics.md) says, over 8 paired seeds, with the whole 95% CI on that side."""

from __future__ import annotations

import pytest

from channelsim.experiments import statics
from channelsim.experiments.validation import FOLDER
from channelsim.scenario.loading import load_scenario

pytestmark = pytest.mark.validation


@pytest.fixture(scope="module")
def effects() -> dict[str, statics.Effect]:
    base = load_scenario(FOLDER / "statics.yaml")
    measured = statics.measure(base, statics.LEVERS, replicates=8)
    return {f"{e.lever.name}: {e.lever.kpi}": e for e in measured}


@pytest.mark.parametrize(
    "lever", statics.LEVERS, ids=[f"{lv.name}: {lv.kpi}" for lv in statics.LEVERS]
)
def test_lever_moves_its_kpi_in_the_established_direction(effects, lever):
    effect = effects[f"{lever.name}: {lever.kpi}"]
    assert effect.n == 8
    assert effect.direction == lever.sign, (
        f"{lever.name}: {lever.kpi} changed by {effect.mean:+.4g} "
        f"[{effect.ci_low:+.4g}, {effect.ci_high:+.4g}]; expected sign {lever.sign}"
    )


def test_most_levers_agree_with_the_literature_and_every_disagreement_is_explained(effects):
    disagreeing = [e for e in effects.values() if not e.agrees]
    assert all(e.lever.finding is not None for e in disagreeing)
    assert len(disagreeing) < len(effects) / 3


def test_engagement_rules_effect_on_profit_flips_when_reps_undercut_dealers_who_leave(effects):
    # Same lever, two markets: the sign of the company-profit effect depends on whether
    # open conflicts cost the company its dealers (see docs/comparative-statics.md).
    by_name = {e.lever.name: e for e in effects.values() if e.lever.kpi == "company_profit"}
    plain = by_name["engagement open -> rep assists dealer"]
    touchy = by_name["engagement open -> rep assists dealer, reps undercut dealers who then leave"]
    assert plain.direction == -1 and touchy.direction == +1
