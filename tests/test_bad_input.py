"""Bad input gets one clear message: the file, the key path, the line, what was found and what
was expected, and a suggestion for a typo. Every command exits with code 2 and no traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from conftest import SMALL

from channelsim.cli import main
from channelsim.scenario.loading import ScenarioError, deep_merge, load_scenario

# --- the scenario schema -----------------------------------------------------------------
# (id, settings merged into the small scenario, dotted key path in the message, fragments)

SEG0 = "market.segments.0"
SCHEMA_CASES: list[tuple[str, dict[str, Any], str, list[str]]] = [
    # types
    ("weeks as text", {"weeks": "ten"}, "weeks", ["expected a whole number", "found 'ten'"]),
    ("headcount fraction", {"reps": {"headcount": 2.5}}, "reps.headcount", ["whole number"]),
    ("flag as text", {"online": {"enabled": "maybe"}}, "online.enabled", ["true or false"]),
    ("name as list", {"name": [1]}, "name", ["expected text", "found a list"]),
    ("pricing as list", {"pricing": [1, 2]}, "pricing", ["expected a mapping", "found a list"]),
    ("empty section", {"reps": None}, "reps", ["expected a mapping", "found nothing"]),
    (
        "tiers malformed",
        {"reps": {"commission": {"tiers": [[1.0, "x"]]}}},
        "reps.commission.tiers.0.1",
        ["number"],
    ),
    (
        "customers neither count nor map",
        {"market": {"segments": [{"name": "a", "customers": "many"}]}},
        f"{SEG0}.customers",
        ["expected a whole number or a mapping", "found 'many'"],
    ),
    # ranges
    ("negative headcount", {"reps": {"headcount": -1}}, "reps.headcount", [">= 0", "found -1"]),
    (
        "negative customers",
        {"market": {"segments": [{"name": "a", "customers": -5}]}},
        f"{SEG0}.customers",
        [">= 0", "-5"],
    ),
    (
        "negative count in a region map",
        {"market": {"segments": [{"name": "a", "customers": {"North": -1}}]}},
        f"{SEG0}.customers.North",
        [">= 0", "found -1"],
    ),
    ("probability > 1", {"dealers": {"service_quality": 1.5}}, "dealers.service_quality", ["<= 1"]),
    ("probability < 0", {"reps": {"crm_capture": -0.1}}, "reps.crm_capture", [">= 0"]),
    ("zero list price", {"pricing": {"list_price": 0}}, "pricing.list_price", ["> 0"]),
    ("zero weeks", {"weeks": 0}, "weeks", [">= 1", "found 0"]),
    (
        "negative logit scale",
        {"market": {"choice": {"scale": -1}}},
        "market.choice.scale",
        [">= 0"],
    ),
    ("full discount", {"pricing": {"rep_max_discount": 1.0}}, "pricing.rep_max_discount", ["< 1"]),
    ("negative GA markup", {"general_agents": {"markup": -0.1}}, "general_agents.markup", [">= 0"]),
    ("negative dealer markup", {"dealers": {"markup": -2}}, "dealers.markup", [">= 0"]),
    (
        "negative wholesale",
        {"pricing": {"wholesale_price": -1}},
        "pricing.wholesale_price",
        [">=0"],
    ),
    ("negative unit cost", {"pricing": {"unit_cost": -1}}, "pricing.unit_cost", [">= 0"]),
    ("negative floor", {"pricing": {"price_floor": -5}}, "pricing.price_floor", [">= 0"]),
    ("infinite price", {"pricing": {"list_price": float("inf")}}, "pricing.list_price", ["finite"]),
    ("nan volume", {"reps": {"capacity": float("nan")}}, "reps.capacity", ["finite"]),
    (
        "too many customers to simulate",
        {"market": {"segments": [{"name": "a", "customers": 20_000_000}]}},
        "market.segments",
        ["40,000,000 customers", "at most 10,000,000"],
    ),
    # enumerations, with the nearest valid value
    ("strategy typo", {"strategy": "paralel"}, "strategy", ["one of", "did you mean 'parallel'"]),
    (
        "engagement typo",
        {"engagement": {"large_accounts": "reps_only"}},
        "engagement.large_accounts",
        ["did you mean 'rep_only'"],
    ),
    (
        "unknown commission basis",
        {"reps": {"commission": {"basis": "profit"}}},
        "reps.commission.basis",
        ["'revenue'", "'gross_margin'", "found 'profit'"],
    ),
    # cross-field rules
    ("floor above list", {"pricing": {"price_floor": 150}}, "pricing.price_floor", ["list_price"]),
    (
        "discount above authority",
        {"pricing": {"rep_discount": 0.3}},
        "pricing.rep_discount",
        ["rep_max_discount"],
    ),
    (
        "valuation upside down",
        {
            "market": {
                "segments": [{"name": "a", "customers": 1, "valuation": {"low": 9, "high": 1}}]
            }
        },
        f"{SEG0}.valuation.high",
        [">= low"],
    ),
    (
        "region with dealers and no general agent",
        {"general_agents": {"agents": [{"name": "GA", "regions": ["North"]}]}},
        "general_agents.agents",
        ["['South']", "no general agent", "flattened"],
    ),
    (
        "general agent in an unknown region",
        {"general_agents": {"agents": [{"name": "GA", "regions": ["North", "South", "Mars"]}]}},
        "general_agents.agents.0.regions",
        ["'Mars'", "expected one of ['North', 'South']"],
    ),
    (
        "two general agents for one region",
        {
            "general_agents": {
                "agents": [
                    {"name": "A", "regions": ["North", "South"]},
                    {"name": "B", "regions": ["South"]},
                ]
            }
        },
        "general_agents.agents.1.regions",
        ["'South'", "both 'A' and 'B'"],
    ),
    (
        "duplicate region names",
        {"market": {"regions": [{"name": "North"}, {"name": "North"}]}},
        "market.regions.1.name",
        ["'North' appears twice"],
    ),
    (
        "duplicate segment names",
        {"market": {"segments": [{"name": "a", "customers": 1}, {"name": "a", "customers": 2}]}},
        "market.segments.1.name",
        ["'a' appears twice"],
    ),
    (
        "duplicate general agent names",
        {
            "general_agents": {
                "agents": [
                    {"name": "GA", "regions": ["North"]},
                    {"name": "GA", "regions": ["South"]},
                ]
            }
        },
        "general_agents.agents.1.name",
        ["'GA' appears twice"],
    ),
    (
        "customers map names an unknown region",
        {"market": {"segments": [{"name": "a", "customers": {"North": 5, "Mars": 3}}]}},
        f"{SEG0}.customers",
        ["['Mars']", "expected one of ['North', 'South']"],
    ),
    (
        "dealers in an unknown region",
        {"dealers": {"per_region": {"North": 1, "Mars": 2}}},
        "dealers.per_region",
        ["['Mars']"],
    ),
    (
        "channel managers without dealers",
        {"strategy": "direct", "reps": {"role": "channel_manager"}},
        "reps.role",
        ["needs dealers"],
    ),
    ("no regions", {"market": {"regions": []}}, "market.regions", ["at least 1 item", "found 0"]),
    # unknown keys at any depth, with the nearest valid key
    ("top-level typo", {"extend": "base.yaml"}, "extend", ["did you mean extends?"]),
    ("nested typo", {"reps": {"headcont": 3}}, "reps.headcont", ["did you mean reps.headcount?"]),
    (
        "typo in a list item",
        {"market": {"segments": [{"name": "a", "customers": 1, "valume": 3}]}},
        f"{SEG0}.valume",
        [f"did you mean {SEG0}.volume?"],
    ),
    (
        "deep typo",
        {"dealers": {"exit": {"patience": 3}}},
        "dealers.exit.patience",
        ["did you mean dealers.exit.patience_weeks?"],
    ),
    ("key far from any", {"reps": {"zzz": 1}}, "reps.zzz", ["unknown key", "expected one of"]),
]


def _merged(settings: dict[str, Any]) -> dict[str, Any]:
    raw = deep_merge(SMALL, settings)
    if "market" in settings and "segments" in settings["market"]:
        raw["market"]["segments"] = settings["market"]["segments"]
    return raw


@pytest.mark.parametrize(
    "settings, dotted, fragments", [c[1:] for c in SCHEMA_CASES], ids=[c[0] for c in SCHEMA_CASES]
)
def test_schema_errors_name_file_key_line_and_expectation(
    tmp_path: Path, settings: dict[str, Any], dotted: str, fragments: list[str]
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(_merged(settings), sort_keys=False))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    message = str(caught.value)
    assert message.startswith(f"{path}, line ")
    assert f": {dotted}: " in message or message.endswith(f": {dotted}")
    for fragment in fragments:
        assert fragment.replace(">=0", ">= 0") in message
    assert "\n" not in message


def test_the_line_is_the_line_of_the_offending_key(tmp_path: Path) -> None:
    text = yaml.safe_dump(deep_merge(SMALL, {"reps": {"capacity": -3}}), sort_keys=False)
    path = tmp_path / "s.yaml"
    path.write_text(text)
    capacity_line = next(
        i for i, line in enumerate(text.splitlines(), 1) if line.strip().startswith("capacity:")
    )
    with pytest.raises(ScenarioError, match=rf"s\.yaml, line {capacity_line}: reps\.capacity: "):
        load_scenario(path)


# --- YAML problems and extends ---------------------------------------------------------------

BASE = yaml.safe_dump(SMALL, sort_keys=False)
FILE_CASES: list[tuple[str, dict[str, str], str]] = [
    ("malformed", {"s.yaml": "name: x\nmarket: [1, 2\n"}, r"s\.yaml, line 3: malformed YAML"),
    ("top level list", {"s.yaml": "- a\n- b\n"}, r"s\.yaml: expected a mapping .* found a list"),
    ("top level text", {"s.yaml": "hello\n"}, r"s\.yaml: expected a mapping .* found 'hello'"),
    ("number as a key", {"s.yaml": "1: 2\n"}, r"s\.yaml: top-level keys must be names"),
    ("empty file", {"s.yaml": ""}, r"s\.yaml: market: required setting is missing"),
    (
        "duplicate key",
        {"s.yaml": "name: a\nweeks: 3\nname: b\n"},
        r"s\.yaml, line 3: name: key appears twice \(lines 1 and 3\)",
    ),
    (
        "duplicate nested key",
        {"s.yaml": "reps:\n  capacity: 3\n  capacity: 4\n"},
        r"s\.yaml, line 3: reps\.capacity: key appears twice",
    ),
    (
        "python object tag",
        {"s.yaml": 'name: !!python/object/apply:os.system ["echo hacked"]\n'},
        r"s\.yaml, line 1: the tag '!!python/object/apply:os\.system' is not allowed",
    ),
    (
        "impossible date",
        {"s.yaml": "weeks: 3\nname: 2020-13-45\n"},
        r"s\.yaml, line 2: name: '2020-13-45' reads as an impossible date",
    ),
    ("deep nesting", {"s.yaml": "a: " + "[" * 60 + "]" * 60 + "\n"}, r"s\.yaml.*nested"),
    (
        "alias bomb",
        {
            "s.yaml": "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
            + "".join(
                f"{c}: &{c} [{', '.join([f'*{p}'] * 10)}]\n"
                for p, c in zip("abcdefg", "bcdefgh", strict=True)
            )
        },
        r"s\.yaml: the document is too large",
    ),
    ("missing extends", {"s.yaml": "extends: nope.yaml\n"}, r"s\.yaml, line 1: extends: .*nope"),
    ("extends a number", {"s.yaml": "name: x\nextends: 5\n"}, r"s\.yaml, line 2: extends: .*5"),
    ("extends itself", {"s.yaml": "extends: s.yaml\n"}, r"extends: 's\.yaml' forms a cycle"),
    (
        "extends cycle",
        {"a.yaml": "extends: b.yaml\n", "b.yaml": "extends: a.yaml\n"},
        r"b\.yaml, line 1: extends: 'a\.yaml' forms a cycle "
        r"\(.*a\.yaml -> .*b\.yaml -> .*a\.yaml\)",
    ),
    (
        "error in the extended file names that file and line",
        {
            "base.yaml": BASE.replace("capacity: 12", "capacity: -1"),
            "s.yaml": "extends: base.yaml\n",
        },
        rf"base\.yaml, line {BASE.splitlines().index('  capacity: 12') + 1}: reps\.capacity: ",
    ),
    (
        "error in the extending file names that file",
        {"base.yaml": BASE, "s.yaml": "extends: base.yaml\nreps:\n  capacity: -1\n"},
        r"s\.yaml, line 3: reps\.capacity: expected a number >= 0",
    ),
    (
        "a list replaced by the extending file keeps no stale lines",
        {
            "base.yaml": BASE,
            "s.yaml": "extends: base.yaml\nmarket:\n  segments:\n    - name: only\n",
        },
        r"s\.yaml, line 4: market\.segments\.0\.customers: required setting is missing",
    ),
]


@pytest.mark.parametrize(
    "files, pattern", [c[1:] for c in FILE_CASES], ids=[c[0] for c in FILE_CASES]
)
def test_file_errors_are_one_clear_line(
    tmp_path: Path, files: dict[str, str], pattern: str
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    first = tmp_path / ("s.yaml" if "s.yaml" in files else "a.yaml")
    with pytest.raises(ScenarioError, match=pattern) as caught:
        load_scenario(first)
    assert "\n" not in str(caught.value)


def test_unreadable_bytes_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_bytes(b"name: \xff\xfe\n")
    with pytest.raises(ScenarioError, match=r"s\.yaml, line 1: the scenario file is not UTF-8"):
        load_scenario(path)


# --- --set ------------------------------------------------------------------------------------

SET_CASES: list[tuple[str, str, str]] = [
    ("no equals sign", "reps.capacity", r"--set 'reps\.capacity': expected PATH=VALUE"),
    ("empty path", "=3", r"--set '=3': the path before '=' is empty"),
    ("unknown key", "reps.capcity=3", r"--set reps\.capcity: unknown key .*reps\.capacity\?"),
    ("unknown top key", "week=3", r"--set week: unknown key 'week'; did you mean weeks\?"),
    (
        "typo inside an item named",
        "market.segments.small.valume=3",
        r"--set market\.segments\.small\.valume: .*did you mean market\.segments\.small\.volume\?",
    ),
    (
        "item index out of range",
        "market.segments.5.volume=3",
        r"no item '5' in market\.segments; "
        r"expected an index 0\.\.1 or a name in \['large', 'small'\]",
    ),
    ("item name typo", "market.segments.smal.volume=3", r"did you mean 'small'\?"),
    ("through a number", "weeks.x=3", r"--set weeks\.x: weeks is 52, not a mapping"),
    ("value not YAML", "weeks=[1", r"--set weeks: value '\[1' is not valid YAML"),
    (
        "alias bomb as a value",
        "reps.commission.tiers=[&a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1], "
        + ", ".join(
            f"&{c} [{', '.join([f'*{p}'] * 10)}]" for p, c in zip("abcde", "bcdef", strict=True)
        )
        + "]",
        r"--set reps\.commission\.tiers: the value is too large once aliases are expanded",
    ),
    (
        "wrong type",
        "reps.headcount=many",
        r"\(--set reps\.headcount\): reps\.headcount: expected a whole number, found 'many'",
    ),
    (
        "out of range by name",
        "market.segments.small.volume=-1",
        r"\(--set market\.segments\.small\.volume\): "
        r"market\.segments\.1\.volume: expected a number > 0",
    ),
    ("enumeration", "strategy=direkt", r"\(--set strategy\): .*did you mean 'direct'\?"),
    (
        "breaks a cross-field rule",
        "pricing.price_floor=500",
        r"\(--set pricing\.price_floor\): pricing\.price_floor: .*must not exceed list_price",
    ),
]


@pytest.mark.parametrize(
    "override, pattern", [c[1:] for c in SET_CASES], ids=[c[0] for c in SET_CASES]
)
def test_set_errors(tmp_path: Path, override: str, pattern: str) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(BASE)
    with pytest.raises(ScenarioError, match=pattern) as caught:
        load_scenario(path, [override])
    assert "\n" not in str(caught.value)


# --- the CLI: every command, exit code 2, one line, no traceback --------------------------------

RUN_ARGS: list[tuple[str, Callable[[Path], list[str]], str]] = [
    ("bad file", lambda d: ["validate", str(d / "bad.yaml")], "reps.headcont"),
    ("missing file", lambda d: ["validate", str(d / "none.yaml")], "file not found"),
    ("folder as file", lambda d: ["validate", str(d)], "is a directory"),
    ("bad --set", lambda d: ["validate", str(d / "s.yaml"), "--set", "reps.x=1"], "reps.x"),
    ("run bad file", lambda d: ["run", str(d / "bad.yaml"), "--out", str(d / "o")], "headcont"),
    ("run bad --set", lambda d: ["run", str(d / "s.yaml"), "--set", "weeks=-1"], "weeks"),
    (
        "run into a non-empty folder",
        lambda d: ["run", str(d / "s.yaml"), "--out", str(d)],
        "exists and is not empty",
    ),
    (
        "run into a path under a file",
        lambda d: ["run", str(d / "s.yaml"), "--out", str(d / "s.yaml" / "out")],
        "cannot write results here",
    ),
    (
        "run into /proc",
        lambda d: ["run", str(d / "s.yaml"), "--out", "/proc/channelsim-out"],
        "cannot write results here",
    ),
]


@pytest.mark.parametrize(
    "make_args, fragment", [c[1:] for c in RUN_ARGS], ids=[c[0] for c in RUN_ARGS]
)
def test_cli_reports_bad_input_in_one_line_with_exit_code_2(
    tmp_path: Path, make_args: Callable[[Path], list[str]], fragment: str
) -> None:
    (tmp_path / "s.yaml").write_text(BASE)
    (tmp_path / "bad.yaml").write_text(BASE.replace("reps:\n", "reps:\n  headcont: 3\n"))
    result = CliRunner().invoke(main, make_args(tmp_path))
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1 and fragment in errors[0]
    assert not (tmp_path / "o").exists()


def test_our_own_errors_print_nothing_but_the_message(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text(BASE.replace("weeks: 52", "weeks: -52"))
    for command in (["validate"], ["run", "--out", str(tmp_path / "o")]):
        result = CliRunner().invoke(main, [*command, str(tmp_path / "s.yaml")])
        assert result.exit_code == 2
        assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1
        assert "weeks: expected a number >= 1, found -52" in result.stderr
    assert not (tmp_path / "o").exists()


# --- the other commands: compare, sweep, report, sensitivity ----------------------------------

OTHER_COMMANDS: list[tuple[str, list[str], str]] = [
    ("compare one file", ["compare", "s.yaml"], "at least two scenario files"),
    ("compare a bad file", ["compare", "s.yaml", "bad.yaml"], "bad.yaml, line"),
    ("compare same names", ["compare", "s.yaml", "s.yaml"], "its own 'name:'"),
    ("compare baseline", ["compare", "s.yaml", "t.yaml", "--baseline", "x"], "no such scenario"),
    ("compare --set", ["compare", "s.yaml", "t.yaml", "--set", "reps.capcity=1"], "reps.capacity?"),
    (
        "compare --out under a file",
        ["compare", "s.yaml", "t.yaml", "-n", "1", "--out", "s.yaml/out"],
        "cannot write results here",
    ),
    ("sweep without --param", ["sweep", "s.yaml"], "at least one --param"),
    ("sweep --param typo", ["sweep", "s.yaml", "--param", "reps.capcity=1,2"], "reps.capacity?"),
    ("sweep --param spec", ["sweep", "s.yaml", "--param", "weeks=a:b:3"], "'a' is not a number"),
    ("sweep --param no =", ["sweep", "s.yaml", "--param", "weeks"], "expected PATH=SPEC"),
    ("sweep --param range", ["sweep", "s.yaml", "--param", "weeks=-1,2"], "expected a number >= 1"),
    (
        "sweep --param value typo",
        ["sweep", "s.yaml", "--param", "strategy=direct,paralel"],
        "did you mean 'parallel'?",
    ),
    (
        "sweep --out under a file",
        ["sweep", "s.yaml", "--param", "weeks=2,3", "--out", "s.yaml/out"],
        "cannot write results here",
    ),
    ("report on a plain folder", ["report", "."], "not a results folder"),
    ("report on an incomplete run", ["report", "incomplete"], "incomplete"),
    ("sensitivity on a plain folder", ["sensitivity", "."], "expected a sweep results folder"),
]


@pytest.mark.parametrize(
    "args, fragment", [c[1:] for c in OTHER_COMMANDS], ids=[c[0] for c in OTHER_COMMANDS]
)
def test_other_commands_report_bad_input_in_one_line_with_exit_code_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], fragment: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.yaml").write_text(BASE)
    (tmp_path / "t.yaml").write_text(BASE.replace("name: small", "name: other"))
    (tmp_path / "bad.yaml").write_text(BASE.replace("reps:\n", "reps:\n  headcont: 3\n"))
    (tmp_path / "incomplete").mkdir()
    (tmp_path / "incomplete" / "manifest.json").write_text("{}")
    (tmp_path / "incomplete" / "INCOMPLETE").write_text("")
    before = sorted(p.name for p in tmp_path.iterdir())
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1 and fragment in errors[0], result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == before
