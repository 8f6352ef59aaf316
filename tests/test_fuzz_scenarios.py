"""Fuzzing the scenario loader: whatever a file or a --set argument holds, the outcome is a
valid Scenario or a ScenarioError with a one-line message, never any other exception.

Inputs: random text, random nested YAML structures, random edits of the characters of the
bundled scenarios/base.yaml, structural mutations of it (deleted keys and items, wrong types,
random values, misspelt keys, duplicated items), and random --set arguments. Set
CHANNELSIM_FUZZ_EXAMPLES (default 200 per test) for a deeper search.
"""

from __future__ import annotations

import copy
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from conftest import SCENARIOS, SMALL
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from channelsim.cli import main
from channelsim.scenario.loading import ScenarioError, load_scenario
from channelsim.scenario.schema import Scenario

BASE_TEXT = (SCENARIOS / "base.yaml").read_text()
BASE = yaml.safe_load(BASE_TEXT)
EXAMPLES = int(os.environ.get("CHANNELSIM_FUZZ_EXAMPLES", "200"))  # more for a deeper search
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

characters = st.characters(exclude_categories=("Cs",))
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(characters, max_size=12),
    st.sampled_from(["parallel", "direct", "open", "rep_only", "North", "1e3", "yes", "~"]),
)
structures = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(characters, max_size=10), children, max_size=4)
    ),
    max_leaves=25,
)


@pytest.fixture(scope="module")
def folder() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as name:
        (Path(name) / "base.yaml").write_text(BASE_TEXT)
        yield Path(name)


