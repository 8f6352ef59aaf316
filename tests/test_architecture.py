"""The package's folders show the flow, and no module imports one further down it.

scenario -> model -> experiments -> output -> api -> cli / dashboard; `errors` and
`storage` (files in and out) serve every layer. A module may import its own layer and the
layers before it, never a later one, not even inside a function.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "channelsim"
LAYERS = ["errors", "storage", "scenario", "model", "experiments", "output", "api", "cli"]
RANK = {name: i for i, name in enumerate(LAYERS)} | {"dashboard": len(LAYERS) - 1}
RANK["__main__"] = RANK["cli"]  # the `channelsim` command's entry point


def layer(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "channelsim" or len(parts) < 2:
        return None
    return parts[1]


def imports(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "channelsim":
                found += [(node.lineno, f"channelsim.{alias.name}") for alias in node.names]
            else:
                found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
    return found


# Modules still being split; each entry must still break the rule, so the list cannot rot.
PENDING: dict[str, str] = {}

MODULES = sorted(p for p in PACKAGE.rglob("*.py") if p.relative_to(PACKAGE).parts[0] in RANK
                 or p.stem in RANK)  # fmt: skip


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_imports_a_later_layer(path: Path) -> None:
    own = path.relative_to(PACKAGE).parts[0].removesuffix(".py")
    later = [
        f"line {line}: {module}"
        for line, module in imports(path)
        if (target := layer(module)) in RANK and RANK[target] > RANK[own]
    ]
    name = str(path.relative_to(PACKAGE))
    if name in PENDING:
        assert later, f"{name} no longer imports a later layer: remove it from PENDING"
    else:
        assert not later, f"{name} imports a later layer: {later}"


def test_every_module_belongs_to_a_layer() -> None:
    strays = [
        str(p.relative_to(PACKAGE))
        for p in PACKAGE.rglob("*.py")
        if p.relative_to(PACKAGE).parts[0].removesuffix(".py") not in {*RANK, "__init__"}
    ]
    assert not strays
