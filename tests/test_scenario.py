"""Scenario files: `extends:` deep merge, --set by index and by name, validation of overrides,
line numbers in messages, and the bundled scenarios."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pydantic
import pytest
import yaml
from conftest import SCENARIOS, SMALL
from hypothesis import given
from hypothesis import strategies as st

from channelsim.scenario.loading import (
    ScenarioError,
    deep_merge,
    load_scenario,
    parse_override,
    scenario_with,
    set_path,
)
from channelsim.scenario.schema import Scenario


def write(folder: Path, name: str, data: dict[str, Any] | str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    text = data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False)
    path.write_text(text)
    return path


# --- deep merge and extends ---------------------------------------------------------------------

keys = st.sampled_from(["a", "b", "c", "d"])
trees = st.recursive(
    st.integers() | st.lists(st.integers(), max_size=2),
    lambda inner: st.dictionaries(keys, inner, max_size=3),
    max_leaves=10,
)
docs = st.dictionaries(keys, trees, max_size=4)


@given(base=docs, update=docs)
def test_deep_merge_keeps_every_key_and_the_update_wins_on_leaves(
    base: dict[str, Any], update: dict[str, Any]
) -> None:
    before = yaml.safe_dump(base)
    merged = deep_merge(base, update)
    assert set(merged) == set(base) | set(update)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            assert merged[key] == deep_merge(base[key], value)
        else:
            assert merged[key] == value
    for key in set(base) - set(update):
        assert merged[key] == base[key]
    assert yaml.safe_dump(base) == before


def test_deep_merge_replaces_lists_whole() -> None:
    merged = deep_merge({"x": [1, 2, 3], "y": {"p": 1, "q": 2}}, {"x": [9], "y": {"q": 5}})
    assert merged == {"x": [9], "y": {"p": 1, "q": 5}}


def test_extends_merges_nested_settings_and_inherits_the_rest(tmp_path: Path) -> None:
    write(tmp_path, "base.yaml", SMALL)
    child = write(
        tmp_path, "child.yaml", "extends: base.yaml\nreps:\n  capacity: 3\nstrategy: direct\n"
    )
    scenario = load_scenario(child)
    assert scenario.reps.capacity == 3
    assert scenario.reps.headcount == SMALL["reps"]["headcount"]
    assert scenario.strategy == "direct"
    assert scenario.market == load_scenario(tmp_path / "base.yaml").market


def test_extends_chains_and_is_relative_to_the_extending_file(tmp_path: Path) -> None:
    write(tmp_path, "root/base.yaml", SMALL)
    write(tmp_path, "root/mid/middle.yaml", "extends: ../base.yaml\nweeks: 30\nseed: 3\n")
    leaf = write(tmp_path, "leaf.yaml", "extends: root/mid/middle.yaml\nseed: 4\n")
    scenario = load_scenario(leaf)
    assert (scenario.weeks, scenario.seed) == (30, 4)


def test_the_name_defaults_to_the_file_name(tmp_path: Path) -> None:
    data = {k: v for k, v in SMALL.items() if k != "name"}
    assert load_scenario(write(tmp_path, "my_plan.yaml", data)).name == "my_plan"


def test_scenarios_are_frozen(make_scenario: Any) -> None:
    scenario = make_scenario()
    with pytest.raises(pydantic.ValidationError):
        scenario.weeks = 3


# --- --set ---------------------------------------------------------------------------------------


@pytest.fixture
def small_file(tmp_path: Path) -> Path:
    return write(tmp_path, "small.yaml", SMALL)


def test_set_addresses_list_items_by_index_or_by_name(small_file: Path) -> None:
    by_name = load_scenario(small_file, ["market.segments.small.volume=3"])
    by_index = load_scenario(small_file, ["market.segments.1.volume=3"])
    assert by_name == by_index
    assert by_name.market.segments[1].volume == 3
    assert by_name.market.segments[0] == load_scenario(small_file).market.segments[0]


def test_set_values_are_read_as_yaml(small_file: Path) -> None:
    scenario = load_scenario(
        small_file,
        [
            "online.enabled=true",
            "reps.headcount=9",
            "reps.commission.tiers=[[1.0, 1.5], [1.2, 2]]",
            "description=a=b",
        ],
    )
    assert scenario.online.enabled is True
    assert scenario.reps.headcount == 9
    assert scenario.reps.commission.tiers == [(1.0, 1.5), (1.2, 2.0)]
    assert scenario.description == "a=b"


def test_set_can_add_settings_the_file_leaves_out_and_the_last_one_wins(small_file: Path) -> None:
    scenario = load_scenario(small_file, ["telesales.agents=5", "telesales.agents=7"])
    assert scenario.telesales.agents == 7


def test_set_overrides_are_validated_like_the_file(small_file: Path) -> None:
    with pytest.raises(ScenarioError, match=r"\(--set reps\.capacity\): reps\.capacity: .*>= 0"):
        load_scenario(small_file, ["reps.capacity=-1"])
    with pytest.raises(ScenarioError, match=r"--set reps\.capasity: .*did you mean reps\.capacity"):
        load_scenario(small_file, ["reps.capasity=1"])


def test_parse_override_splits_at_the_first_equals_sign() -> None:
    assert parse_override("a.b=c=d") == ("a.b", "c=d")
    assert parse_override(" weeks = 12") == ("weeks", 12)
    assert parse_override("description=") == ("description", "")


def test_set_path_leaves_its_input_alone(small_raw: dict[str, Any]) -> None:
    before = yaml.safe_dump(small_raw)
    changed = set_path(small_raw, "market.segments.large.volume", 99, source="--set")
    assert changed["market"]["segments"][0]["volume"] == 99
    assert yaml.safe_dump(small_raw) == before


def test_scenario_with_applies_and_validates_settings(make_scenario: Any) -> None:
    scenario = make_scenario()
    changed = scenario_with(scenario, {"reps.capacity": 30, "market.segments.small.volume": 2})
    assert changed.reps.capacity == 30 and changed.market.segments[1].volume == 2
    assert scenario.reps.capacity == SMALL["reps"]["capacity"]
    with pytest.raises(ScenarioError, match=r"\(parameter reps\.capacity\)"):
        scenario_with(scenario, {"reps.capacity": -1})


# --- messages name the line ----------------------------------------------------------------------


def test_messages_name_the_file_and_the_line_of_the_key(tmp_path: Path) -> None:
    text = yaml.safe_dump(SMALL, sort_keys=False).replace("markup: 0.25", "markup: -0.25")
    path = write(tmp_path, "s.yaml", text)
    line = text.splitlines().index("  markup: -0.25") + 1
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert str(caught.value) == (
        f"{path}, line {line}: dealers.markup: expected a number >= 0, found -0.25"
    )


# --- the bundled scenarios -----------------------------------------------------------------------

BUNDLED = sorted(
    [
        *SCENARIOS.glob("*.yaml"),
        *SCENARIOS.glob("validation/*.yaml"),
        *SCENARIOS.glob("s_company_parts/*.yaml"),
    ]
)


@pytest.mark.parametrize(
    "path", BUNDLED, ids=[p.relative_to(SCENARIOS).as_posix() for p in BUNDLED]
)
def test_every_bundled_scenario_validates(path: Path) -> None:
    assert isinstance(load_scenario(path), Scenario)


CHANNEL_SETUP = {
    "name",
    "description",
    "strategy",
    "flattened",
    "reps",
    "dealers",
    "general_agents",
    "engagement",
    "online",
    "telesales",
}


def _differences(a: Any, b: Any, prefix: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        return [
            d
            for key in sorted(set(a) | set(b))
            for d in _differences(a.get(key), b.get(key), f"{prefix}{key}.")
        ]
    return [] if a == b else [prefix.rstrip(".")]


@pytest.mark.parametrize("strategy", ["direct", "intermediary", "parallel"])
def test_strategy_files_differ_from_base_only_in_the_channel_set_up(strategy: str) -> None:
    base = load_scenario(SCENARIOS / "base.yaml").model_dump()
    other = load_scenario(SCENARIOS / f"{strategy}.yaml").model_dump()
    changed = _differences(base, other)
    assert {path.split(".")[0] for path in changed} <= CHANNEL_SETUP, changed
    assert other["strategy"] == strategy


def test_customer_counts_come_from_each_segments_setting(make_scenario) -> None:
    sc = make_scenario().with_overrides({"market.segments.small.customers": {"North": 5}})
    assert sc.market.customer_counts() == {
        ("North", "large"): 60,  # one number: every region
        ("South", "large"): 60,
        ("North", "small"): 5,  # a map: the regions it names, 0 elsewhere
        ("South", "small"): 0,
    }
