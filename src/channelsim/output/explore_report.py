"""The exploration's words and its self-contained HTML report (`explore --report`).

The report answers in order: the question, the robust answer and the rule that chose it,
where the answer fails (PRIM's boxes in words), then the tables and charts. Like the
comparison report it has no scripts and no external resources: charts are base64 PNGs, and
every text a user wrote (scenario names, paths, the condition, the command) is escaped.
"""

from __future__ import annotations

import base64
import math
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from channelsim.output import explore_charts
from channelsim.output.charts import save_figures
from channelsim.output.display import number
from channelsim.output.report import CSS
from channelsim.storage import results

if TYPE_CHECKING:
    from channelsim.experiments.explore import ExploreResult

SIGNIFICANT = 0.05
CAPTIONS = {
    "kpi_distribution": "Each KPI over the sampled uncertain inputs, per scenario: one dot "
    "per sampled point (the mean of its replicates), boxes from the lower to the upper "
    "quartile.",
    "regret": "Regret per scenario: at each sampled point, how far it falls short of the best "
    "scenario there. Whiskers reach the smallest and the largest regret; diamonds are means.",
    "win_probability": "How often the row's scenario beats the column's, over the sampled "
    "points, compared pair by pair at the same point and seeds.",
    "prim_tradeoff": "PRIM's peeling trajectory: each dot is a box, from all points (right) "
    "to small dense boxes (left); colour: how many inputs it restricts. The ring marks the "
    "box chosen before pasting.",
    "prim_box": "The sampled points over the two inputs that matter most for the condition, "
    "red where it holds, with PRIM's first box.",
    "decision_map": "Decision map: the best scenario at each sampled point (dots) and, "
    "shaded, the winner among the nearest sampled points, over the two most important inputs "
    "(the others vary across the dots).",
}


def write_outputs(result: ExploreResult, manifest: dict[str, Any]) -> list[str]:
    """Draw the charts into the folder, and the report if asked; return their names."""
    figures = explore_charts.explore_figures(result.analysis, result.inputs, result.scenarios)
    save_figures(figures, result.folder / "charts")
    if not result.options.report:
        return ["charts/"]
    result.report = result.folder / "report.html"
    results.write_text(result.report, build_report(result, manifest))
    return ["charts/", "report.html"]


def limit_words(row: pd.Series) -> str:
    """One box limit in words: `x >= 1.4`, `x <= 0.5` or `0.2 <= x <= 0.5`."""
    low = not math.isnan(row["p_low"])
    high = not math.isnan(row["p_high"])
    name = str(row["input"])
    if low and high:
        text = f"{number(row['low'])} <= {name} <= {number(row['high'])}"
    elif low:
        text = f"{name} >= {number(row['low'])}"
    else:
        text = f"{name} <= {number(row['high'])}"
    p = max(v for v in (row["p_low"], row["p_high"]) if not math.isnan(v))
    return text if p <= SIGNIFICANT else f"{text} (not significant, p = {p:.2g})"


NO_BOX = "no box: PRIM found no region that explains it"


def box_sentences(boxes: pd.DataFrame, condition: str) -> list[str]:
    """Each PRIM box as a sentence: where the condition holds, and how well the box says so."""
    sentences = []
    for number_, rows in boxes.groupby("box", sort=True):
        first = rows.iloc[0]
        limits = " and ".join(limit_words(r) for _, r in rows.iterrows())
        sentences.append(
            f"Box {number_}: {condition} when {limits} (the box holds "
            f"{first['coverage']:.0%} of the points where it happens, and it happens at "
            f"{first['density']:.0%} of the points inside the box)"
        )
    return sentences


def answer_lines(result: ExploreResult) -> list[str]:
    """What the terminal shows after an exploration."""
    lines = []
    if result.done_before:
        lines.append(f"resumed: {result.done_before} runs were already saved; ran {result.ran}")
    lines += summary_lines(result, robustness_table=True)
    lines += ["", f"Results in {result.folder}"]
    if result.report:
        lines.append(f"Report: {result.report}")
    return lines


