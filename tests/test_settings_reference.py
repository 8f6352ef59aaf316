"""The settings reference is generated from the schema: docs/settings.md is what
`channelsim schema --markdown` prints (regenerate it when this fails), every key has a
meaning, and `channelsim schema` prints a JSON Schema that the bundled scenarios satisfy."""

from __future__ import annotations

import json

import jsonschema
import pytest
import yaml
from click.testing import CliRunner
from conftest import ROOT, SCENARIOS

from channelsim.cli import main
from channelsim.scenario.loading import _first_model
from channelsim.scenario.schema import Scenario


def test_docs_settings_md_is_current() -> None:
    printed = CliRunner().invoke(main, ["schema", "--markdown"]).stdout
    stored = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    assert stored == printed, (
        "docs/settings.md is stale: channelsim schema --markdown > docs/settings.md"
    )


def _fields(model, prefix=""):
    for key, field in model.model_fields.items():
        yield f"{prefix}{key}", field
        child = _first_model(field.annotation)
        if child is not None and child is not model:
            yield from _fields(child, f"{prefix}{key}.")


def test_every_key_has_a_meaning_and_a_row() -> None:
    page = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    for path, field in _fields(Scenario):
        assert field.description, path
        assert f"| {path.rsplit('.', 1)[-1]} |" in page, path


@pytest.fixture(scope="module")
def schema() -> dict:
    result = CliRunner().invoke(main, ["schema"])
    assert result.exit_code == 0
    return json.loads(result.stdout)


def test_the_json_schema_is_valid_and_knows_extends(schema: dict) -> None:
    jsonschema.Draft202012Validator.check_schema(schema)
    assert "extends" in schema["properties"] and schema["additionalProperties"] is False


@pytest.mark.parametrize(
    "path",
    sorted(SCENARIOS.glob("*.yaml")) + sorted((SCENARIOS / "validation").glob("*.yaml")),
    ids=lambda p: p.stem,
)
def test_every_bundled_scenario_satisfies_the_json_schema(schema: dict, path) -> None:
    jsonschema.validate(yaml.safe_load(path.read_text()), schema)


def test_the_json_schema_catches_what_an_editor_should_underline(schema: dict) -> None:
    for bad in ({"reps": {"headcount": -1}}, {"reps": {"headcont": 3}}, {"strategy": "both"}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, schema)
