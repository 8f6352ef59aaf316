"""results.xlsx: the summary laid out as the terminal table, the tables behind it, native
charts, the same bytes for the same results, and `--excel` on run, compare and sweep."""

from __future__ import annotations

import io
import json
import math
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest
import yaml
from click.testing import CliRunner

import channelsim
from channelsim.cli import main


@pytest.fixture(scope="module")
def comparison():
    from conftest import SMALL

    from channelsim.scenario.loading import deep_merge, validate

    def make(**settings):
        return validate(deep_merge(SMALL, {"weeks": 26, **settings}), source="test")

    return channelsim.compare(
        [make(name="parallel"), make(name="direct", strategy="direct")], replicates=3, seed=5
    )


def book(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def test_the_summary_sheet_is_the_terminal_table(comparison):
    sheet = book(channelsim.workbook(comparison))["Summary"]
    assert sheet["B4"].value == "parallel (baseline)" and sheet["F4"].value == "direct"
    assert [c.value for c in sheet[5]][1:5] == ["mean", "95% CI low", "95% CI high", "sig."]
    summary = comparison.summary.set_index(["kpi", "scenario"])
    p_values = comparison.differences.set_index(["kpi", "scenario"])["p_value"]
    rows = list(sheet.iter_rows(min_row=6, values_only=True))
    assert [r[0] for r in rows] == list(dict.fromkeys(comparison.summary["kpi"]))
    starred = set()
    for row in rows:
        kpi = row[0]
        for j, name in enumerate(["parallel", "direct"]):
            mean, low, high, mark = row[1 + 4 * j : 5 + 4 * j]
            expected = summary.loc[(kpi, name)]
            for cell, key in ((mean, "mean"), (low, "ci_low"), (high, "ci_high")):
                if math.isnan(expected[key]):
                    assert cell is None  # an empty cell, as "-" in the terminal
                else:
                    assert cell == pytest.approx(expected[key])
            if mark == "*":
                starred.add((kpi, name))
    assert starred == {(k, s) for (k, s), p in p_values.items() if s == "direct" and p < 0.05}
    assert len(starred) > 3  # direct and parallel differ clearly in several KPIs


def test_the_other_sheets_hold_replicates_weekly_series_differences_and_settings(comparison):
    workbook = book(channelsim.workbook(comparison))
    expected = ["Summary", "Differences", "Replicates", "Weekly", "Settings", "Charts"]
    assert workbook.sheetnames[:6] == expected
    assert workbook["Replicates"].max_row == 2 + len(comparison.kpis)  # note and header rows
    assert workbook["Weekly"].max_row == 2 + len(comparison.weekly)
    assert workbook["Differences"].max_row == 2 + len(comparison.differences)
    settings = {r[0]: r[1:] for r in workbook["Settings"].iter_rows(min_row=3, values_only=True)}
    assert settings["strategy"] == ("parallel", "direct")
    assert "reps.headcount" not in settings  # the same in both


def test_the_workbook_has_native_charts(comparison):
    names = zipfile.ZipFile(io.BytesIO(channelsim.workbook(comparison))).namelist()
    assert len([n for n in names if n.startswith("xl/charts/chart")]) == 4


def test_the_same_results_give_the_same_bytes(comparison):
    first = channelsim.workbook(comparison)
    time.sleep(1.1)  # a clock in the file would now differ
    assert channelsim.workbook(comparison) == first
    core = zipfile.ZipFile(io.BytesIO(first)).read("docProps/core.xml").decode()
    assert "2000-01-01T00:00:00Z" in core


def small_file(tmp_path: Path, name: str, **settings) -> Path:
    from conftest import SMALL

    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump({**SMALL, "name": name, "weeks": 13, **settings}))
    return path


def test_run_and_compare_write_results_xlsx_and_list_it_in_the_manifest(tmp_path, monkeypatch):
    from test_dashboard import without_charts

    without_charts(monkeypatch)
    a, b = small_file(tmp_path, "a"), small_file(tmp_path, "b", strategy="direct")
    for args, out in (
        (["run", a, "-n", "2"], tmp_path / "run"),
        (["compare", a, b, "-n", "2"], tmp_path / "compare"),
    ):
        result = CliRunner().invoke(main, [*map(str, args), "--out", str(out), "-q", "--excel"])
        assert result.exit_code == 0, result.output
        assert book((out / "results.xlsx").read_bytes())["Summary"]["A6"].value == "revenue"
        manifest = json.loads((out / "manifest.json").read_text())
        assert "results.xlsx" in manifest["files"]


def test_sweep_writes_a_row_per_point_and_a_chart_of_the_swept_lever(tmp_path):
    out = tmp_path / "sweep"
    args = ["sweep", str(small_file(tmp_path, "a")), "--param", "reps.commission.rate=0.02:0.08:3"]
    args += ["-n", "2", "--out", str(out), "-q", "--excel"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    data = (out / "results.xlsx").read_bytes()
    rows = list(book(data)["Summary"].iter_rows(min_row=2, values_only=True))
    assert rows[0][:2] == ("point", "reps.commission.rate")
    assert [r[1] for r in rows[1:4]] == [0.02, 0.05, 0.08]
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert any(n.startswith("xl/charts/chart") for n in names)
