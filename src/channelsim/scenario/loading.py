"""Load scenario files: YAML with `extends:`, dotted-path overrides, and friendly errors.

Every failure becomes a `ScenarioError` whose message names the file, the dotted key
path, the line where known, what was found and what was expected, so the CLI can print
one line and exit 2 instead of a traceback. YAML is read with PyYAML's safe loader only:
a scenario file holds plain data and can never construct Python objects or run code.
"""

from __future__ import annotations

import copy
import difflib
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from channelsim.errors import InputError, ScenarioError
from channelsim.scenario import population
from channelsim.scenario.schema import Scenario
from channelsim.storage import inputs
from channelsim.storage.inputs import describe


def load_scenario(path: str | Path, overrides: Iterable[str] = ()) -> Scenario:
    """Read a scenario file (following `extends:`), apply `PATH=VALUE` overrides, validate."""
    path = Path(path)
    raw, lines = _load_with_extends(path, chain=())
    applied = []
    for text in overrides:
        dotted, value = parse_override(text)
        raw, canonical = _set_path(raw, dotted, value, source="--set")
        applied.append((canonical, f"--set {dotted}"))
    raw.setdefault("name", path.stem)
    return population.attach(_validate(raw, str(path), lines, applied))


def validate(
    raw: Mapping[str, Any],
    source: str = "<scenario>",
    lines: Mapping[str, str] | None = None,
    override_paths: Iterable[str] = (),
    override_label: str = "--set",
) -> Scenario:
    """Validate a plain dict as a Scenario, translating pydantic errors into one message.

    `lines` maps dotted keys to 'file, line N'; errors at or under one of `override_paths`
    are attributed to that override instead (e.g. '--set reps.capacity').
    """
    overrides = [(path, f"{override_label} {path}") for path in override_paths]
    return _validate(raw, source, lines or {}, overrides)


def _validate(
    raw: Mapping[str, Any], source: str, lines: Mapping[str, str], overrides: list[tuple[str, str]]
) -> Scenario:
    """`overrides` pairs each overridden path (list items as indices) with how to name it."""
    try:
        return Scenario.model_validate(raw)
    except ValidationError as exc:
        raise ScenarioError(_explain(exc, source, lines, overrides)) from None


def scenario_with(scenario: Scenario, settings: Mapping[str, Any]) -> Scenario:
    """A copy of `scenario` with dotted-path settings applied (used by sweeps)."""
    raw = scenario.model_dump(mode="python")
    applied = []
    for dotted, value in settings.items():
        raw, canonical = _set_path(raw, dotted, value, source="parameter")
        applied.append((canonical, f"parameter {dotted}"))
    changed = _validate(raw, f"scenario {scenario.name!r}", {}, applied)
    return population.carry(scenario, changed)


def parse_override(text: str) -> tuple[str, Any]:
    """Split `a.b.c=value`; the value is read as YAML so numbers, booleans and lists work."""
    if "=" not in text:
        raise ScenarioError(f"--set {text!r}: expected PATH=VALUE, e.g. reps.capacity=30")
    dotted, _, value_text = text.partition("=")
    dotted = dotted.strip()
    if not dotted:
        raise ScenarioError(f"--set {text!r}: the path before '=' is empty")
    if not value_text.strip():
        return dotted, ""
    try:
        return dotted, inputs.yaml_value(value_text, f"--set {dotted}")
    except InputError as exc:
        raise ScenarioError(str(exc)) from None


def set_path(raw: Mapping[str, Any], dotted: str, value: Any, source: str) -> dict[str, Any]:
    """Return a copy of `raw` with `dotted` set; the path must name a real schema field.

    List items are addressed by index (`market.segments.0.volume`) or, where items have
    a name, by name (`market.segments.large_accounts.volume`).
    """
    return _set_path(raw, dotted, value, source)[0]


def check_path(scenario: Scenario, dotted: str, source: str) -> None:
    """Refuse a dotted path that names no setting of `scenario` (with a suggestion), before
    any value is tried at it: what a sweep or an exploration varies must exist."""
    _set_path(scenario.model_dump(mode="json"), dotted, None, source)


