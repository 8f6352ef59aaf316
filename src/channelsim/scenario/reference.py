"""The settings reference, generated from the schema: a JSON Schema for editors and the
Markdown of docs/settings.md. Both come from `schema.Scenario` alone, so they cannot drift
from what the loader accepts (a test regenerates them and compares)."""

from __future__ import annotations

import json
import types
from typing import Any, Literal, Union, get_args, get_origin

import annotated_types as at
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from channelsim.scenario.schema import Scenario

SCHEMA_URL = "https://json-schema.org/draft/2020-12/schema"
EXTENDS = (
    "a scenario file (path relative to this one) whose settings this file starts from; "
    "this file's settings are merged into it key by key"
)


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a scenario file (pydantic's), with `extends:` added.

    Nothing is required, because a file that `extends:` another may leave out any key
    (even `market`, or a segment's `customers`); the loader checks the merged result.
    """
    schema = Scenario.model_json_schema()
    schema["$schema"] = SCHEMA_URL
    schema["title"] = "channelsim scenario"
    schema["properties"] = {
        "extends": {"type": "string", "title": "Extends", "description": EXTENDS},
        **schema["properties"],
    }
    for model in (schema, *schema.get("$defs", {}).values()):
        model.pop("required", None)
    return schema


def json_text() -> str:
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"


HEADER = """# Settings reference

Every key of a scenario file, grouped as the file is: type, unit, allowed range, default and
meaning. This page is generated from the schema by `channelsim schema --markdown` (a test
fails when it is out of date); `channelsim schema` prints the same as a JSON Schema for
editors (see "Completion and checking in an editor" at the end).

A dotted path (`reps.commission.rate`) is how `--set` and sweeps name a key; items of a list
that have a `name` are addressed by it (`market.segments.smes.volume`). Money is in the
scenario's `currency` (none by default). "required" marks a key without a default; a file
that `extends:` another may leave it to the parent.

"""

FOOTER = """
## Completion and checking in an editor

`channelsim schema > scenario.schema.json` writes the JSON Schema of a scenario file. With
the YAML extension of VS Code (Red Hat), point it at your scenario files in
`.vscode/settings.json`:

```json
{
  "yaml.schemas": {
    "./scenario.schema.json": ["scenarios/*.yaml", "scenarios/validation/*.yaml"]
  }
}
```

or put a first line in one file:
`# yaml-language-server: $schema=./scenario.schema.json`. The editor then completes keys,
shows each key's meaning on hover and underlines unknown keys, wrong types and values out of
range. It cannot follow `extends:` (so it requires nothing) and does not know the checks
across keys (a general agent for every region, ...): `channelsim validate FILE` does both.
Sweep files (`scenarios/sweeps/`) have their own format; do not map the schema onto them.
"""


def markdown() -> str:
    """docs/settings.md: one table per mapping of the file, in the order of the schema."""
    sections: list[str] = []
    _section(Scenario, "", "Top level", sections)
    return HEADER + "\n".join(sections) + FOOTER


def _section(model: type[BaseModel], path: str, title: str, out: list[str]) -> None:
    rows, nested = [], []
    for key, field in model.model_fields.items():
        dotted = f"{path}.{key}" if path else key
        child, is_list = _model_of(field.annotation)
        if child is not None:
            shown = f"{dotted}[]" if is_list else dotted
            nested.append((child, shown))
            kind = "list of mappings" if is_list else "mapping"
            rows.append((key, kind, "", _length(field), _default(field, child), _meaning(field)))
            continue
        rows.append(
            (
                key,
                _type(field.annotation),
                _unit(field),
                _range(field),
                _default(field, None),
                _meaning(field),
            )
        )
    doc = (model.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")
    lines = [f"## {title}" if not path else f"## `{title}`", ""]
    if doc and model is not Scenario and not doc.startswith("Usage docs"):
        lines += [doc, ""]
    lines += ["| key | type | unit | range | default | meaning |", "|---|---|---|---|---|---|"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    out.append("\n".join(lines) + "\n")
    for child, shown in nested:
        _section(child, shown, shown, out)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _model_of(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    options = [a for a in get_args(annotation) if a is not type(None)]
    if len(options) == 1 and len(get_args(annotation)) == 2:  # an optional mapping
        return _model_of(options[0])
    if get_origin(annotation) is list:
        (item,) = get_args(annotation)
        if isinstance(item, type) and issubclass(item, BaseModel):
            return item, True
    return None, False


def _type(annotation: Any) -> str:
    origin = get_origin(annotation)
    if origin is Literal:
        return "one of " + ", ".join(f"`{a}`" for a in get_args(annotation))
    if origin in (Union, types.UnionType):
        parts = [a for a in get_args(annotation) if a is not type(None)]
        text = " or ".join(_type(a) for a in parts)
        return f"{text} or empty" if len(parts) < len(get_args(annotation)) else text
    if origin is list:
        (item,) = get_args(annotation)
        return f"list of {_type(item)}"
    if origin is tuple:
        return "[" + ", ".join(_type(a) for a in get_args(annotation)) + "]"
    if origin is dict:
        return "map name -> " + _type(get_args(annotation)[1])
    if get_origin(annotation) is not None and hasattr(annotation, "__metadata__"):
        return _type(get_args(annotation)[0])
    if hasattr(annotation, "__metadata__"):
        return _type(annotation.__origin__)
    return {bool: "true/false", int: "whole number", float: "number", str: "text"}.get(
        annotation, getattr(annotation, "__name__", str(annotation))
    )


def _unit(field: FieldInfo) -> str:
    extra = field.json_schema_extra
    return str(extra.get("unit", "")) if isinstance(extra, dict) else ""


def _bounds(metadata: list[Any]) -> list[str]:
    out = []
    for item in metadata:
        if isinstance(item, FieldInfo):
            out += _bounds(item.metadata)
        for cls, sign, name in (
            (at.Ge, ">=", "ge"),
            (at.Gt, ">", "gt"),
            (at.Le, "<=", "le"),
            (at.Lt, "<", "lt"),
        ):
            if isinstance(item, cls):
                out.append(f"{sign} {_plain(getattr(item, name))}")
    return out


def _range(field: FieldInfo) -> str:
    found = _bounds(field.metadata)
    if not found:  # a union: the constraints sit inside its members
        for arg in get_args(field.annotation):
            found += [b for b in _bounds(getattr(arg, "__metadata__", ())) if b not in found]
    return ", ".join(found)


def setting_limits(scenario: Scenario, dotted: str) -> tuple[float | None, float | None]:
    """The least and greatest value the schema allows at `dotted` (list items by name or
    index, as `--set` takes them); None where it sets no inclusive bound. A sweep's best
    point at such a bound cannot be improved by widening the range past it."""
    node: Any = scenario
    field: FieldInfo | None = None
    for key in dotted.split("."):
        if isinstance(node, BaseModel):
            field = type(node).model_fields.get(key)
            node = getattr(node, key, None)
        elif isinstance(node, list | tuple):
            named = [item for item in node if getattr(item, "name", None) == key]
            index = int(key) if key.isdigit() and int(key) < len(node) else None
            field, node = None, named[0] if named else (node[index] if index is not None else None)
        else:
            return None, None
        if node is None:
            return None, None
    if field is None:
        return None, None
    constraints = list(field.metadata)
    for arg in get_args(field.annotation):  # a union: the constraints sit inside its members
        constraints += list(getattr(arg, "__metadata__", ()))
    low, high, open_low, open_high = numeric_bounds(constraints)
    return (None if open_low else low), (None if open_high else high)


def numeric_bounds(constraints: Any) -> tuple[float | None, float | None, bool, bool]:
    """(low, high, low is open, high is open) of a field's ge/gt/le/lt constraints."""
    low = high = None
    open_low = open_high = False
    for item in constraints:
        if isinstance(item, at.Ge):
            low = float(item.ge)
        elif isinstance(item, at.Gt):
            low, open_low = float(item.gt), True
        elif isinstance(item, at.Le):
            high = float(item.le)
        elif isinstance(item, at.Lt):
            high, open_high = float(item.lt), True
    return low, high, open_low, open_high


def _length(field: FieldInfo) -> str:
    for item in field.metadata:
        if isinstance(item, at.MinLen):
            return f"at least {item.min_length} item(s)"
    return ""


def _default(field: FieldInfo, child: type[BaseModel] | None) -> str:
    if field.default is PydanticUndefined and field.default_factory is None:
        return "required"
    if child is not None:
        value = field.get_default(call_default_factory=True)
        return "[]" if value == [] else "see below"
    value = field.get_default(call_default_factory=True)
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return f"`{value}`" if value else '`""`'
    return f"`{_plain(value)}`" if isinstance(value, int | float) else f"`{value}`"


def _plain(value: float) -> str:
    """A bound or default as a user types it: 100000 -> 100,000, 0.5 -> 0.5."""
    return f"{int(value):,}" if float(value).is_integer() else f"{value:g}"


def _meaning(field: FieldInfo) -> str:
    return field.description or ""
