"""The dashboard in a real browser: `channelsim dashboard` on a free loopback port, driven by
Debian's headless Chromium through Playwright (never a downloaded browser).

Run, change a lever, run again: the KPI table changes; the downloaded settings file and
workbook are those of `channelsim compare` on the same settings; an uploaded file is
picked. The page must raise no console error and no Python exception, and load nothing
from anywhere but the server (Streamlit serves its own assets, so the dashboard works
offline). A screenshot is left in the test's folder.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import openpyxl
import pytest
import yaml
from conftest import SMALL

import channelsim

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin"),
]
playwright = pytest.importorskip("playwright.sync_api", reason="needs playwright (pip)")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    """`channelsim dashboard small.yaml` on a free port; stopped (its process group) after."""
    scenario = tmp_path / "small.yaml"
    scenario.write_text(yaml.safe_dump({**SMALL, "weeks": 13, "replicates": 2}))
    port = free_port()
    command = [
        sys.executable, "-c", "from channelsim.cli import main; main()",
        "dashboard", str(scenario), "--port", str(port), "--workers", "1", "--no-browser",
    ]  # fmt: skip
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen(
        command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            assert process.poll() is None, (tmp_path / "server.log").read_text()
            assert time.monotonic() < deadline, "the dashboard did not start in 60 s"
            time.sleep(0.3)
        yield url, scenario
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()


def settled(page) -> None:
    """Wait until the script run has finished: Streamlit sends a page's elements as they are
    drawn, so an element further down can still be the previous run's."""
    page.wait_for_timeout(300)
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="detached", timeout=120_000)


def kpi_means(page, column: str) -> dict[str, float]:
    """KPI -> mean of one column of the KPI table (the first table after the changes)."""
    table = page.locator('[data-testid="stTable"]', has_text="company_profit").first
    head = [h.inner_text().strip() for h in table.locator("thead th").all()]
    index = head.index(column)
    means = {}
    for row in table.locator("tbody tr").all():
        cells = [c.inner_text().strip() for c in row.locator("th, td").all()]
        # "mean ± half-width", or "mean [low, high]" where the interval is cut at a bound
        number = cells[index].split("±")[0].split("[")[0].strip(" *").replace(",", "")
        if number not in ("", "-"):
            means[cells[0]] = float(number)
    return means


def test_change_a_lever_run_and_see_the_table_change(server, tmp_path):
    url, scenario = server
    problems: list[str] = []
    hosts: set[str] = set()
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1500, "height": 1100}, accept_downloads=True)
        page.on("console", lambda m: m.type == "error" and problems.append(m.text))
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("request", lambda r: hosts.add(r.url.split("/")[2]))
        try:
            page.goto(url)
            page.get_by_text("Levers of small").wait_for(timeout=120_000)
            page.get_by_role("button", name="Run", exact=True).click()
            page.get_by_text("small (baseline)").first.wait_for(timeout=120_000)
            settled(page)
            before = kpi_means(page, "small (baseline)")
            downloads = page.locator("[class*=st-key-downloads-]").get_attribute("class")

            page.locator("summary", has_text=re.compile(r"_right\s*reps$")).click()
            headcount = page.locator("input[aria-label*=headcount]")  # label may be highlighted
            headcount.fill("2")
            headcount.press("Enter")
            page.get_by_text("Changed settings").wait_for(timeout=120_000)
            assert headcount.is_visible()  # the section stays open while its title changes
            page.get_by_role("button", name="Run", exact=True).click()
            page.locator("thead th", has_text="small-edited").first.wait_for(timeout=120_000)
            settled(page)
            page.wait_for_function(  # the download buttons of the new results have arrived
                "old => { const e = document.querySelector('[class*=st-key-downloads-]');"
                " return e !== null && e.className !== old; }",
                arg=downloads,
                timeout=120_000,
            )
            after = kpi_means(page, "small-edited")
            baseline_again = kpi_means(page, "small (baseline)")

            with page.expect_download() as download:
                page.get_by_role("button", name=re.compile("Download these settings")).click()
            saved = tmp_path / "small-edited.yaml"
            download.value.save_as(saved)
            with page.expect_download(timeout=120_000) as workbook:
                page.get_by_role("button", name="Download the Excel workbook").click()
            workbook.value.save_as(tmp_path / "results.xlsx")
            with page.expect_download(timeout=120_000) as report:
                page.get_by_role("button", name="Download the HTML report").click()
            report.value.save_as(tmp_path / "report.html")
            page.set_viewport_size({"width": 1500, "height": 5200})  # the page scrolls inside
            page.evaluate(  # back to the top: the downloads scrolled the main area down
                "for (const e of document.querySelectorAll('*')) if (e.scrollTop) e.scrollTop = 0"
            )
            page.wait_for_timeout(1000)
            page.screenshot(path=str(tmp_path / "dashboard.png"))

            upload = tmp_path / "mine.yaml"
            upload.write_text(yaml.safe_dump({**SMALL, "name": "mine", "weeks": 13}))
            page.locator("input[type=file]").set_input_files(str(upload))
            page.get_by_text("Levers of mine").wait_for(timeout=120_000)
            exceptions = page.locator('[data-testid="stException"]').count()
        finally:
            browser.close()

    assert problems == []
    assert exceptions == 0
    assert hosts == {url.split("/")[2]}  # every asset from the dashboard's own server
    assert baseline_again == before
    assert after["reps_active"] <= 2 < before["reps_active"]
    assert after != before
    edited, original = channelsim.load_scenario(saved), channelsim.load_scenario(scenario)
    assert edited.reps.headcount == 2
    assert edited.model_dump(exclude={"name", "reps"}) == original.model_dump(
        exclude={"name", "reps"}
    )
    assert "small vs small-edited" in (tmp_path / "report.html").read_text()
    summary = openpyxl.load_workbook(tmp_path / "results.xlsx")["Summary"]
    assert (summary["B4"].value, summary["F4"].value) == ("small (baseline)", "small-edited")
    # The same workbook from `channelsim.compare` on the downloaded files, in a fresh process
    # (no state of earlier tests in this one).
    expected = tmp_path / "expected.xlsx"
    script = (
        "import sys, channelsim; a, b = map(channelsim.load_scenario, sys.argv[1:3]); "
        "open(sys.argv[3], 'wb').write(channelsim.workbook("
        "channelsim.compare([a, b], replicates=2, seed=a.seed)))"
    )
    subprocess.run([sys.executable, "-c", script, scenario, saved, expected], check=True)
    assert (tmp_path / "results.xlsx").read_bytes() == expected.read_bytes()