def _set_path(
    raw: Mapping[str, Any], dotted: str, value: Any, source: str
) -> tuple[dict[str, Any], str]:
    """`set_path`, also returning the path with list items as indices (for error messages)."""
    out = copy.deepcopy(dict(raw))
    parts = dotted.split(".")
    canonical: list[str] = []
    model: type[BaseModel] | None = Scenario
    node: Any = out
    for depth, key in enumerate(parts):
        last = depth == len(parts) - 1
        parent = ".".join(parts[:depth]) or "(top level)"
        if isinstance(node, list):
            index = _list_index(node, key)
            if index is None:
                raise ScenarioError(f"{source} {dotted}: {_no_item(node, key, parent)}")
            canonical.append(str(index))
            if last:
                node[index] = value
                return out, ".".join(canonical)
            node = node[index]
            continue
        if not isinstance(node, dict):
            raise ScenarioError(
                f"{source} {dotted}: {parent} is {describe(node)}, not a mapping of settings, "
                f"so it has no key {key!r}"
            )
        if model is not None and key not in model.model_fields:
            hint = _suggest(key, model.model_fields, ".".join(parts[:depth]))
            raise ScenarioError(f"{source} {dotted}: unknown key {key!r}{hint}")
        canonical.append(key)
        if last:  # a mapping merges into the settings there, as in a file that extends
            merge = isinstance(value, Mapping) and isinstance(node.get(key), Mapping)
            node[key] = deep_merge(node[key], value) if merge else value
            return out, ".".join(canonical)
        child_model = _field_model(model, key) if model is not None else None
        if node.get(key) is None:
            node[key] = [] if model is not None and _is_list(model, key) else {}
        node = node[key]
        model = child_model
    return out, ".".join(canonical)


def _list_index(items: list[Any], key: str) -> int | None:
    if key.isdigit():
        index = int(key)
        return index if index < len(items) else None
    for i, item in enumerate(items):
        if isinstance(item, dict) and item.get("name") == key:
            return i
    return None


