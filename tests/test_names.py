"""Names and text: folder names cut by bytes, control and bidirectional-override characters
escaped when printed, Chinese names drawn with a CJK font, UTF-8 throughout."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from conftest import SMALL
from matplotlib.figure import Figure

from channelsim.cli import main
from channelsim.cli.common import printable
from channelsim.output import fonts
from channelsim.storage.results import MAX_NAME_BYTES, default_out

FAST = {**SMALL, "weeks": 8}
LONG_CHINESE = "华东区域渠道策略" * 15  # 120 characters, 360 bytes of UTF-8


def scenario_file(tmp_path: Path, name: str, **changes) -> Path:
    path = tmp_path / f"s{len(list(tmp_path.glob('s*.yaml')))}.yaml"
    path.write_text(yaml.safe_dump({**FAST, "name": name, **changes}, allow_unicode=True))
    return path


def test_folder_names_are_cut_by_bytes_never_inside_a_character(tmp_path: Path) -> None:
    out = default_out("compare", LONG_CHINESE, root=tmp_path)
    stem = out.name.split("-compare-")[0]
    assert len(stem.encode()) <= MAX_NAME_BYTES and LONG_CHINESE.startswith(stem)
    assert len(out.name.encode()) < 255
    out.mkdir()  # a real file system takes it


def test_a_run_of_a_120_character_chinese_name_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    path = scenario_file(tmp_path, LONG_CHINESE)
    result = CliRunner().invoke(main, ["run", str(path), "-n", "1", "-q"])
    assert result.exit_code == 0, result.output
    (folder,) = (tmp_path / "results").iterdir()
    assert folder.name.startswith("华东区域渠道策略") and (folder / "manifest.json").is_file()
    assert LONG_CHINESE in result.stdout


@pytest.mark.parametrize(
    "text, shown",
    [
        ("evil\u202egnp.exe", "evil\\u202egnp.exe"),
        ("a\x1b[31mred", "a\\x1b[31mred"),
        ("bell\x07", "bell\\x07"),
        ("zero\u200bwidth", "zero\\u200bwidth"),
        ("isolate\u2066x\u2069", "isolate\\u2066x\\u2069"),
        ("上海 ok\tkept\nkept", "上海 ok\tkept\nkept"),
    ],
)
def test_printed_text_escapes_control_and_bidi_characters(text: str, shown: str) -> None:
    assert printable(text) == shown


def test_a_scenario_name_with_a_bidi_override_prints_escaped(tmp_path: Path) -> None:
    path = scenario_file(tmp_path, "pay\u202eevil\x1b[2J")
    result = CliRunner().invoke(
        main, ["run", str(path), "-n", "1", "-q", "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 0, result.output
    assert "\u202e" not in result.output and "\x1b" not in result.output
    assert "pay\\u202eevil\\x1b[2J" in result.stdout


def test_errors_escape_bidi_characters_too(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["validate", str(tmp_path / "x\u202egnp.yaml")])
    assert result.exit_code == 2
    assert "\u202e" not in result.stderr and "x\\u202egnp.yaml" in result.stderr


def glyph_warnings(draw) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        draw()
    return [str(w.message) for w in caught if "missing from" in str(w.message)]


def chinese_chart(path: Path) -> None:
    fig = Figure()
    ax = fig.subplots()
    ax.bar(["上海", "北京"], [1, 2])
    ax.set_title("区域收入")
    fig.savefig(path)


def test_charts_draw_chinese_with_a_cjk_font_when_one_is_installed(tmp_path: Path) -> None:
    if fonts.cjk_family() is None:
        pytest.skip("no CJK font here (Debian: apt-get install fonts-noto-cjk; .ci/run does)")
    assert glyph_warnings(lambda: chinese_chart(tmp_path / "plain.png"))  # the default lacks them

    def with_fallback() -> None:
        with fonts.cjk_fallback() as family:
            assert family == fonts.cjk_family()
            chinese_chart(tmp_path / "cjk.png")

    assert glyph_warnings(with_fallback) == []


def test_without_a_cjk_font_one_line_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(fonts, "cjk_family", lambda: None)

    def no_font() -> None:
        with fonts.cjk_fallback():
            chinese_chart(tmp_path / "boxes.png")

    assert glyph_warnings(no_font) == []  # matplotlib's warning per glyph is replaced
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "fonts-noto-cjk" in err


def test_latin_charts_say_nothing_about_fonts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(fonts, "cjk_family", lambda: None)
    with fonts.cjk_fallback():
        fig = Figure()
        fig.subplots().set_title("revenue")
        fig.savefig(tmp_path / "latin.png")
    assert capsys.readouterr().err == ""


def test_a_report_of_chinese_scenarios_is_utf8_throughout(tmp_path: Path) -> None:
    a = scenario_file(tmp_path, "上海直销", strategy="direct")
    b = scenario_file(tmp_path, "上海渠道")
    out = tmp_path / "对比"
    result = CliRunner().invoke(
        main, ["compare", str(a), str(b), "-n", "2", "-q", "--report", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    html = (out / "report.html").read_bytes().decode("utf-8")
    assert '<meta charset="utf-8">' in html
    assert "上海直销" in html and "上海渠道" in html
    summary = (out / "summary.csv").read_bytes().decode("utf-8")
    assert "上海直销" in summary
