"""No function is longer than it needs to be to read as one idea.

A function's length is the lines of its body after the docstring: a typed signature with
many options, or a docstring that explains, costs nothing. Beyond LIMIT lines a function
is split into named steps, or listed in LONG with the reason it is one idea (or who is
splitting it). Each entry must still be over the limit, so the list cannot outlive its
reason.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "channelsim"
LIMIT = 60

LONG = {
    "output/charts.py:differences_to_baseline": "a chart module: split with the chart work",
    "experiments/calibration.py:_profiles": "calibration moves onto experiments/study.py",
    "experiments/calibration.py:calibrate": "calibration moves onto experiments/study.py",
    "dashboard/app.py:main": "the Streamlit page: its widgets from top to bottom",
    "cli/sweep.py:sweep_command": "a command: options, progress bar, the API call, messages",
    "cli/optimize.py:optimize_command": "a command: options, progress bar, the API call, messages",
    "experiments/validation.py:own_costs": "one validation case: its list of checks",
}


def body_lines(function: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    body = function.body
    first = body[0]
    if len(body) > 1 and isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
        first = body[1]  # after the docstring
    return function.end_lineno - first.lineno + 1


def functions(node: ast.AST, prefix: str = "") -> list[tuple[str, int]]:
    """(Class.function, body lines) of every function and method under `node`."""
    out = []
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
            out.append((prefix + child.name, body_lines(child)))
            out += functions(child, f"{prefix}{child.name}.")
        elif isinstance(child, ast.ClassDef):
            out += functions(child, f"{prefix}{child.name}.")
    return out


def lengths() -> dict[str, int]:
    """'module:Class.function' -> body lines, for every function and method in the package."""
    return {
        f"{path.relative_to(PACKAGE).as_posix()}:{name}": n
        for path in sorted(PACKAGE.rglob("*.py"))
        for name, n in functions(ast.parse(path.read_text(encoding="utf-8")))
    }


def test_no_function_is_longer_than_one_idea_needs() -> None:
    long = {name: n for name, n in lengths().items() if n > LIMIT and name not in LONG}
    assert not long, f"functions over {LIMIT} lines: split them into named steps: {long}"


def test_every_listed_exception_is_still_long() -> None:
    found = lengths()
    stale = [name for name in LONG if found.get(name, 0) <= LIMIT]
    assert not stale, f"no longer over {LIMIT} lines (or gone): remove from LONG: {stale}"
