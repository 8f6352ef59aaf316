"""The report renders in a real browser: headless Chromium loads every image, with no errors.

A copy of the page gets two small scripts: one at the top of <head> that records errors
(uncaught exceptions, resources that fail to load, console.error), one that on `load` writes
what it found into a <pre> node. Chromium's `--dump-dom` prints the page after `load`, and
its stderr log carries every console message. The report itself has no scripts.
"""

from __future__ import annotations

import html
import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from channelsim.cli import main

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin"),
]

RECORD_ERRORS = """<script>
window.__errors = [];
window.addEventListener("error", function (e) {
  var what = e.message || ("failed to load " + (e.target && e.target.tagName));
  window.__errors.push(String(what));
}, true);
var __consoleError = console.error;
console.error = function () {
  window.__errors.push(Array.prototype.join.call(arguments, " "));
  __consoleError.apply(console, arguments);
};
</script>"""

REPORT_CHECK = """<script>
window.addEventListener("load", function () {
  var images = Array.prototype.slice.call(document.images);
  var broken = images.filter(function (i) { return !(i.complete && i.naturalWidth > 0); });
  var out = document.createElement("pre");
  out.id = "browser-check";
  out.textContent = JSON.stringify({
    images: images.length,
    broken: broken.map(function (i) { return i.alt; }),
    errors: window.__errors
  });
  document.body.appendChild(out);
});
</script>"""


def check_in_chromium(page: Path, work: Path) -> tuple[dict, list[str]]:
    """Open a checked copy of `page`; return what the page saw and Chromium's console lines."""
    text = page.read_text(encoding="utf-8")
    text = text.replace("<head>", "<head>" + RECORD_ERRORS, 1)
    text = text.replace("</body>", REPORT_CHECK + "</body>", 1)
    checked = work / f"checked-{page.name}"
    checked.write_text(text, encoding="utf-8")
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={work / 'chromium-profile'}",
        "--enable-logging=stderr",
        "--v=0",
        "--dump-dom",
        checked.as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    found = re.search(r'<pre id="browser-check">(.*?)</pre>', done.stdout, re.DOTALL)
    assert found, (
        f"Chromium printed no check result (exit {done.returncode}): {done.stderr[-2000:]}"
    )
    console = [
        line for line in done.stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line
    ]
    return json.loads(html.unescape(found.group(1))), console


def test_the_report_renders_with_every_image_and_no_errors(make_scenario, tmp_path):
    files = []
    for name, strategy in (("parallel_small", "parallel"), ("direct_small", "direct")):
        scenario = make_scenario(name=name, strategy=strategy, weeks=26)
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump(scenario.model_dump(mode="json")))
        files.append(path)
    out = tmp_path / "out"
    args = ["compare", *map(str, files), "-n", "2", "--out", str(out), "--quiet", "--report"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output

    seen, console = check_in_chromium(out / "report.html", tmp_path)

    assert seen["images"] == len(list((out / "charts").glob("*.png"))) > 5
    assert seen["broken"] == []
    assert seen["errors"] == []
    assert console == []


ONE_PIXEL_GIF = "R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"


def test_the_check_catches_a_broken_image_and_a_script_error(tmp_path):
    """The check itself can fail: a page with a broken image and a failing script."""
    page = tmp_path / "broken.html"
    page.write_text(
        "<!DOCTYPE html><html><head><title>t</title></head><body>"
        f'<img alt="good" src="data:image/gif;base64,{ONE_PIXEL_GIF}">'
        '<img alt="bad" src="data:image/png;base64,AAAA">'
        "<script>noSuchFunction();</script></body></html>",
        encoding="utf-8",
    )
    seen, console = check_in_chromium(page, tmp_path)
    assert seen["images"] == 2
    assert seen["broken"] == ["bad"]
    assert any("noSuchFunction" in e for e in seen["errors"])
    assert any("Uncaught" in line for line in console)
