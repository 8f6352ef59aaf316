"""Chinese, Japanese and Korean text in charts: a font that covers it, found at run time.

matplotlib's default font (DejaVu Sans) has no CJK glyphs, so a region called 上海 would be
drawn as boxes. While charts are made and saved, a CJK font is put after the default in
the font list, and matplotlib's per-glyph fallback draws Latin text in the default font as
before and CJK text in that font. The font is looked for among the fonts
matplotlib knows and, since its font cache predates fonts installed later, among the
system's font files (e.g. Debian's fonts-noto-cjk). When none is installed, one line says
so and the charts are drawn with boxes, without matplotlib's warning per missing glyph.
"""

from __future__ import annotations

import re
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache

import matplotlib
from matplotlib import font_manager

FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans CJK TC",
    "Noto Sans CJK JP",
    "Noto Sans CJK KR",
    "Noto Serif CJK SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Droid Sans Fallback",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "Hiragino Sans GB",
    "Heiti SC",
    "AR PL UMing CN",
)
FILE_HINTS = re.compile(r"NotoSansCJK|NotoSerifCJK|SourceHanSans|wqy|DroidSansFallback|uming", re.I)
GLYPH_MISSING = re.compile(r"Glyph \d+ .*missing from")
INSTALL_HINT = "install one (Debian: apt-get install fonts-noto-cjk)"


@cache
def cjk_family() -> str | None:
    """The name of an installed font family with CJK glyphs, or None.

    Cached for the process: the answer does not change while a command runs, and the
    search of the system's fonts takes a moment.
    """
    known = {font.name for font in font_manager.fontManager.ttflist}
    for family in FAMILIES:
        if family in known:
            return family
    candidates = [p for p in font_manager.findSystemFonts() if FILE_HINTS.search(p)]
    for path in sorted(candidates, key=lambda p: ("Regular" not in p, p)):  # regular weight first
        try:
            font_manager.fontManager.addfont(path)
        except (OSError, RuntimeError, ValueError):
            continue
        added = {font.name for font in font_manager.fontManager.ttflist} - known
        for family in FAMILIES:
            if family in added:
                return family
        known |= added
    return None


@contextmanager
def cjk_fallback(on_missing: Callable[[], None] | None = None) -> Iterator[str | None]:
    """Around making and saving charts: CJK glyphs come from a CJK font (the family used is
    yielded), or, with none installed, one line says so instead of a warning per glyph
    (`on_missing` instead, where the line is said once for many charts elsewhere)."""
    family = cjk_family()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if family is None:
            yield None
        else:
            with matplotlib.rc_context({"font.family": ["sans-serif", family]}):
                yield family
    missing = [w for w in caught if GLYPH_MISSING.search(str(w.message))]
    for w in caught:
        if w not in missing:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if missing and family is None:
        (on_missing or say_glyphs_missing)()


def say_glyphs_missing() -> None:
    print(
        "warning: the charts hold Chinese/Japanese/Korean text but no font for it is "
        f"installed, so it shows as boxes; {INSTALL_HINT}",
        file=sys.stderr,
    )