def summary_lines(result: ExploreResult, robustness_table: bool = False) -> list[str]:
    """The answer of an exploration, as the terminal and the workbook give it: failed runs,
    notes, the recommendation and its scores, where the condition holds, the inputs that
    decide it. Nothing of the session (resumed, folder), so a result reads the same however
    it was run."""
    a = result.analysis
    lines = []
    if len(result.failed):
        lines.append(f"FAILED runs: {len(result.failed)} (recorded in runs/ with their error)")
    lines.extend(a.notes)
    lines += ["", f"Recommended: {a.decision.sentence()}"]
    better = "higher" if a.decision.better == "higher" else "lower"
    scores = ", ".join(f"{k} {number(v)}" for k, v in a.decision.scores.items())
    lines.append(f"  scores ({better} is better): {scores}")
    if robustness_table:
        kpi = a.decision.kpi
        lines += ["", f"Robustness on {kpi}:", _robust_frame(a.robustness, kpi)]
    lines += ["", f"Where: {a.condition} (at {a.holds.mean():.0%} of the sampled points)"]
    sentences = box_sentences(a.boxes, a.condition)
    lines.extend(f"  {s}" for s in sentences or [NO_BOX])
    ranked = ", ".join(
        f"{r.input} {number(r.importance)}" for r in a.importance.itertuples(index=False)
    )
    return [*lines, f"  input importance (KS distance, 0-1): {ranked}"]


def _robust_frame(table: pd.DataFrame, kpi: str) -> str:
    rows = table[table["kpi"] == kpi]
    shown = pd.DataFrame(
        {
            "scenario": rows["scenario"],
            "mean": rows["mean"].map(number),
            "p05": rows["p05"].map(number),
            "p95": rows["p95"].map(number),
            "p_best": rows["p_best"].map(lambda v: f"{v:.0%}"),
            "regret_mean": rows["regret_mean"].map(number),
            "regret_max": rows["regret_max"].map(number),
        }
    )
    return shown.to_string(index=False)


# --- HTML ------------------------------------------------------------------------------------


def build_report(result: ExploreResult, manifest: dict[str, Any]) -> str:
    a = result.analysis
    names = result.scenarios
    title = "Robust choice under uncertainty: " + " vs ".join(names)
    sentences = box_sentences(a.boxes, a.condition)
    fails = "".join(f"<li>{escape(s)}</li>" for s in sentences or [NO_BOX])
    parts = [
        f"<h1>{escape(title)}</h1>",
        "<h2>The question</h2>",
        _question(result, manifest),
        "<h2>The answer</h2>",
        f"<p><strong>Recommended: {escape(a.decision.sentence())}.</strong></p>",
        _scores(a.decision),
        "<h2>Where it fails</h2>",
        f"<p>{escape(a.condition)} at {a.holds.mean():.0%} of the sampled points.</p>",
        f"<ul>{fails}</ul>",
        "<h2>Robustness</h2>",
        _robust_tables(a.robustness),
        "<h2>Scenario discovery: the boxes and their limits</h2>",
        _table(a.boxes)
        if len(a.boxes)
        else '<p class="note">No box (the condition has no region PRIM could isolate).</p>',
        "<h2>Which inputs matter for the condition</h2>",
        _table(a.importance),
        "<h2>Charts</h2>",
        _charts(result.folder / "charts"),
        "<h2>How to read this report</h2>",
        _how_to_read(),
        "<h2>How to reproduce it</h2>",
        f"<pre>{escape(str(manifest.get('command') or '(run from Python)'))}</pre>",
        f"<p class='note'>Seed {manifest['definition']['seed']}; "
        f"{escape(str(manifest.get('seed_derivation', '')))}.</p>",
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{CSS}</style>\n</head>\n"
        "<body>\n" + "\n".join(parts) + "\n</body>\n</html>\n"
    )