def _no_item(items: list[Any], key: str, where: str) -> str:
    if not items:
        return f"{where} is an empty list, so it has no item {key!r}"
    names = [str(item["name"]) for item in items if isinstance(item, dict) and "name" in item]
    close = difflib.get_close_matches(key, names, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    named = f" or a name in {names}" if names else ""
    return f"no item {key!r} in {where}; expected an index 0..{len(items) - 1}{named}{hint}"


def _is_list(model: type[BaseModel], key: str) -> bool:
    return getattr(model.model_fields[key].annotation, "__origin__", None) is list


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


def _suggest(key: str, candidates: Iterable[str], parent: str = "") -> str:
    """'; did you mean reps.headcount?' for a typo, else the list of valid keys."""
    candidates = list(candidates)
    close = difflib.get_close_matches(key, candidates, n=1, cutoff=0.6)
    if close:
        return f"; did you mean {'.'.join(p for p in (parent, close[0]) if p)}?"
    return f"; expected one of {sorted(candidates)}"


# --- YAML files and extends ------------------------------------------------------------


def _load_with_extends(
    path: Path, chain: tuple[tuple[Path, str], ...]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Read `path` and the files it extends; `lines` maps dotted keys to 'file, line N'.

    `chain` holds (resolved path, path as shown) of the files that led here.
    """
    try:
        data, lines = inputs.read_yaml_with_lines(path, "scenario file")
    except InputError as exc:
        raise ScenarioError(str(exc)) from None
    if "params" in data:  # the key that makes a sweep file (a scenario has none)
        raise ScenarioError(
            f"{path}: this is a sweep file (it has 'params:'), not a scenario; "
            f"use channelsim sweep {path}"
        )
    population.resolve_paths(data, path.parent)
    if "extends" not in data:
        return data, lines
    parent_name = data.pop("extends")
    where = lines.pop("extends", str(path))
    if parent_name is None:
        return data, lines
    if not isinstance(parent_name, str) or not parent_name.strip():
        raise ScenarioError(
            f"{where}: extends: expected the name of a scenario file, found {describe(parent_name)}"
        )
    parent_path = Path(os.path.normpath(path.parent / parent_name))
    links = (*chain, (path.resolve(), str(path)))
    if parent_path.resolve() in [resolved for resolved, _ in links]:
        names = [shown for _, shown in links] + [str(parent_path)]
        raise ScenarioError(
            f"{where}: extends: {parent_name!r} forms a cycle ({' -> '.join(names)}); "
            "a scenario cannot extend itself, directly or through other files"
        )
    if not parent_path.is_file():
        raise ScenarioError(
            f"{where}: extends: file {parent_name!r} not found (looked for {parent_path})"
        )
    parent, parent_lines = _load_with_extends(parent_path, links)
    return deep_merge(parent, data), _merge_lines(parent_lines, lines, data)


def _merge_lines(
    parent: Mapping[str, str], child: Mapping[str, str], child_data: Mapping[str, Any]
) -> dict[str, str]:
    """Line map of `deep_merge(parent, child)`: what the child replaces forgets its old lines."""
    replaced = set(_leaf_paths(child_data))

    def still_there(key: str) -> bool:
        parts = key.split(".")
        return not any(".".join(parts[:i]) in replaced for i in range(1, len(parts)))

    kept = {key: where for key, where in parent.items() if still_there(key)}
    return {**kept, **child}


def _leaf_paths(data: Mapping[str, Any], prefix: str = "") -> Iterable[str]:
    for key, value in data.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            yield from _leaf_paths(value, path + ".")
        else:
            yield path


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

UNION_TAGS = ("int", "float", "str", "bool", "none", "list", "dict", "tuple")
TYPE_ERRORS = {
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "finite_number": "a finite number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "text",
    "dict_type": "a mapping (key: value)",
    "model_type": "a mapping of settings (key: value)",
    "model_attributes_type": "a mapping of settings (key: value)",
    "list_type": "a list",
    "tuple_type": "a list of values, e.g. [1.0, 1.5]",
    "invalid_key": "keys that are text",
}


def _explain(
    exc: ValidationError,
    source: str,
    lines: Mapping[str, str],
    overrides: list[tuple[str, str]],
) -> str:
    by_path: dict[str, list[dict[str, Any]]] = {}
    for error in _without_losing_union_branches(exc.errors(include_url=False)):
        loc = _clean_loc(error)
        by_path.setdefault(".".join(loc), []).append(error)
    messages = []
    for dotted, errors in by_path.items():
        where = _where(dotted, source, lines, overrides)
        messages.append(f"{where}: {dotted or '(top level)'}: {_describe_errors(dotted, errors)}")
    more = f" (and {len(messages) - 3} more problems)" if len(messages) > 3 else ""
    return "; ".join(messages[:3]) + more


def _is_union_tag(part: Any) -> bool:
    text = str(part)
    return text in UNION_TAGS or "[" in text or text.startswith(("function-", "constrained-"))


def _clean_loc(error: Mapping[str, Any]) -> list[str]:
    loc = [str(part) for part in error["loc"] if not _is_union_tag(part)]
    if error["type"] == "value_error":
        extra = getattr(error.get("ctx", {}).get("error"), "path", "")
        loc += [part for part in str(extra).split(".") if part]
    return loc


def _without_losing_union_branches(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Where one union branch failed deeper (a bad count in a map), drop the others' type errors.

    `customers: {North: -1}` fails both as a number (wrong type) and as a map (negative
    count); only the second says what is wrong.
    """
    deep = {_union_point(e) for e in errors if _union_point(e) and len(_after_tag(e)) > 0}
    return [
        e
        for e in errors
        if not (_union_point(e) in deep and not _after_tag(e) and e["type"] in TYPE_ERRORS)
    ]


def _union_point(error: Mapping[str, Any]) -> tuple[str, ...] | None:
    loc = [str(p) for p in error["loc"]]
    for i, part in enumerate(loc):
        if _is_union_tag(part) and not part.startswith("function-"):
            return tuple(loc[:i])
    return None


def _after_tag(error: Mapping[str, Any]) -> list[str]:
    loc = [str(p) for p in error["loc"]]
    for i, part in enumerate(loc):
        if _is_union_tag(part) and not part.startswith("function-"):
            return loc[i + 1 :]
    return []


def _describe_errors(dotted: str, errors: list[dict[str, Any]]) -> str:
    if len(errors) > 1 and all(e["type"] in TYPE_ERRORS for e in errors):
        kinds = " or ".join(dict.fromkeys(TYPE_ERRORS[e["type"]] for e in errors))
        return f"expected {kinds}, found {describe(errors[0].get('input'))}"
    return "; ".join(dict.fromkeys(_describe_error(dotted, e) for e in errors))


def _describe_error(dotted: str, error: Mapping[str, Any]) -> str:
    kind = error["type"]
    ctx = error.get("ctx", {})
    found = error.get("input")
    if kind == "extra_forbidden":
        loc = dotted.split(".")
        parent = _model_at(loc[:-1])
        candidates = list(parent.model_fields) if parent is not None else []
        if parent is Scenario:
            candidates.append("extends")
        hint = _suggest(loc[-1], candidates, ".".join(loc[:-1])) if candidates else ""
        return f"unknown key{hint}"
    if kind == "missing":
        return "required setting is missing"
    if kind == "value_error":
        return str(error["msg"]).removeprefix("Value error, ")
    if kind in TYPE_ERRORS:
        expected = TYPE_ERRORS[kind]
    elif kind == "literal_error":
        expected = f"one of {ctx.get('expected', '')}"
        options = [
            o.strip(" '") for o in str(ctx.get("expected", "")).replace(" or ", ",").split(",")
        ]
        close = difflib.get_close_matches(str(found), options, n=1, cutoff=0.6)
        if close and isinstance(found, str):
            return f"expected {expected}, found {found!r}; did you mean {close[0]!r}?"
    elif kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        sign = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}
        bounds = [f"{sign[k]} {v:g}" for k, v in ctx.items() if k in sign]
        expected = f"a number {' and '.join(bounds)}"
    elif kind in ("too_short", "too_long"):
        words = {"too_short": "at least", "too_long": "at most"}
        limit = ctx.get("min_length", ctx.get("max_length"))
        expected = f"{words[kind]} {limit} item(s)"
        return f"expected {expected}, found {ctx.get('actual_length', '?')}"
    elif kind == "string_too_short":
        expected = "non-empty text"
    else:
        expected = str(error["msg"]).removeprefix("Input should be ")
    return f"expected {expected}, found {describe(found)}"


def _where(
    dotted: str, source: str, lines: Mapping[str, str], overrides: list[tuple[str, str]]
) -> str:
    for path, shown in reversed(overrides):
        if dotted == path or dotted.startswith(path + "."):
            return f"{source} ({shown})"
    parts = dotted.split(".")
    while parts:
        key = ".".join(parts)
        if key in lines:
            return lines[key]
        parts.pop()
    return source


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


def load_scenarios(paths: Sequence[Path], overrides: Iterable[str] = ()) -> list[Scenario]:
    """Load every scenario file with the same overrides; names must be distinct."""
    if len(paths) < 2:
        raise ScenarioError("compare needs at least two scenario files")
    overrides = tuple(overrides)
    scenarios = [load_scenario(path, overrides) for path in paths]
    seen: dict[str, Path] = {}
    for path, scenario in zip(paths, scenarios, strict=True):
        if scenario.name in seen:
            raise ScenarioError(
                f"{path}: scenario name {scenario.name!r} is also the name of "
                f"{seen[scenario.name]}; give each scenario its own 'name:' setting"
            )
        seen[scenario.name] = path
    currencies = {s.currency for s in scenarios}
    if len(currencies) > 1:
        shown = ", ".join(sorted(map(repr, currencies)))
        raise ScenarioError(
            f"the scenarios state different currencies ({shown}); compare scenarios in one "
            "currency (--set currency=...)"
        )
    return scenarios


def choose_baseline(scenarios: Sequence[Scenario], baseline: str | None) -> str:
    """The named baseline, or the first scenario when none is named; names must be distinct."""
    names = [s.name for s in scenarios]
    if len(set(names)) != len(names):
        raise ScenarioError(f"scenario names must be distinct, found {names}")
    if baseline is None:
        return names[0]
    if baseline not in names:
        close = difflib.get_close_matches(baseline, names, n=1, cutoff=0.5)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ScenarioError(
            f"--baseline {baseline!r}: no such scenario; expected one of {names}{hint}"
        )
    return baseline


def replicates_for(scenarios: Sequence[Scenario], replicates: int | None) -> int:
    """The replicates asked for, or the first scenario's."""
    return replicates or scenarios[0].replicates
