"""Two mistakes a new user makes, each answered in one plain line with exit code 2: giving a
sweep file to a command that takes a scenario, and indenting a YAML line wrongly."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import SCENARIOS

from channelsim.cli import main

SWEEP = SCENARIOS / "sweeps" / "commission_x_engagement.yaml"


OUT = ["--out", "{out}"]


@pytest.mark.parametrize(
    "args",
    [
        ["validate", SWEEP],
        ["run", SWEEP, *OUT],
        ["compare", SWEEP, SCENARIOS / "direct.yaml", *OUT],
    ],
    ids=["validate", "run", "compare"],
)
def test_a_sweep_file_given_for_a_scenario_points_to_channelsim_sweep(args, tmp_path) -> None:
    out = tmp_path / "o"
    result = CliRunner().invoke(main, [str(a).format(out=out) for a in args])
    assert result.exit_code == 2
    message = result.stderr.strip()
    assert message == (
        f"Error: {SWEEP}: this is a sweep file (it has 'params:'), not a scenario; "
        f"use channelsim sweep {SWEEP}"
    )
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("name: x\nmarket:\n  regions: []\n   segments: []\n", 4, "the indentation does not match"),
        (
            "name: x\nreps:\n  headcount: 3\n    capacity: 4\n",
            4,
            "indented further than the line above",
        ),
        ("name: x\nreps:\n\theadcount: 3\n", 3, "YAML is indented with spaces, never tabs"),
    ],
    ids=["sibling", "deeper", "tab"],
)
def test_an_indentation_error_names_the_line_in_plain_words(
    tmp_path: Path, text: str, line: int, words: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: {path}, line {line}: ")
    assert words in lines[0]
