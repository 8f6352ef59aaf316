"""Load scenario files: YAML with `extends:`, dotted-path overrides, and friendly errors.

Every failure becomes a `ScenarioError` whose message names the file, the dotted key
path, the line where known, what was found and what was expected, so the CLI can print
one line and exit 2 instead of a traceback.
"""

from __future__ import annotations

import copy
import difflib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from channelsim.schema import Scenario


class ScenarioError(ValueError):
    """Bad scenario input; the message is meant for the user as it is."""


def load_scenario(path: str | Path, overrides: Iterable[str] = ()) -> Scenario:
    """Read a scenario file (following `extends:`), apply `PATH=VALUE` overrides, validate."""
    path = Path(path)
    raw, lines = _load_with_extends(path, chain=())
    parsed = [parse_override(text) for text in overrides]
    for dotted, value in parsed:
        raw = set_path(raw, dotted, value, source="--set")
    raw.setdefault("name", path.stem)
    return validate(raw, source=str(path), lines=lines, override_paths=[p for p, _ in parsed])


def validate(
    raw: Mapping[str, Any],
    source: str = "<scenario>",
    lines: Mapping[str, int] | None = None,
    override_paths: Iterable[str] = (),
) -> Scenario:
    """Validate a plain dict as a Scenario, translating pydantic errors into one message."""
    try:
        return Scenario.model_validate(raw)
    except ValidationError as exc:
        raise ScenarioError(_explain(exc, source, lines or {}, list(override_paths))) from None


def scenario_with(scenario: Scenario, settings: Mapping[str, Any]) -> Scenario:
    """A copy of `scenario` with dotted-path settings applied (used by sweeps)."""
    raw = scenario.model_dump(mode="python")
    for dotted, value in settings.items():
        raw = set_path(raw, dotted, value, source="parameter")
    return validate(raw, source=f"scenario {scenario.name!r}", override_paths=list(settings))


def parse_override(text: str) -> tuple[str, Any]:
    """Split `a.b.c=value`; the value is read as YAML so numbers, booleans and lists work."""
    if "=" not in text:
        raise ScenarioError(f"--set {text!r}: expected PATH=VALUE, e.g. reps.capacity=30")
    dotted, _, value_text = text.partition("=")
    dotted = dotted.strip()
    if not dotted:
        raise ScenarioError(f"--set {text!r}: the path before '=' is empty")
    try:
        value = yaml.safe_load(value_text) if value_text.strip() else ""
    except yaml.YAMLError as exc:
        problem = f"value {value_text!r} is not valid YAML ({exc})"
        raise ScenarioError(f"--set {dotted}: {problem}") from None
    return dotted, value


def set_path(raw: Mapping[str, Any], dotted: str, value: Any, source: str) -> dict[str, Any]:
    """Return a copy of `raw` with `dotted` set; the path must name a real schema field.

    List items are addressed by index (`market.segments.0.volume`) or, where items have
    a name, by name (`market.segments.large_accounts.volume`).
    """
    out = copy.deepcopy(dict(raw))
    parts = dotted.split(".")
    model: type[BaseModel] | None = Scenario
    node: Any = out
    for depth, key in enumerate(parts):
        here = ".".join(parts[: depth + 1])
        last = depth == len(parts) - 1
        if isinstance(node, list):
            index = _list_index(node, key)
            if index is None:
                names = [item.get("name") for item in node if isinstance(item, dict)]
                raise ScenarioError(
                    f"{source} {dotted}: no item {key!r} in {'.'.join(parts[:depth])}; "
                    f"expected an index 0..{len(node) - 1} or one of {names}"
                )
            if last:
                node[index] = value
                return out
            node = node[index]
            continue
        if not isinstance(node, dict):
            raise ScenarioError(f"{source} {dotted}: {'.'.join(parts[:depth])} is not a mapping")
        if model is not None and key not in model.model_fields:
            raise ScenarioError(
                f"{source} {dotted}: unknown key {here!r}{_suggest(key, model.model_fields)}"
            )
        if last:
            node[key] = value
            return out
        child_model = _field_model(model, key) if model is not None else None
        if key not in node or node[key] is None:
            node[key] = {}
        node = node[key]
        model = child_model
    return out


def _list_index(items: list[Any], key: str) -> int | None:
    if key.lstrip("-").isdigit():
        index = int(key)
        return index if 0 <= index < len(items) else None
    for i, item in enumerate(items):
        if isinstance(item, dict) and item.get("name") == key:
            return i
    return None