def _question(result: ExploreResult, manifest: dict[str, Any]) -> str:
    definition = manifest["definition"]
    items = []
    for path, spec in definition["uncertain"].items():
        scale = "" if spec.get("scale") == "linear" else f" ({spec.get('scale')})"
        text = f"{path}: {spec.get('low')} to {spec.get('high')}{scale}"
        items.append(f"<li>{escape(text)}</li>")
    ranges = "".join(items)
    return (
        f"<p>Which of {escape(', '.join(result.scenarios))} is best on "
        f"{escape(result.analysis.decision.kpi)}, when these inputs are uncertain:</p>"
        f"<ul>{ranges}</ul><p>{definition['samples']} sampled points "
        f"({escape(str(definition['design']))}), {definition['replicates']} replicate(s) per "
        "point and scenario; every scenario sees the same replicate seeds at a point.</p>"
    )


def _scores(decision: Any) -> str:
    cells = "".join(
        f"<tr><td>{escape(k)}</td><td>{escape(number(v))}</td></tr>"
        for k, v in decision.scores.items()
    )
    return (
        f"<table><tr><th>scenario</th><th>{escape(decision.rule)} score "
        f"({decision.better} is better)</th></tr>{cells}</table>"
    )


def _robust_tables(robust: pd.DataFrame) -> str:
    """One table per KPI; shares as percentages, `p_beats_X` as `beats X`."""
    parts = []
    for kpi, rows in robust.groupby("kpi", sort=False):
        shown = rows.drop(columns=["kpi", "points"]).dropna(axis=1, how="all")
        shares = ["p_best", *[c for c in shown.columns if c.startswith("p_beats_")]]
        for column in shares:
            shown[column] = shown[column].map(lambda v: "" if math.isnan(v) else f"{v:.0%}")
        shown = shown.rename(columns={c: c.replace("p_beats_", "beats ") for c in shares})
        parts.append(f"<h3>{escape(str(kpi))}</h3>{_table(shown)}")
    return "\n".join(parts)


def _table(frame: pd.DataFrame) -> str:
    head = "".join(f"<th>{escape(str(c))}</th>" for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(_cell(v))}</td>" for v in row) + "</tr>"
        for row in frame.itertuples(index=False)
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return "" if math.isnan(value) else number(value) if abs(value) >= 1 else f"{value:.3g}"
    return str(value)


def _charts(folder: Path) -> str:
    pngs = {p.stem: p for p in folder.glob("*.png")} if folder.is_dir() else {}
    figures = []
    for stem in [n for n in CAPTIONS if n in pngs]:
        data = base64.b64encode(pngs[stem].read_bytes()).decode("ascii")
        figures.append(
            f'<figure id="{stem}"><img src="data:image/png;base64,{data}" '
            f'alt="{stem.replace("_", " ")}"><figcaption>{escape(CAPTIONS[stem])}</figcaption>'
            "</figure>"
        )
    return "\n".join(figures)


def _how_to_read() -> str:
    return (
        "<p>Each sampled point is one combination of the uncertain inputs; a scenario's "
        "outcome there is the mean of its replicates. <em>p05, p50, p95</em> are percentiles "
        "over the points (the uncertainty), not confidence intervals. <em>Regret</em> is the "
        "shortfall to the best scenario at the same point. <em>p_best</em> is the share of "
        "points where a scenario is the best; <em>p_beats_X</em> the share where it beats X. "
        "PRIM boxes: <em>coverage</em> is the share of the points where the condition holds "
        "that the box contains, <em>density</em> the share of the box's points where it holds; "
        "<em>p_low</em>, <em>p_high</em> are the hypergeometric p-values of each limit (small: "
        "the limit matters). Importance is the Kolmogorov-Smirnov distance between an input's "
        "values where the condition holds and where it does not.</p>"
    )
