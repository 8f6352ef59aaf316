"""results.xlsx: the summary laid out as the terminal table, the tables behind it, native
charts, the same bytes for the same results, and `--excel` on run, compare, sweep and
optimize."""

from __future__ import annotations

import io
import json
import math
import shutil
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
    assert "results.xlsx" in json.loads((out / "manifest.json").read_text())["files"]


# --- optimize --excel ------------------------------------------------------------------------

VALIDATION = Path(__file__).resolve().parents[1] / "scenarios" / "validation"
LOGIT = {"weeks": 4, "market.segments.0.customers": 400}
LEVERS = {"pricing.flattened_price": "0.3:0.8:11", "pricing.list_price": "0.3:0.8:11"}


def rows(sheet, first: int = 1):
    return list(sheet.iter_rows(min_row=first, values_only=True))


def same(cell, value) -> bool:
    """A cell holds the table's value: NaN and "" as an empty cell, numbers to 15 digits
    (Excel's precision; XlsxWriter writes 16 significant digits)."""
    if (isinstance(value, float) and math.isnan(value)) or value == "":
        return cell is None
    if isinstance(value, float) and not isinstance(value, bool):
        return cell == pytest.approx(value, rel=1e-15, abs=1e-300)
    return cell == value


@pytest.fixture(scope="module")
def optimised(tmp_path_factory):
    """`optimize --excel` on a noisy two-lever market (logit demand), with a constraint."""
    out = tmp_path_factory.mktemp("opt") / "opt"
    result = CliRunner().invoke(main, [*OPTIMIZE, "--out", str(out), "-q", "--excel"])
    assert result.exit_code == 0, result.output
    assert f"Excel: {out / 'results.xlsx'}" in result.output
    return out


def optimize_args() -> list[str]:
    args = ["optimize", str(VALIDATION / "logit.yaml")]
    args += [f"--set={k}={v}" for k, v in LOGIT.items()]
    args += [f"--param={k}={v}" for k, v in LEVERS.items()]
    args += ["--objective", "company_profit:max", "--constraint", "units>=100"]
    return [*args, "--replicates", "2", "--confirm", "3", "--seed", "1", "--trials"]


OPTIMIZE = [*optimize_args(), "8"]


def test_optimize_excel_adds_the_workbook_to_the_complete_folder(optimised):
    from channelsim.storage.results import ResultsDir

    manifest = json.loads((optimised / "manifest.json").read_text())
    assert ResultsDir(optimised).is_complete and manifest["status"] == "complete"
    assert "results.xlsx" in manifest["files"]
    workbook = book((optimised / "results.xlsx").read_bytes())
    assert workbook.sheetnames == [
        "Summary", "Trials", "Confirmation", "Settings", "Importance", "Charts", "Chart data"
    ]  # fmt: skip


def test_the_optimize_summary_is_the_terminal_answer(optimised):
    import pandas as pd

    manifest = json.loads((optimised / "manifest.json").read_text())
    trials = pd.read_parquet(optimised / "trials.parquet").set_index("trial")
    [best] = manifest["best_trials"]
    sheet = rows(book((optimised / "results.xlsx").read_bytes())["Summary"])
    assert sheet[0][0] == "channelsim optimize: logit: company_profit:max"
    assert sheet[1][0].startswith("8 trials (8 complete, ")
    assert sheet[3][0] == "Best trial, mean of 2 replicates:"
    header = [c for c in sheet[4] if c is not None]
    assert header == ["trial", *LEVERS, "company_profit", "units", "violation: units>=100"]
    shown = dict(zip(header, sheet[5], strict=False))
    assert shown["trial"] == best
    for column in header[1:]:
        assert same(shown[column], trials.loc[best, column]), column
    given = dict(zip(header, sheet[6], strict=False))
    assert given["trial"] == "scenario as given"
    assert same(given["company_profit"], manifest["start"]["company_profit"])
    assert same(given["units"], manifest["start"]["units"])

    confirm = pd.read_csv(optimised / "confirm.csv")
    assert sheet[8][0].startswith("Confirmed on 3 fresh seeds")
    assert sheet[9][:4] == ("candidate", "KPI", "search mean", "confirmed mean")
    table = sheet[10 : 10 + len(confirm)]
    for line, expected in zip(table, confirm.itertuples(index=False), strict=True):
        assert line[:6] == (
            expected.candidate, expected.kpi, pytest.approx(expected.search_mean),
            pytest.approx(expected.mean), pytest.approx(expected.ci_low),
            pytest.approx(expected.ci_high),
        )  # fmt: skip
        if expected.trial >= 0:
            assert line[6] == pytest.approx(expected.diff_to_start)
            assert (line[10] or "") == ("*" if expected.p_value < 0.05 else "")
        else:
            assert line[6] is None and not line[10]  # the scenario minus itself: nothing
    assert sheet[10 + len(confirm) + 1][0] == "Notes"
    notes = [r[0] for r in sheet[10 + len(confirm) + 2 :]]
    assert notes == manifest["notes"]
    assert any(n.startswith(f"winner's curse: trial {best} company_profit") for n in notes)


