"""Charts rendered to PNG files, in this process or spread over local worker processes.

Rendering (drawing the figure and encoding it at 110 dpi) is most of a chart's cost, and
a comparison has 17 of them. A chart is given as a recipe, a module-level function with
its tables bound (`functools.partial`), so that it can be sent to a worker: each worker
makes the figure, encodes it and sends back the PNG bytes, which are written here,
atomically, as they come. With one worker everything happens in this process. The bytes
do not depend on where a chart was rendered.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from pathlib import Path

import matplotlib
from matplotlib.figure import Figure

from channelsim.experiments.executors import make_executor
from channelsim.output import fonts
from channelsim.storage.results import atomic_write

DPI = 110
Recipe = Callable[[], Figure]
# Charts a worker must have to pay for itself: a new worker imports matplotlib and the
# charts first (about 0.3 s, the cost of two or three charts). Measured: a run's 5 charts
# took 0.80 s on 2 workers against 0.68-0.79 s here; a comparison's 17, 2.7-2.8 s against
# 4.8-5.4 s.
CHARTS_PER_WORKER = 4
# Titles at the top of their axes, where matplotlib's automatic placement puts them in every
# chart here (the same bytes, tested), without measuring each axes' tick labels at every
# draw: a tenth of a comparison's chart CPU (4.69 s to 4.24 s).
FIXED_TITLES = {"axes.titley": 1.0}


def png_bytes(fig: Figure) -> bytes:
    """The figure as the PNG a results folder holds."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def render(item: tuple[str, Recipe]) -> tuple[str, bytes, bool]:
    """Make one chart and encode it: (name, PNG bytes, whether CJK glyphs were missing)."""
    name, recipe = item
    missing: list[bool] = []
    with (
        fonts.cjk_fallback(on_missing=lambda: missing.append(True)),
        matplotlib.rc_context(FIXED_TITLES),
    ):
        data = png_bytes(recipe())
    return name, data, bool(missing)


def save_recipes(recipes: Mapping[str, Recipe], folder: Path, workers: int = 1) -> list[Path]:
    """Render every recipe to `folder/<name>.png` on up to `workers` local processes (one
    per CHARTS_PER_WORKER charts).

    Returns the paths in the order of `recipes`. A missing CJK font is said once, however
    many charts lacked it.
    """
    folder.mkdir(parents=True, exist_ok=True)
    items = list(recipes.items())
    executor = make_executor(min(workers, len(items) // CHARTS_PER_WORKER))
    any_missing = False
    for _, (name, data, missing) in executor.map_unordered(render, items):
        atomic_write(folder / f"{name}.png", lambda tmp, data=data: tmp.write_bytes(data))
        any_missing |= missing
    if any_missing:
        fonts.say_glyphs_missing()
    return [folder / f"{name}.png" for name, _ in items]