def outcome(path: Path, overrides: list[str] | tuple[str, ...] = ()) -> Scenario | ScenarioError:
    """Load; a ScenarioError is an accepted outcome, anything else fails the test."""
    try:
        scenario = load_scenario(path, overrides)
    except ScenarioError as exc:
        message = str(exc)
        assert message and "\n" not in message
        event("clean error")
        return exc
    assert isinstance(scenario, Scenario)
    event("valid scenario")
    return scenario


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every key or item position in a nested document."""
    items = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else ()
    )
    for key, child in items:
        yield (*prefix, key)
        yield from _paths(child, (*prefix, key))


def _parent(doc: Any, path: tuple[Any, ...]) -> Any:
    for key in path[:-1]:
        doc = doc[key]
    return doc


@st.composite
def mutated_base(draw: st.DrawFn) -> dict[str, Any]:
    """base.yaml with one to four structural mutations."""
    doc = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(1, 4))):
        paths = list(_paths(doc))
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent, key = _parent(doc, path), path[-1]
        action = draw(st.sampled_from(["delete", "value", "rename", "duplicate", "nest"]))
        if action == "delete":
            del parent[key]
        elif action == "value":
            parent[key] = draw(structures)
        elif action == "rename" and isinstance(parent, dict):
            new = draw(st.text(characters, min_size=1, max_size=12) | st.just(f"{key}x"))
            parent[new] = parent.pop(key)
        elif action == "duplicate" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[key]))
        else:
            parent[key] = {"value": parent[key]}
    return doc


@st.composite
def char_edits(draw: st.DrawFn) -> str:
    """base.yaml with a few characters inserted, deleted or replaced."""
    text = BASE_TEXT
    for _ in range(draw(st.integers(1, 5))):
        at = draw(st.integers(0, len(text) - 1))
        kind = draw(st.sampled_from(["insert", "delete", "replace"]))
        piece = draw(
            st.sampled_from([":", "-", " ", "\n", "[", "{", "&a", "*a", "!!", "'", "#"])
            | st.text(characters, max_size=3)
        )
        if kind == "insert":
            text = text[:at] + piece + text[at:]
        elif kind == "delete":
            text = text[:at] + text[at + 1 :]
        else:
            text = text[:at] + piece + text[at + 1 :]
    return text


def _dotted(path: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in path)


VALID_PATHS = sorted(
    {_dotted(p) for p in _paths(BASE)} | {"online.enabled", "market.segments.smes.volume"}
)
set_paths = st.one_of(
    st.sampled_from(VALID_PATHS),
    st.sampled_from(VALID_PATHS).map(lambda p: p[:-1]),
    st.sampled_from(VALID_PATHS).map(lambda p: p + ".x"),
    st.text(characters, max_size=20),
)
set_values = st.one_of(
    st.text(characters, max_size=20),
    scalars.map(
        lambda v: yaml.safe_dump(v, default_flow_style=True).removesuffix("\n...\n").strip()
    ),
    structures.map(lambda v: yaml.safe_dump(v, default_flow_style=True).strip()),
)
set_arguments = st.one_of(
    st.tuples(set_paths, set_values).map(lambda pv: f"{pv[0]}={pv[1]}"),
    st.text(characters, max_size=20),
)


@FUZZ
@given(text=st.text(characters, max_size=300))
def test_random_text(folder: Path, text: str) -> None:
    path = folder / "fuzz.yaml"
    path.write_text(text, encoding="utf-8")
    outcome(path)


@FUZZ
@given(doc=structures)
def test_random_structures(folder: Path, doc: Any) -> None:
    path = folder / "fuzz.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    outcome(path)


@FUZZ
@given(text=char_edits())
def test_character_edits_of_base(folder: Path, text: str) -> None:
    path = folder / "fuzz.yaml"
    path.write_text(text, encoding="utf-8")
    outcome(path)


@FUZZ
@given(doc=mutated_base(), extends=st.booleans())
def test_structural_mutations_of_base(folder: Path, doc: dict[str, Any], extends: bool) -> None:
    """Also through `extends:`, so that merged documents and their line maps are fuzzed."""
    if extends:
        doc = {"extends": "base.yaml", **{k: v for k, v in doc.items() if v != BASE.get(k)}}
    path = folder / "fuzz.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    outcome(path)


@FUZZ
@given(overrides=st.lists(set_arguments, min_size=1, max_size=3))
def test_random_set_arguments(folder: Path, overrides: list[str]) -> None:
    outcome(folder / "base.yaml", overrides)


def test_a_mutated_base_can_be_valid_and_a_bad_set_is_an_error(folder: Path) -> None:
    """Sanity check of the two outcomes the fuzz tests accept."""
    path = folder / "fuzz.yaml"
    doc = copy.deepcopy(BASE)
    doc["reps"]["capacity"] = 3
    path.write_text(yaml.safe_dump(doc))
    assert load_scenario(path).reps.capacity == 3
    with pytest.raises(ScenarioError):
        load_scenario(folder / "base.yaml", ["reps.capacity=-3"])


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(doc=mutated_base(), overrides=st.lists(set_arguments, max_size=2))
def test_validate_command_exits_0_or_2_without_traceback(
    folder: Path, doc: dict[str, Any], overrides: list[str]
) -> None:
    path = folder / "cli.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    args = ["validate", str(path), *[a for o in overrides for a in ("--set", o)]]
    result = CliRunner().invoke(main, args)
    assert result.exit_code in (0, 2), result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


small_mutations = st.fixed_dictionaries(
    {},
    optional={
        "strategy": st.sampled_from(["direct", "intermediary", "parallel", "online"]),
        "engagement": st.fixed_dictionaries(
            {
                "large_accounts": st.sampled_from(
                    [
                        "open",
                        "rep_only",
                        "dealer_only",
                        "rep_assists_dealer",
                        "deal_registration",
                        "x",
                    ]
                )
            }
        ),
        "reps": st.fixed_dictionaries(
            {},
            optional={
                "headcount": st.integers(-1, 8),
                "capacity": st.floats(-1, 30),
                "crm_capture": st.floats(-0.5, 1.5),
            },
        ),
        "dealers": st.fixed_dictionaries(
            {}, optional={"per_region": st.integers(-1, 3), "markup": st.floats(-0.5, 2)}
        ),
        "pricing": st.fixed_dictionaries(
            {}, optional={"price_floor": st.floats(0, 150), "list_price": st.floats(-10, 200)}
        ),
        "online": st.fixed_dictionaries({"enabled": st.booleans()}),
    },
)


@settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(changes=small_mutations)
def test_run_command_exits_0_or_2_without_traceback(
    tmp_path: Path, changes: dict[str, Any]
) -> None:
    """A few mutated small scenarios run end to end (4 weeks, 1 replicate)."""
    doc = copy.deepcopy(SMALL)
    for key, value in changes.items():
        doc[key] = {**doc[key], **value} if isinstance(value, dict) and key in doc else value
    with tempfile.TemporaryDirectory(dir=tmp_path) as name:
        path = Path(name) / "small.yaml"
        path.write_text(yaml.safe_dump(doc))
        out = Path(name) / "out"
        args = ["run", str(path), "-n", "1", "--weeks", "4", "--quiet", "--out", str(out)]
        result = CliRunner().invoke(main, args)
        assert result.exit_code in (0, 2), result.output
        assert "Traceback" not in result.output
        if result.exit_code == 0:
            assert (out / "manifest.json").is_file() and not (out / "INCOMPLETE").exists()
        else:
            assert not (out / "manifest.json").exists()