def test_the_optimize_sheets_hold_the_folders_tables(optimised):
    import pandas as pd

    workbook = book((optimised / "results.xlsx").read_bytes())
    for name, table in (
        ("Trials", pd.read_parquet(optimised / "trials.parquet")),
        ("Confirmation", pd.read_csv(optimised / "confirm.csv")),
        ("Importance", pd.read_csv(optimised / "importance.csv")),
    ):
        sheet = rows(workbook[name], first=2)
        assert list(sheet[0]) == list(table.columns), name
        assert len(sheet) == 1 + len(table), name
        for line, expected in zip(sheet[1:], table.itertuples(index=False), strict=True):
            assert all(same(c, v) for c, v in zip(line, expected, strict=True)), (name, line)

    best = channelsim.load_scenario(optimised / "best.yaml")
    given = channelsim.load_scenario(VALIDATION / "logit.yaml", LOGIT)
    settings = {r[0]: r[1:] for r in rows(workbook["Settings"], first=3)}
    assert settings and set(settings) <= set(LEVERS)  # an unchanged lever is not listed
    for path, (before, after) in settings.items():
        section, key = path.split(".")
        assert before == getattr(getattr(given, section), key)
        assert after == getattr(getattr(best, section), key)


def test_the_optimize_workbook_is_the_same_bytes_from_the_api_and_has_native_charts(optimised):
    given = channelsim.load_scenario(VALIDATION / "logit.yaml", LOGIT)
    found = channelsim.optimize(
        given, LEVERS, "company_profit:max", ["units>=100"], trials=8, replicates=2,
        seed=1, confirm=3,
    )  # fmt: skip
    data = channelsim.workbook(found)
    assert data == (optimised / "results.xlsx").read_bytes()  # another process, same bytes
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert len([n for n in names if n.startswith("xl/charts/chart")]) == 2  # by trial, confirmed


def test_a_pareto_workbook_holds_the_pareto_set_and_its_front(tmp_path):
    import pandas as pd

    integrated = channelsim.load_scenario(
        VALIDATION / "integrated.yaml", {"pricing.policy.list_price": "fixed"}
    )
    found = channelsim.optimize(
        integrated, {"pricing.list_price": "0.3:0.9:61"}, ["company_profit:max", "units:max"],
        trials=12, replicates=1, seed=1, confirm=1, out=tmp_path / "mo",
    )  # fmt: skip
    data = channelsim.workbook(found)
    assert channelsim.workbook(found) == data
    workbook = book(data)
    pareto = pd.read_csv(tmp_path / "mo" / "pareto.csv")
    sheet = rows(workbook["Pareto set"], first=3)
    assert [r[0] for r in sheet] == pareto["trial"].tolist() and len(pareto) > 1
    summary = rows(workbook["Summary"])
    assert summary[3][0].startswith(f"Pareto set ({len(pareto)} trials, by company_profit)")
    shown = [r[0] for r in summary[5 : 5 + len(pareto)]]
    assert shown == found.best["trial"].tolist()  # best first on company_profit
    assert sorted(shown) == sorted(pareto["trial"])
    profits = [r[2] for r in summary[5 : 5 + len(pareto)]]
    assert profits == sorted(profits, reverse=True)
    charts = [n for n in zipfile.ZipFile(io.BytesIO(data)).namelist() if "charts/chart" in n]
    assert len(charts) == 4  # two objectives by trial, the Pareto front, search vs confirmed
    front = zipfile.ZipFile(io.BytesIO(data)).read("xl/charts/chart3.xml").decode()
    assert "Pareto front: units against company_profit" in front


def test_a_continued_optimisation_drops_the_workbook_of_the_old_answer(optimised, tmp_path):
    out = tmp_path / "opt"
    shutil.copytree(optimised, out)

    def resume(trials: str, *extra: str) -> None:
        args = [*optimize_args(), trials, "--out", str(out), "--resume", "-q", *extra]
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output

    resume("9")
    assert not (out / "results.xlsx").exists()  # it held the answer of 8 trials
    resume("10", "--excel")
    assert len(rows(book((out / "results.xlsx").read_bytes())["Trials"], first=3)) == 10


# --- explore and calibrate ------------------------------------------------------------------


