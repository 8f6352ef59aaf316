"""Options that mean the same are spelled the same on every command."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import yaml
from click.testing import CliRunner
from conftest import SMALL

from channelsim.cli import main


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
