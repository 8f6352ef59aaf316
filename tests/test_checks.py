"""Warnings about set-ups that are valid but almost certainly not meant: each check fires on
its case and stays quiet on the bundled scenarios; every command that loads a scenario
prints them on stderr, one line each, and `--strict` turns them into exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from conftest import SCENARIOS, SMALL

from channelsim.cli import main
from channelsim.experiments.checks import warnings
from channelsim.scenario.loading import deep_merge, load_scenario, validate


def scenario(**changes):
    return validate(deep_merge(SMALL, changes))


def test_the_small_scenario_and_the_bundled_strategies_have_no_warnings() -> None:
    assert warnings(scenario()) == []
    for name in ("base", "direct", "intermediary", "parallel", "s_company_before"):
        assert warnings(load_scenario(SCENARIOS / f"{name}.yaml")) == [], name


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"pricing": {"unit_cost": 100}},
            "pricing.unit_cost (100) is at or above pricing.list_price",
        ),
        ({"pricing": {"unit_cost": 80}}, "is at or above pricing.wholesale_price (70)"),
        (
            {"pricing": {"wholesale_price": 120}},
            "pricing.wholesale_price (120) is above pricing.list",
        ),
        (
            {
                "market": {
                    "segments": [
                        {"name": "poor", "customers": 10, "valuation": {"low": 1, "high": 2}}
                    ]
                }
            },
            "market.segments.poor.valuation: the segment values a unit at most 2",
        ),
        ({"reps": {"headcount": 0}}, "reps.headcount is 0: reps reach no one"),
        ({"reps": {"capacity": 0}}, "reps.capacity is 0 visits a week"),
        ({"dealers": {"per_region": 0}}, "no dealers in any region: dealers reach no one"),
        ({"telesales": {"enabled": True, "agents": 0}}, "telesales is enabled but makes no calls"),
    ],
)
def test_each_check_names_the_setting_and_says_what_is_wrong(changes, expected) -> None:
    found = warnings(scenario(**changes))
    assert any(expected in text for text in found), found


def test_a_segment_no_channel_reaches_is_named() -> None:
    sc = scenario(strategy="direct", reps={"headcount": 0})
    found = warnings(sc)
    assert any(t.startswith("market.segments.large: no channel reaches") for t in found)
    assert any(t.startswith("market.segments.small: no channel reaches") for t in found)


def test_large_accounts_left_to_absent_dealers_are_unreached_in_that_region_only() -> None:
    sc = scenario(
        dealers={"per_region": {"North": 2, "South": 0}},
        reps={"headcount": 0},
        strategy="intermediary",
    )
    found = [t for t in warnings(sc) if "no channel reaches" in t]
    assert found and all("in South" in t for t in found)


def test_a_price_a_policy_moves_is_not_judged_by_its_starting_value() -> None:
    sc = scenario(
        pricing={
            "unit_cost": 100,
            "wholesale_price": 120,
            "policy": {"list_price": "adaptive", "wholesale": "adaptive"},
        }
    )
    assert not [t for t in warnings(sc) if t.startswith("pricing.")]


@pytest.fixture
def below_cost(tmp_path: Path) -> Path:
    path = tmp_path / "below_cost.yaml"
    path.write_text(yaml.safe_dump(deep_merge(SMALL, {"pricing": {"unit_cost": 100}})))
    return path


def test_validate_warns_on_stderr_one_line_each_and_still_exits_0(below_cost: Path) -> None:
    result = CliRunner().invoke(main, ["validate", str(below_cost)])
    assert result.exit_code == 0
    lines = result.stderr.splitlines()
    assert len(lines) == 2 and all(line.startswith(f"Warning: {below_cost}: ") for line in lines)
    assert "valid" in result.stdout and "Warning" not in result.stdout


def test_validate_strict_turns_warnings_into_exit_2(below_cost: Path) -> None:
    result = CliRunner().invoke(main, ["validate", str(below_cost), "--strict"])
    assert result.exit_code == 2
    assert "2 warning(s) with --strict" in result.stderr


@pytest.mark.parametrize("command", ["run", "compare", "sweep", "optimize", "calibrate", "explore"])
def test_every_command_that_loads_a_scenario_warns_and_knows_strict(
    below_cost: Path, tmp_path: Path, command: str
) -> None:
    args = {
        "run": ["run", str(below_cost)],
        "compare": ["compare", str(below_cost), str(SCENARIOS / "direct.yaml")],
        "sweep": ["sweep", str(below_cost), "--param", "reps.capacity=10,12"],
        "optimize": [
            "optimize",
            str(below_cost),
            "--param",
            "pricing.list_price=90:110",
            "--objective",
            "company_profit:max",
        ],
        "calibrate": [
            "calibrate",
            str(below_cost),
            "--observed",
            str(SCENARIOS / "example_crm" / "observed.yaml"),
            "--param",
            "dealers.reach=0.1:0.5",
        ],
        "explore": [
            "explore",
            str(below_cost),
            str(SCENARIOS / "direct.yaml"),
            "--uncertain",
            "dealers.reach=0.1:0.5",
        ],
    }[command]
    result = CliRunner().invoke(main, [*args, "--strict", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2, result.output
    assert f"Warning: {below_cost}: pricing.unit_cost" in result.stderr
    assert not (tmp_path / "o" / "manifest.json").exists()
