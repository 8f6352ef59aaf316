"""`channelsim report`: one self-contained HTML page that answers the comparison's question."""

from __future__ import annotations

import base64
import json
import re
from html import escape
from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from conftest import SMALL

from channelsim.cli import main
from channelsim.experiments import stats
from channelsim.output import display, report
from channelsim.scenario.loading import deep_merge
from channelsim.storage.results import ResultsDir

# Names and descriptions with characters that mean something in HTML.
TRICKY = 'dealers & "friends" <b>'
DESCRIPTION = "<script>alert('not escaped')</script> reps & dealers"


def run_cli(*args: object):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """A comparison of two small scenarios, written with `compare --report`."""
    scenarios = tmp_path_factory.mktemp("scenarios")
    plain = scenarios / "plain.yaml"
    plain.write_text(yaml.safe_dump(deep_merge(SMALL, {"name": "plain", "weeks": 26})))
    tricky = scenarios / "tricky.yaml"
    settings = {
        "name": TRICKY,
        "description": DESCRIPTION,
        "weeks": 26,
        "strategy": "direct",
        "reps": {"capacity": 20},
    }
    tricky.write_text(yaml.safe_dump(deep_merge(SMALL, settings)))
    out = tmp_path_factory.mktemp("compare") / "out"
    result = run_cli("compare", plain, tricky, "-n", 3, "--out", out, "--quiet", "--report")
    assert result.exit_code == 0, result.output
    assert "report.html" in result.output
    return out


@pytest.fixture(scope="module")
def page(folder) -> str:
    return (folder / "report.html").read_text(encoding="utf-8")


