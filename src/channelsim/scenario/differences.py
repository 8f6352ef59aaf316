"""Which settings differ between scenarios, as dotted paths `--set` accepts."""

from __future__ import annotations

from typing import Any


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted paths to every leaf setting; list items with a name are addressed by it,
    as `--set` accepts (`market.segments.smes.volume`)."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        out = {}
        for i, item in enumerate(value):
            key = item.get("name", i)
            out.update(flatten(item, f"{prefix}.{key}"))
        return out
    return {prefix: value}


# Labels, and settings `compare` replaces by the first scenario's (replicates, seeds).
NOT_SETTINGS = ("name", "description", "replicates", "seed")


def differing_settings(scenarios: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """Each dotted path whose value is not the same in every scenario (names, descriptions,
    replicates and seeds excluded: a comparison runs every scenario on the same seeds)."""
    flat = [flatten(s) for s in scenarios]
    paths = list(dict.fromkeys(p for f in flat for p in f))
    missing = object()
    out = {}
    for path in paths:
        if path in NOT_SETTINGS:
            continue
        values = [f.get(path, missing) for f in flat]
        if any(v != values[0] for v in values):
            out[path] = [None if v is missing else v for v in values]
    return out