def _field_model(model: type[BaseModel], key: str) -> type[BaseModel] | None:
    annotation = model.model_fields[key].annotation
    return _first_model(annotation)


def _first_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _first_model(arg)
        if found is not None:
            return found
    return None


def _suggest(key: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(key, list(candidates), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else f"; expected one of {sorted(candidates)}"


# --- YAML files and extends ------------------------------------------------------------


def _load_with_extends(path: Path, chain: tuple[Path, ...]) -> tuple[dict[str, Any], dict]:
    resolved = path.resolve()
    if resolved in chain:
        cycle = " -> ".join(str(p) for p in (*chain, resolved))
        raise ScenarioError(f"{path}: extends: forms a cycle ({cycle})")
    if not path.is_file():
        where = f" (extended by {chain[-1]})" if chain else ""
        raise ScenarioError(f"{path}: file not found{where}")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: cannot read file ({exc})") from None
    data, lines = _parse_yaml(text, str(path))
    parent_name = data.pop("extends", None)
    if parent_name is None:
        return data, lines
    if not isinstance(parent_name, str):
        raise ScenarioError(f"{path}: extends: expected a file name, found {parent_name!r}")
    parent_path = (path.parent / parent_name).resolve()
    parent, parent_lines = _load_with_extends(parent_path, (*chain, resolved))
    merged_lines = {**parent_lines, **lines}
    return deep_merge(parent, data), merged_lines


def _parse_yaml(text: str, source: str) -> tuple[dict[str, Any], dict[str, str]]:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ScenarioError(f"{source}{where}: malformed YAML: {problem}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ScenarioError(
            f"{source}: expected a mapping of settings at the top, found {type(data).__name__}"
        )
    if any(not isinstance(key, str) for key in data):
        raise ScenarioError(f"{source}: top-level keys must be names (text)")
    lines: dict[str, str] = {}
    _record_lines(node, (), source, lines)
    return data, lines


def _record_lines(node: Any, path: tuple[str, ...], source: str, out: dict[str, str]) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = str(key_node.value)
            out[".".join((*path, key))] = f"{source}, line {key_node.start_mark.line + 1}"
            _record_lines(value_node, (*path, key), source, out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            out[".".join((*path, str(i)))] = f"{source}, line {item.start_mark.line + 1}"
            _record_lines(item, (*path, str(i)), source, out)


def deep_merge(base: Mapping[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    """Merge `update` into a copy of `base`: mappings merge key by key, the rest replaces."""
    out = copy.deepcopy(dict(base))
    for key, value in update.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


# --- error messages --------------------------------------------------------------------


def _explain(
    exc: ValidationError, source: str, lines: Mapping[str, str], overrides: list[str]
) -> str:
    messages = []
    for error in exc.errors(include_url=False):
        loc = [str(part) for part in error["loc"] if not str(part).startswith("function-")]
        loc = [p for p in loc if p not in ("int", "dict[str,int]", "tuple[float,float]")]
        dotted = ".".join(loc) or "(top level)"
        where = _where(dotted, source, lines, overrides)
        found = error.get("input")
        messages.append(f"{where}: {dotted}: {_expected(error, loc)}{_found(error, found)}")
    unique = list(dict.fromkeys(messages))
    more = f" (and {len(unique) - 3} more)" if len(unique) > 3 else ""
    return "; ".join(unique[:3]) + more


def _where(dotted: str, source: str, lines: Mapping[str, str], overrides: list[str]) -> str:
    for path in overrides:
        if dotted == path or dotted.startswith(path + ".") or path.startswith(dotted + "."):
            return f"{source} (--set {path})"
    parts = dotted.split(".")
    while parts:
        key = ".".join(parts)
        if key in lines:
            return lines[key]
        parts.pop()
    return source


def _expected(error: Mapping[str, Any], loc: list[str]) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        key = loc[-1] if loc else "?"
        parent = _model_at(loc[:-1])
        hint = _suggest(key, parent.model_fields) if parent is not None else ""
        return f"unknown key{hint}"
    if kind == "missing":
        return "required setting is missing"
    message = str(error["msg"])
    return message.removeprefix("Value error, ")


def _found(error: Mapping[str, Any], found: Any) -> str:
    if error["type"] in ("extra_forbidden", "missing") or isinstance(found, dict | list):
        return ""
    return f" (found {found!r})"


def _model_at(loc: list[str]) -> type[BaseModel] | None:
    model: type[BaseModel] | None = Scenario
    for key in loc:
        if model is None:
            return None
        if key.isdigit():
            continue
        if key not in model.model_fields:
            return None
        model = _field_model(model, key)
    return model
