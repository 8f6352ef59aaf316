"""The command line: `run` writes a complete results folder and prints a KPI table, `validate`
checks and shows a scenario, every command has help with an example, and `--version` works."""

from __future__ import annotations

import json
import shlex
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner, Result
from conftest import SMALL

from channelsim.cli import COMMANDS, main
from channelsim.experiments.replicates import replicate_seeds
from channelsim.model.kpis import KPIS
from channelsim.scenario.loading import load_scenario
from channelsim.storage.results import INCOMPLETE

RUN_CHARTS = {"revenue_by_channel", "customers_and_churn", "conflicts_and_prices"}
RUN_CHARTS |= {"where_the_money_goes"}


@pytest.fixture
def small_file(tmp_path: Path, make_scenario: Any) -> Path:
    """The small scenario, written to YAML as a user would."""
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(make_scenario().model_dump(mode="json"), sort_keys=False))
    return path


def invoke(*args: str) -> Result:
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in result.output
    return result


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Result]:
    """One run shared by the tests that read its folder: 3 replicates of 20 weeks, seed 11."""
    folder = tmp_path_factory.mktemp("run")
    scenario = folder / "small.yaml"
    scenario.write_text(yaml.safe_dump(SMALL, sort_keys=False))
    out = folder / "out"
    args = ["run", str(scenario), "-n", "3", "--seed", "11", "--set", "weeks=20", "--out", str(out)]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sys, "argv", ["channelsim", *args])  # as the console script sees it
        result = invoke(*args)
    assert result.exit_code == 0, result.output
    return scenario, out, result


def test_run_writes_a_manifest_with_scenario_seeds_versions_and_command(
    finished_run: tuple[Path, Path, Result],
) -> None:
    scenario, out, _ = finished_run
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and not (out / INCOMPLETE).exists()
    assert manifest["scenario"] == load_scenario(scenario, ["weeks=20"]).model_dump(mode="json")
    assert manifest["seeds"] == replicate_seeds(11, 3)
    for package in ("channelsim", "mesa", "numpy"):
        assert manifest["versions"][package] == version(package)
    assert manifest["versions"]["python"].count(".") == 2
    args = ["run", str(scenario), "-n", "3", "--seed", "11", "--set", "weeks=20", "--out", str(out)]
    assert manifest["command"] == shlex.join(["channelsim", *args])


def test_run_writes_one_kpi_row_per_replicate_with_its_seed(
    finished_run: tuple[Path, Path, Result],
) -> None:
    _, out, _ = finished_run
    kpis = pd.read_csv(out / "kpis.csv")
    assert kpis["replicate"].tolist() == [0, 1, 2]
    assert kpis["seed"].tolist() == replicate_seeds(11, 3)
    assert set(KPIS) <= set(kpis.columns)


def test_run_writes_weekly_series_per_replicate(finished_run: tuple[Path, Path, Result]) -> None:
    _, out, _ = finished_run
    weekly = pd.read_parquet(out / "timeseries.parquet")
    assert {"replicate", "week", "revenue"} <= set(weekly.columns)
    assert weekly.groupby("replicate")["week"].nunique().tolist() == [20, 20, 20]


def test_run_draws_at_least_the_four_run_charts(finished_run: tuple[Path, Path, Result]) -> None:
    _, out, _ = finished_run
    charts = {p.stem: p for p in (out / "charts").glob("*.png")}
    assert set(charts) >= RUN_CHARTS
    for path in charts.values():
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_run_prints_each_kpi_with_its_mean_and_confidence_interval(
    finished_run: tuple[Path, Path, Result],
) -> None:
    _, out, result = finished_run
    lines = result.stdout.splitlines()
    header = next(line for line in lines if line.startswith("KPI"))
    assert header.split() == ["KPI", "mean", "95%", "CI"]
    kpis = pd.read_csv(out / "kpis.csv")
    printed = {line.split()[0]: line for line in lines if line and line.split()[0] in KPIS}
    assert set(printed) == set(KPIS)
    units = float(printed["units"].split()[1].replace(",", ""))
    # The mean is rounded to two significant figures of its interval's half-width.
    summary = pd.read_csv(out / "summary.csv").set_index("kpi").loc["units"]
    half = (summary["ci_high"] - summary["ci_low"]) / 2
    assert abs(units - kpis["units"].mean()) <= 0.05 * half
    assert f"Results in {out}" in result.stdout


def test_run_without_out_writes_under_results(
    small_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke("run", small_file, "-n", "1", "--weeks", "4", "--quiet")
    assert result.exit_code == 0, result.output
    (folder,) = (tmp_path / "results").iterdir()
    assert folder.name.startswith("small-") and (folder / "manifest.json").is_file()


def test_the_same_seed_gives_the_same_kpis_with_any_number_of_workers(
    small_file: Path, tmp_path: Path
) -> None:
    common = ["run", small_file, "-n", "2", "--weeks", "8", "--quiet", "--seed", "5"]
    assert invoke(*common, "--out", tmp_path / "a").exit_code == 0
    assert invoke(*common, "--workers", "2", "--out", tmp_path / "b").exit_code == 0
    assert invoke(*common[:-1], "6", "--out", tmp_path / "c").exit_code == 0
    a, b, c = (pd.read_csv(tmp_path / x / "kpis.csv") for x in "abc")
    pd.testing.assert_frame_equal(a, b)
    assert not a["seed"].equals(c["seed"])


def test_validate_reports_a_valid_file(small_file: Path) -> None:
    result = invoke("validate", small_file)
    assert result.exit_code == 0
    assert result.stdout == f"{small_file}: valid (small, strategy parallel)\n"


def test_validate_show_prints_the_resolved_scenario(small_file: Path, tmp_path: Path) -> None:
    result = invoke("validate", small_file, "--show", "--set", "market.segments.small.volume=2")
    assert result.exit_code == 0
    shown = tmp_path / "shown.yaml"
    shown.write_text(result.stdout)
    again = load_scenario(shown)
    assert again == load_scenario(small_file, ["market.segments.small.volume=2"])
    assert again.market.segments[1].volume == 2


def test_kpis_lists_every_kpi() -> None:
    result = invoke("kpis")
    assert result.exit_code == 0
    assert [line.split(":")[0] for line in result.stdout.splitlines()[: len(KPIS)]] == list(KPIS)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_has_help_with_an_example(command: str) -> None:
    result = invoke(command, "--help")
    assert result.exit_code == 0
    assert "Example" in result.stdout and f"channelsim {command}" in result.stdout


def test_the_group_help_lists_commands_with_examples() -> None:
    result = invoke("--help")
    assert "Examples:" in result.stdout
    assert all(name in result.stdout for name in main.commands)


def test_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.stdout == f"channelsim, version {version('channelsim')}\n"
