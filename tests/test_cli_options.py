"""Options that mean the same are spelled the same on every command."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import click
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from conftest import SMALL

from channelsim.cli import common, main


def _write(folder: Path, name: str, **changes) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump({**SMALL, "name": name, **changes}))
    return path


def test_compare_accepts_weeks_like_run(tmp_path: Path) -> None:
    a, b = _write(tmp_path, "a"), _write(tmp_path, "b", strategy="direct")
    out = tmp_path / "out"
    args = ["compare", a, b, "-n", "1", "--weeks", "3", "--out", out, "--quiet"]
    result = CliRunner().invoke(main, [str(x) for x in args])
    assert result.exit_code == 0, result.output
    weeks = pd.read_parquet(out / "timeseries.parquet")["week"]
    assert weeks.nunique() == 3
    manifest = json.loads((out / "manifest.json").read_text())
    assert {s["weeks"] for s in manifest["scenarios"]} == {3}


def test_sweep_accepts_weeks_like_run(tmp_path: Path) -> None:
    a = _write(tmp_path, "a")
    out = tmp_path / "out"
    args = ["sweep", a, "--param", "reps.capacity=10,12", "-n", "1", "--weeks", "2"]
    result = CliRunner().invoke(main, [str(x) for x in [*args, "--out", out, "--quiet"]])
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["definition"]["overrides"] == ["weeks=2"]


def test_the_currency_labels_every_money_row_and_axis(tmp_path: Path) -> None:
    a = _write(tmp_path, "a", currency="EUR")
    b = _write(tmp_path, "b", strategy="direct", currency="EUR")
    out = tmp_path / "out"
    args = ["compare", a, b, "-n", "1", "--weeks", "2", "--out", out, "--quiet"]
    result = CliRunner().invoke(main, [str(x) for x in args])
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line.split()[1] for line in result.stdout.splitlines() if line.split()}
    assert rows["revenue"] == "EUR" and rows["units"] == "units"
    assert json.loads((out / "manifest.json").read_text())["currency"] == "EUR"


def test_scenarios_in_different_currencies_are_not_compared(tmp_path: Path) -> None:
    a = _write(tmp_path, "a", currency="EUR")
    b = _write(tmp_path, "b", currency="CNY")
    result = CliRunner().invoke(main, ["compare", str(a), str(b), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "different currencies ('CNY', 'EUR')" in result.stderr


# Every command and the shared options it takes (None: the option must be absent).
SHARED = ("strict", "weeks", "overrides", "seed", "workers", "scheduler", "out", "resume")
SHARED += ("excel", "quiet", "replicates", "make_report")
TAKES = {
    "run": set(SHARED) - {"scheduler", "make_report"},
    "validate": {"strict", "weeks", "overrides"},
    "compare": set(SHARED) - {"scheduler", "resume"},
    "sweep": set(SHARED) - {"make_report"},
    "sensitivity": set(),
    "optimize": set(SHARED),
    "calibrate": set(SHARED) - {"make_report"},
    "explore": set(SHARED),
    "report": set(),
    "dashboard": {"workers"},
}


def _reference() -> dict[str, click.Parameter]:
    """The shared definitions of cli/common.py, on a command of their own."""

    @click.command()
    @common.strict_option
    @common.weeks_option
    @common.set_option
    @common.seed_option("X", source="X")
    @common.workers_option(auto="X")
    @common.scheduler_option
    @common.out_option("X")
    @common.resume_option("X")
    @common.excel_option
    @common.quiet_option
    @common.replicates_option("X", source="X")
    @common.report_option
    def reference(**_: object) -> None:
        pass

    return {p.name: p for p in reference.params}


def _shape(option: click.Parameter) -> tuple:
    assert isinstance(option, click.Option)
    return (option.opts, option.secondary_opts, option.is_flag, option.multiple, option.metavar)


def _help_pattern(help_text: str) -> str:
    """The shared help with the command's own phrase (the factories' X) and default free."""
    escaped = re.escape(help_text).replace("X", ".+")
    return re.sub(r"default\\ (1|auto)", r"default\\ (\\d+|auto)", escaped)


@pytest.mark.parametrize("name", sorted(TAKES))
def test_shared_options_are_spelled_the_same_on_every_command(name: str) -> None:
    command = main.get_command(click.Context(main), name)
    assert command is not None
    params = {p.name: p for p in command.params}
    reference = _reference()
    assert {n for n in SHARED if n in params} == TAKES[name]
    for option in TAKES[name]:
        mine, shared = params[option], reference[option]
        assert _shape(mine) == _shape(shared), (name, option)
        kind, shared_kind = mine.type.to_info_dict(), shared.type.to_info_dict()
        if option == "replicates":  # calibrate needs two to estimate a variance
            assert kind.pop("min") in (1, 2) and shared_kind.pop("min") == 1
        assert kind == shared_kind, (name, option)
        assert re.fullmatch(_help_pattern(shared.help or ""), mine.help or ""), (name, option)
    # -n is --replicates wherever it appears, and no command spells an option two ways.
    shorts = [o for p in command.params for o in getattr(p, "opts", []) if not o.startswith("--")]
    assert len(shorts) == len(set(shorts))


def test_explore_accepts_weeks_like_run(tmp_path: Path) -> None:
    a, b = _write(tmp_path, "a"), _write(tmp_path, "b", strategy="direct")
    out = tmp_path / "out"
    args = ["explore", a, b, "--uncertain", "dealers.reach=0.2:0.4", "--samples", "2"]
    args += ["-n", "1", "--weeks", "2", "--out", out, "--quiet"]
    result = CliRunner().invoke(main, [str(x) for x in args])
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["definition"]["overrides"] == ["weeks=2"]


def test_validate_accepts_weeks_like_run(tmp_path: Path) -> None:
    a = _write(tmp_path, "a")
    result = CliRunner().invoke(main, ["validate", str(a), "--weeks", "7", "--show"])
    assert result.exit_code == 0, result.output
    assert "\nweeks: 7\n" in result.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["explore", "x.yaml", "--samples", "5000000000"], "Invalid value for '--samples'"),
        (["run"], "Missing argument 'SCENARIO'. (see channelsim run --help)"),
        (["runn"], "No such command 'runn'; did you mean 'run'? (see channelsim --help)"),
        (["optimise"], "No such command 'optimise'; did you mean 'optimize'?"),
        (["xyzzy"], "No such command 'xyzzy'. (see channelsim --help)"),
        (["--bogus"], "No such option '--bogus'"),
        (["run", "x.yaml", "--workers", "0"], "0 is not in the range 1<=x<=512"),
        (["compare", "x.yaml", "--workers", "many"], "'many' is not a whole number or 'auto'"),
    ],
)
def test_a_wrong_option_or_argument_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    """Before, click printed its usage text above the error: three lines."""
    result = CliRunner().invoke(main, args, prog_name="channelsim")
    assert result.exit_code == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("Error: ") and message in line


def test_channelsim_alone_prints_its_help_and_exits_0() -> None:
    result = CliRunner().invoke(main, [], prog_name="channelsim")
    assert result.exit_code == 0
    assert result.stdout.startswith("Usage: channelsim") and "Error" not in result.output


def test_a_reader_that_stops_reading_is_no_error_of_the_input() -> None:
    """`channelsim validate X | head -1`: the pipe's reader is gone before anything is
    written (its end is closed before the command starts), as when head has had its line."""
    read, write = os.pipe()
    os.close(read)
    scenario = str(Path(__file__).resolve().parents[1] / "scenarios" / "parallel.yaml")
    try:
        done = subprocess.run(
            [sys.executable, "-m", "channelsim", "validate", scenario],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
    finally:
        os.close(write)
    assert done.returncode == 1  # click's exit for a closed stdout, as for any click tool
    assert "Error" not in done.stderr and "Traceback" not in done.stderr
