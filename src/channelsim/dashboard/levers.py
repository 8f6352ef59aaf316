"""The levers of a scenario, read from the pydantic schema: what widget, what range, what value.

Pure functions without Streamlit, so they are tested like any other code. A lever's path is
the dotted path `--set` accepts (list items by name: `market.segments.smes.volume`).
"""

from __future__ import annotations

import math
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from channelsim.scenario.reference import numeric_bounds
from channelsim.scenario.schema import Scenario

Kind = Literal["toggle", "select", "slider", "int", "float"]
# Set in the run panel (weeks, seed, replicates) or not a lever at all.
NOT_LEVERS = {"name", "description", "weeks", "seed", "replicates"}
SLIDER_STEPS = 1000


@dataclass(frozen=True)
class Lever:
    """One setting as a widget: `kind`, bounds (None: unbounded), choices, current value."""

    path: str
    group: str
    section: str
    label: str
    kind: Kind
    value: Any
    low: float | None = None
    high: float | None = None
    step: float | None = None
    options: tuple[Any, ...] = ()
    help: str = ""


def levers(scenario: Scenario) -> list[Lever]:
    """Every setting a widget can show, in the schema's order (the order of a scenario file).

    Lists of named items (regions, segments, general agents) give one lever per item field;
    settings that are maps, lists of values or unset optional numbers are left out (they
    are listed by `left_out`).
    """
    return [lever for lever in _walk(scenario, "", "") if isinstance(lever, Lever)]


def left_out(scenario: Scenario) -> list[str]:
    """Paths of the settings `levers` does not show as widgets."""
    return [path for path in _walk(scenario, "", "") if isinstance(path, str)]


def _walk(model: BaseModel, prefix: str, group: str) -> typing.Iterator[Lever | str]:
    for name, info in type(model).model_fields.items():
        if not prefix and name in NOT_LEVERS:
            continue
        path = f"{prefix}{name}"
        value = getattr(model, name)
        top = group or (name if isinstance(value, BaseModel | list) else "scenario")
        if isinstance(value, BaseModel):
            yield from _walk(value, f"{path}.", top)
        elif isinstance(value, list) and value and all(isinstance(v, BaseModel) for v in value):
            for item in value:
                key = getattr(item, "name", None)
                if key is None:
                    yield path
                    break
                yield from _walk(item, f"{path}.{key}.", top)
        elif name == "name" and prefix:
            continue  # a list item's name is its address, not a lever
        else:
            lever = _lever(path, top, prefix.rstrip(".") or "scenario", name, info, value)
            yield lever if lever is not None else path


def _lever(
    path: str, group: str, section: str, name: str, info: FieldInfo, value: Any
) -> Lever | None:
    annotation = info.annotation
    common = {"path": path, "group": group, "section": section, "label": name}
    common["help"] = info.description or ""
    if typing.get_origin(annotation) is Literal:
        return Lever(**common, kind="select", value=value, options=typing.get_args(annotation))
    if annotation is bool:
        return Lever(**common, kind="toggle", value=value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = _number_type(annotation, value)
    if number is None:
        return None
    low, high, open_low, open_high = numeric_bounds(info.metadata)
    if annotation not in (int, float) and number is int:
        low = 0.0  # a count or a map of counts (customers, dealers per region): here a count
    if number is int:
        low_int = None if low is None else math.ceil(low + (1 if open_low else 0))
        high_int = None if high is None else math.floor(high - (1 if open_high else 0))
        kind: Kind = "slider" if _bounded_small(low_int, high_int, 1000) else "int"
        return Lever(**common, kind=kind, value=int(value), low=low_int, high=high_int, step=1)
    if _bounded_small(low, high, 10.0):
        step = (high - low) / SLIDER_STEPS
        low = low + step if open_low else low
        high = high - step if open_high else high
        return Lever(**common, kind="slider", value=float(value), low=low, high=high, step=step)
    return Lever(**common, kind="float", value=float(value), low=low, high=high, step=None)


def _bounded_small(low: float | None, high: float | None, span: float) -> bool:
    return low is not None and high is not None and high - low <= span


def _number_type(annotation: Any, value: Any) -> type | None:
    """int or float for a number field; for a union (count or map, optional number) the type
    of the value the scenario has; None when it has none of these."""
    if annotation in (int, float):
        return annotation
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        arguments = set(typing.get_args(annotation))
        for number in (int, float):
            if type(value) is number and (number in arguments or float in arguments):
                return number
    return None


def changes(all_levers: list[Lever], values: Mapping[str, Any]) -> dict[str, Any]:
    """The settings whose widget value differs from the scenario's (sliders: by half a step)."""
    out = {}
    for lever in all_levers:
        if lever.path not in values:
            continue
        new = values[lever.path]
        on_grid = lever.kind == "slider" and isinstance(lever.value, float)
        if on_grid and abs(new - lever.value) <= lever.step / 2:  # type: ignore[operator]
            continue
        if new != lever.value:
            out[lever.path] = new
    return out


def extends_text(original: Path | str, variant: Scenario, changed: Mapping[str, Any]) -> str:
    """A scenario file that `extends:` the original and sets only what changed.

    `extends:` replaces lists whole, so a change inside a list (a segment's volume) writes
    that whole list as the variant has it.
    """
    dump = variant.model_dump(mode="json")
    body: dict[str, Any] = {"name": variant.name}
    for path in changed:
        parts = path.split(".")
        node, source = body, dump
        for depth, key in enumerate(parts):
            value = source[key]
            if isinstance(value, list) or depth == len(parts) - 1:
                node[key] = value
                break
            node = node.setdefault(key, {})
            source = value
    lines = [
        f"# Settings changed in the channelsim dashboard; everything else is {original}.",
        "# Settings inside a list (segments, regions, general agents) repeat the whole list.",
        yaml.safe_dump({"extends": str(original), **body}, sort_keys=False, allow_unicode=True),
    ]
    return "\n".join(lines)
