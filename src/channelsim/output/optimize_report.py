"""One self-contained HTML report of an optimisation folder, like compare's report.

The question (levers, ranges, objectives, constraints, budget), the answer (the best
settings, confirmed on fresh seeds with 95% intervals and the paired difference to the
scenario as given, with the winner's-curse and edge-of-range notes), the best trials, the
charts, and how to reproduce it. Charts are inline PNGs; every user-written text is escaped.
"""

from __future__ import annotations

import base64
from html import escape
from pathlib import Path
from typing import Any

import pandas as pd

from channelsim.output.display import number
from channelsim.output.report import CSS
from channelsim.storage import results

CAPTIONS = {
    "history": "Each trial's objective (mean over the replicates; grey: breaks a constraint), "
    "the best feasible value so far (red) and the scenario as given (dashed).",
    "vs_levers": "The objective against each lever: where the good trials are, and how flat "
    "the objective is around the best (red).",
    "pareto_front": "Every trial on the two objectives; the Pareto set joined in red; the star "
    "is the scenario as given.",
    "importance": "PED-ANOVA importance: how much each lever's values differ between the best "
    "10% of trials and all trials.",
}


def write_report(folder: Path) -> Path:
    """Write `folder/report.html` for a complete optimisation folder and return its path."""
    folder = Path(folder)
    path = folder / "report.html"
    results.write_text(path, build_report(folder))
    return path


def build_report(folder: Path) -> str:
    manifest = _read_manifest(folder)
    d = manifest["definition"]
    trials = pd.read_parquet(folder / "trials.parquet")
    confirm = pd.read_csv(folder / "confirm.csv") if (folder / "confirm.csv").is_file() else None
    name = d["scenario"]["name"]
    title = f"Optimising {name}: " + ", ".join(d["objectives"])
    parts = [
        f"<h1>{escape(title)}</h1>",
        _question(d),
        "<h2>Answer</h2>",
        _answer(manifest, trials, confirm),
        "<h2>Best trials</h2>",
        _best_table(manifest, trials),
        "<h2>Charts</h2>",
        _charts(folder / "charts"),
        "<h2>How to read this report</h2>",
        _how_to_read(d),
        "<h2>How to reproduce it</h2>",
        _reproduce(manifest),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{CSS}</style>\n</head>\n"
        f"<body>\n{chr(10).join(parts)}\n</body>\n</html>\n"
    )


def _read_manifest(folder: Path) -> dict[str, Any]:
    if not results.ResultsDir(folder).is_complete:
        raise results.ResultsError(f"{folder}: not a complete optimisation folder")
    manifest = results.read_manifest(folder)
    if manifest.get("kind") != "optimize":
        raise results.ResultsError(f"{folder}: not an optimisation folder")
    return manifest


def _question(d: dict[str, Any]) -> str:
    levers = "".join(
        f"<li><code>{escape(path)}</code>: {escape(_spec(spec))}</li>"
        for path, spec in d["params"].items()
    )
    goals = " and ".join(
        ("maximise " if text.endswith(":max") else "minimise ") + text.rpartition(":")[0]
        for text in d["objectives"]
    )
    constraints = ", ".join(d["constraints"]) or "no constraint"
    return (
        f"<p>Which values of these levers {escape(goals)}, subject to "
        f"{escape(constraints)}?</p><ul>{levers}</ul>"
        f"<p>{d['trials']} trials with {escape(str(d['sampler']))}, each run on the same "
        f"{d['replicates']} replicate seeds (seed {d['seed']}); the best confirmed on "
        f"{d['confirm']} fresh seeds.</p>"
    )


def _spec(spec: dict[str, Any]) -> str:
    if "values" in spec:
        return ", ".join(str(v) for v in spec["values"])
    return f"{spec['scale']} range {spec['low']:g} to {spec['high']:g}"


def _answer(manifest: dict[str, Any], trials: pd.DataFrame, confirm: pd.DataFrame | None) -> str:
    best = manifest.get("best_trials", [])
    items = []
    if not best:
        items.append("<li>No trial met every constraint.</li>")
    params = list(manifest["definition"]["params"])
    rows = trials.set_index("trial")
    for trial in best[:1]:
        settings = ", ".join(f"{p} = {_value(rows.loc[trial, p])}" for p in params)
        items.append(f"<li>Trial {trial}: <b>{escape(settings)}</b> (written to best.yaml).</li>")
    if confirm is not None and len(confirm):
        for r in confirm[confirm["trial"] >= 0].itertuples(index=False):
            items.append(
                f"<li>{escape(r.candidate)}: {escape(r.kpi)} {number(r.mean)} "
                f"[{number(r.ci_low)}, {number(r.ci_high)}] on {int(r.n)} fresh seeds "
                f"(search: {number(r.search_mean)}); {_signed(r.diff_to_start)} against the "
                f"scenario as given [{number(r.diff_low)}, {number(r.diff_high)}].</li>"
            )
    items += [f"<li>{escape(note)}</li>" for note in manifest.get("notes", [])]
    return f'<ul class="answer">{"".join(items)}</ul>'


def _best_table(manifest: dict[str, Any], trials: pd.DataFrame, limit: int = 15) -> str:
    d = manifest["definition"]
    kpis = [o.partition(":")[0] for o in d["objectives"]]
    kpis += [k for k in (c.split(">=")[0].split("<=")[0] for c in d["constraints"]) if k]
    kpis = list(dict.fromkeys(kpis))
    first, way = kpis[0], d["objectives"][0].endswith(":max")
    done = trials[trials["state"] == "COMPLETE"].sort_values(first, ascending=not way)
    columns = ["trial", *d["params"], *kpis, "feasible"]
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>"
        + "".join(f'<td class="num">{escape(_value(row[c]))}</td>' for c in columns)
        + "</tr>"
        for _, row in done.head(limit).iterrows()
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _charts(folder: Path) -> str:
    figures = []
    for png in sorted(folder.glob("*.png")) if folder.is_dir() else []:
        caption = next((text for key, text in CAPTIONS.items() if key in png.stem), png.stem)
        data = base64.b64encode(png.read_bytes()).decode("ascii")
        figures.append(
            f'<figure><img src="data:image/png;base64,{data}" alt="{escape(png.stem)}">'
            f"<figcaption>{escape(caption)}</figcaption></figure>"
        )
    return "\n".join(figures) or '<p class="note">No charts in this folder.</p>'


def _how_to_read(d: dict[str, Any]) -> str:
    return (
        f"<p>During the search every trial is the mean of the same {d['replicates']} "
        "replicates (common random numbers), so trials differ by their levers, not by luck. "
        "The best of many noisy means is still biased in its favour (the winner's curse); the "
        "confirmation re-runs it on fresh seeds, and that confirmed value is the one to "
        "quote. The paired difference to the scenario as given uses the same fresh seeds "
        "for both, so its interval is narrower than the two intervals suggest.</p>"
    )


def _reproduce(manifest: dict[str, Any]) -> str:
    where = manifest.get("working_directory")
    lines = ([f"cd {where}"] if where else []) + [str(manifest.get("command", ""))]
    return f"<pre>{escape(chr(10).join(lines))}</pre>"


def _value(value: Any) -> str:
    if isinstance(value, float):
        return number(value) if abs(value) >= 10 else f"{value:.6g}"
    return str(value)


def _signed(value: float) -> str:
    return ("+" if value > 0 else "") + number(value)