def text_of(html: str) -> str:
    """The page's visible text, roughly: tags dropped, entities kept."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_report_needs_nothing_but_itself(page):
    sources = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert sources, "the report has images"
    assert all(s.startswith("data:image/png;base64,") for s in sources)
    assert "<script" not in page.lower()
    assert "<link" not in page.lower()
    assert "url(" not in page


def test_the_report_embeds_every_chart_once(folder, page):
    pngs = sorted((folder / "charts").glob("*.png"))
    images = re.findall(r'<img src="data:image/png;base64,([^"]+)"', page)
    assert len(images) == len(pngs) > 5
    assert sorted(base64.b64decode(i) for i in images) == sorted(p.read_bytes() for p in pngs)


def test_the_report_names_every_scenario_and_escapes_user_text(page):
    assert "plain" in page
    assert "dealers &amp; &quot;friends&quot; &lt;b&gt;" in page
    assert TRICKY not in page
    assert "&lt;script&gt;alert(" in page
    assert "<script>alert(" not in page


def test_the_report_opens_with_the_question_then_the_answer(page):
    order = [
        "The question",
        "The answer",
        "Settings that differ",
        "What conflicts cost",
        "Results per scenario",
        "Differences to the baseline",
        "Charts",
        "Seeds and versions",
        "How to reproduce it",
    ]
    positions = [page.index(f">{heading}") for heading in order]
    assert positions == sorted(positions)


def test_the_answer_states_differences_from_the_numbers(folder, page):
    differences = pd.read_csv(folder / "differences.csv")
    row = differences[(differences["scenario"] == TRICKY) & (differences["kpi"] == "revenue")]
    answer = text_of(page[page.index(">The answer") : page.index(">Settings that differ")])
    assert "95% CI" in answer
    # The sentence about revenue carries the revenue difference's interval (big numbers).
    low, high = row["ci_low"].item(), row["ci_high"].item()
    assert min(abs(low), abs(high)) >= 1000
    # to the one precision rule: where the interval's half-width has two significant figures
    places = display.interval_places(row["mean_diff"].item(), low, high)
    assert f"95% CI {report._signed(low, places)} to {report._signed(high, places)}" in answer
    assert abs(float(report._signed(low, places).replace(",", "")) - low) <= 0.05 * (high - low)


def test_every_kpi_has_a_row_in_both_tables(folder, page):
    summary = pd.read_csv(folder / "summary.csv")
    tables = page[page.index(">Results per scenario") : page.index(">Charts")]
    for kpi in set(summary["kpi"]):
        assert tables.count(f"<th>{kpi}</th>") == 2, kpi


def test_the_settings_that_differ_are_listed_by_dotted_path(page):
    section = page[page.index(">Settings that differ") : page.index(">How to read")]
    assert "<code>strategy</code>" in section
    assert "<code>reps.capacity</code>" in section
    assert "<code>weeks</code>" not in section  # the same in both scenarios


def test_seeds_versions_and_the_command_come_from_the_manifest(folder, page):
    manifest = json.loads((folder / "manifest.json").read_text())
    assert str(manifest["seeds"][0]) in page
    assert manifest["versions"]["numpy"] in page
    reproduce = page[page.index(">How to reproduce it") :]
    assert manifest["command"].split()[0] in reproduce


def test_report_command_rewrites_the_same_page(folder, page):
    result = run_cli("report", folder)
    assert result.exit_code == 0, result.output
    assert (folder / "report.html").read_text(encoding="utf-8") == page


def test_an_incomplete_folder_gets_no_report(tmp_path):
    ResultsDir(tmp_path / "half").create()
    (tmp_path / "half" / "manifest.json").write_text("{}")
    result = run_cli("report", tmp_path / "half")
    assert result.exit_code == 2
    assert "incomplete" in result.output
    assert not (tmp_path / "half" / "report.html").exists()


def test_a_folder_without_results_gets_a_clear_message(tmp_path):
    result = run_cli("report", tmp_path)
    assert result.exit_code == 2
    assert "no manifest.json" in result.output


# --- the parts, on tables built by hand ------------------------------------------------------


def tables(diff: float, low: float, high: float, p: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    summary = pd.DataFrame(
        {
            "scenario": ["base", "new"],
            "kpi": ["company_profit"] * 2,
            "mean": [1000.0, 1000.0 + diff],
            "ci_low": [900.0, 900.0 + diff],
            "ci_high": [1100.0, 1100.0 + diff],
            "n": [5, 5],
        }
    )
    differences = pd.DataFrame(
        {
            "scenario": ["base", "new"],
            "baseline": ["base", "base"],
            "kpi": ["company_profit"] * 2,
            "mean_diff": [0.0, diff],
            "ci_low": [0.0, low],
            "ci_high": [0.0, high],
            "p_value": [1.0, p],
            "n": [5, 5],
        }
    )
    return summary, differences


def test_a_significant_gain_is_said_with_its_interval():
    summary, differences = tables(2500.0, 1500.0, 3500.0, 0.001)
    sentences = report.headlines(summary, differences, ["base", "new"], "base")
    assert "new earns 2,500 more company profit than base (95% CI +1,500 to +3,500)." in sentences
    assert sentences[0].startswith("new has the highest mean company profit")


def test_a_significant_loss_is_said_as_less():
    summary, differences = tables(-2500.0, -3500.0, -1500.0, 0.001)
    sentences = report.headlines(summary, differences, ["base", "new"], "base")
    assert "new earns 2,500 less company profit than base (95% CI -3,500 to -1,500)." in sentences
    assert sentences[0].startswith("base earns the most company profit")


def test_an_unclear_difference_is_not_called_a_gain():
    summary, differences = tables(200.0, -300.0, 700.0, 0.4)
    sentences = " ".join(report.headlines(summary, differences, ["base", "new"], "base"))
    assert "do not differ clearly in company profit" in sentences
    assert "more company profit" not in sentences


def test_differing_settings_address_named_list_items_by_name():
    first = {"name": "a", "weeks": 52, "segments": [{"name": "smes", "volume": 4}], "r": [1, 2]}
    second = {"name": "b", "weeks": 52, "segments": [{"name": "smes", "volume": 5}], "r": [1, 3]}
    differing = report.differing_settings([first, second])
    assert differing == {"segments.smes.volume": [4, 5], "r": [[1, 2], [1, 3]]}


def test_a_setting_missing_from_one_scenario_counts_as_differing():
    differing = report.differing_settings([{"a": {"b": 1}}, {"a": {}}])
    assert differing == {"a.b": [1, None]}


def test_two_scenarios_without_any_of_a_kpi_are_said_to_have_none():
    summary, differences = tables(0.0, 0.0, 0.0, 1.0)
    summary["mean"] = 0.0
    sentences = report.headlines(summary, differences, ["base", "new"], "base")
    assert "Neither new nor base has any company profit." in sentences


def test_the_report_says_which_intervals_it_shows(page):
    """Bounded intervals: the report names the method (the one every interval is made by)."""
    assert f"Intervals: {escape(stats.METHOD)}." in page
    assert "cut at what the KPI can be" in page
