"""Figures without pyplot, laid out with fixed margins.

Every chart is a `matplotlib.figure.Figure` made with the object API: no global backend is
chosen or changed (so a notebook keeps its inline plots, and a Figure a chart function
returns displays there), `savefig` draws it with Agg anyway, and nothing is registered in
pyplot's global list of figures, so a figure is freed once unreferenced.

Margins are fixed, in inches, instead of `tight_layout` or a constrained layout: those
measure every text by drawing it first, about one more drawing of the figure per save.
Where a margin holds labels of varying length, `text_width` estimates it from the number
of characters.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from matplotlib.figure import Figure

# Average width of a character of DejaVu Sans (matplotlib's default font), in ems; a
# little above the true mean so that estimated margins err on the wide side.
CHARACTER_EM = 0.56


def subplots(
    rows: int, cols: int, width: float, height: float, **options
) -> tuple[Figure, np.ndarray]:
    """A figure of `width` x `height` inches with a grid of axes (always a 2-D array)."""
    fig = Figure(figsize=(width, height))
    return fig, fig.subplots(rows, cols, squeeze=False, **options)


def margins(
    fig: Figure,
    left: float,
    right: float,
    bottom: float,
    top: float,
    wspace: float = 0.2,
    hspace: float = 0.2,
) -> None:
    """Fixed margins in inches around the axes (`wspace`, `hspace`: as in subplots_adjust,
    fractions of an axes' width and height)."""
    width, height = fig.get_size_inches()
    fig.subplots_adjust(
        left=left / width,
        right=1 - right / width,
        bottom=bottom / height,
        top=1 - top / height,
        wspace=wspace,
        hspace=hspace,
    )


def text_width(texts: Iterable[object], fontsize: float = 10) -> float:
    """Estimated width in inches of the longest of `texts` at `fontsize` points."""
    longest = max((len(str(t)) for t in texts), default=0)
    return longest * fontsize * CHARACTER_EM / 72


def spacing(fig: Figure, cols: int, left: float, right: float, gap: float) -> float:
    """The `wspace` that leaves `gap` inches between `cols` columns of axes, given the
    figure's left and right margins in inches."""
    if cols < 2:
        return 0.2
    width = (fig.get_size_inches()[0] - left - right - (cols - 1) * gap) / cols
    return gap / max(width, 0.1)


def legend_width(labels: Iterable[object], fontsize: float = 8) -> float:
    """Estimated width in inches of a legend of `labels` (with its handles and frame)."""
    return text_width(labels, fontsize) + 0.55