def test_explore_excel_says_the_recommendation_and_holds_the_folders_tables(tmp_path):
    import pandas as pd
    from conftest import SMALL

    paths = []
    for name, strategy in [("parallel", "parallel"), ("direct", "direct")]:
        paths.append(tmp_path / f"{name}.yaml")
        paths[-1].write_text(yaml.safe_dump({**SMALL, "name": name, "strategy": strategy}))
    out = tmp_path / "out"
    args = [*map(str, paths), "--uncertain", "dealers.reach=0.1:0.6", "--samples", "6"]
    args += ["-n", "1", "--weeks", "6", "--out", str(out), "-q", "--excel"]
    result = CliRunner().invoke(main, ["explore", *args])
    assert result.exit_code == 0, result.output
    assert f"Excel: {out / 'results.xlsx'}" in result.output
    assert "results.xlsx" in json.loads((out / "manifest.json").read_text())["files"]
    workbook = book((out / "results.xlsx").read_bytes())
    assert workbook.sheetnames == [
        "Summary", "Robustness", "Outcomes", "Boxes", "Importance", "Runs"
    ]  # fmt: skip
    summary = [r[0] or "" for r in rows(workbook["Summary"])]
    assert summary[0] == "channelsim explore: parallel, direct"
    printed = result.output.splitlines()  # the terminal's answer, without its robustness
    plan = next(i for i, line in enumerate(printed) if line.startswith("2 scenarios x 6 points"))
    answer = printed[plan + 1 : printed.index(f"Results in {out}") - 1]  # table (a sheet)
    table = next(i for i, line in enumerate(answer) if line.startswith("Robustness on "))
    where = next(i for i, line in enumerate(answer) if line.startswith("Where: "))
    assert summary[2:] == answer[: table - 1] + answer[where - 1 :]
    assert any(line.startswith("Recommended: ") for line in summary)
    again = CliRunner().invoke(main, ["explore", *args[:-1], "--resume", "--decide", "mean"])
    assert again.exit_code == 0, again.output  # analysed again without --excel:
    assert not (out / "results.xlsx").exists()  # the old answer's workbook is gone
    assert "results.xlsx" not in json.loads((out / "manifest.json").read_text())["files"]
    assert CliRunner().invoke(main, ["explore", *args, "--resume"]).exit_code == 0
    scenarios = [channelsim.load_scenario(p, ["weeks=6"]) for p in paths]
    again = channelsim.explore(scenarios, {"dealers.reach": "0.1:0.6"}, samples=6, replicates=1)
    assert channelsim.workbook(again) == (out / "results.xlsx").read_bytes()
    for sheet, table in [("Robustness", "robustness.csv"), ("Outcomes", "outcomes.csv")]:
        expected = pd.read_csv(out / table)
        shown = rows(workbook[sheet])
        assert shown[1] == tuple(expected.columns)
        assert len(shown) == 2 + len(expected)
        for line, want in zip(shown[2:], expected.itertuples(index=False), strict=True):
            assert all(same(c, v) for c, v in zip(line, want, strict=True)), (sheet, line)


def test_calibrate_excel_gives_the_estimates_and_the_fit_first(tmp_path):
    import pandas as pd
    from test_calibration import PARALLEL, TINY, _nested

    scenario = tmp_path / "s.yaml"
    scenario.write_text(yaml.safe_dump({"extends": str(PARALLEL), **_nested(TINY)}))
    observed = tmp_path / "observed.yaml"
    observed.write_text("targets:\n  market_share: {value: 0.6, se: 0.05}\n")
    out = tmp_path / "out"
    args = ["calibrate", str(scenario), "--observed", str(observed), "--param"]
    args += ["dealers.reach=0.1:0.6", "--replicates", "2", "--batch", "4"]
    args += ["--profile-points", "3", "--out", str(out), "-q", "--excel"]
    result = CliRunner().invoke(main, [*args, "--trials", "4"])
    assert result.exit_code == 0, result.output
    assert "results.xlsx" in json.loads((out / "manifest.json").read_text())["files"]
    workbook = book((out / "results.xlsx").read_bytes())
    assert workbook.sheetnames == ["Summary", "Parameters", "Fit", "Trials", "Profiles"]
    sheet = rows(workbook["Summary"])
    parameters, fit = pd.read_csv(out / "parameters.csv"), pd.read_csv(out / "fit.csv")
    assert sheet[3][:5] == ("parameter", "estimate", "ci_low", "ci_high", "identified")
    [estimate] = parameters.itertuples(index=False)
    assert sheet[4][0] == estimate.parameter == "dealers.reach"
    assert sheet[4][1] == pytest.approx(estimate.estimate, rel=1e-12)
    assert sheet[4][4] is bool(estimate.identified)
    assert sheet[6] == ("kpi", "observed", "simulated", "ci_low", "ci_high", "z")
    assert sheet[7][:3] == ("market_share", 0.6, pytest.approx(fit["simulated"].item()))
    assert len(rows(workbook["Trials"])) == 2 + 4
    again = channelsim.calibrate(
        scenario, observed, ["dealers.reach=0.1:0.6"], trials=4, replicates=2, batch=4,
        profile_points=3,
    )  # fmt: skip
    assert channelsim.workbook(again) == (out / "results.xlsx").read_bytes()
    more = CliRunner().invoke(main, [*args[:-1], "--trials", "5", "--resume"])
    assert more.exit_code == 0, more.output  # continued without --excel: the old one is gone
    assert not (out / "results.xlsx").exists()
