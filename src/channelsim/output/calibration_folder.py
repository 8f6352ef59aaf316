"""The folder `channelsim calibrate` writes: fitted scenario, tables, charts, report.

`calibrated.yaml` extends the input scenario by a path relative to the folder and sets
only the fitted values, so it stays valid wherever the folder and the scenario move
together. The folder stays INCOMPLETE until every file is written.
"""

from __future__ import annotations

import html
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from channelsim.output import calibration_charts
from channelsim.output.charts import save_figures
from channelsim.storage import results

if TYPE_CHECKING:
    from channelsim.experiments.calibration import CalibrationResult

FILES = [
    "calibrated.yaml",
    "parameters.csv",
    "fit.csv",
    "trials.parquet",
    "profiles.csv",
    "report.html",
    "study.db",
    "charts/",
]


def calibrated_yaml(result: CalibrationResult, folder: Path, scenario_file: Path | None) -> str:
    """The input scenario with the fitted values, as YAML text."""
    fitted = result.scenario.model_dump(mode="json")
    if scenario_file is None:
        body = fitted
    else:
        relative = os.path.relpath(Path(scenario_file).resolve(), Path(folder).resolve())
        body = {"extends": Path(relative).as_posix(), **_overlay(fitted, result.estimate)}
    head = "# Written by channelsim calibrate: the input scenario with the fitted values.\n"
    return head + yaml.safe_dump(body, sort_keys=False, allow_unicode=True)


def _overlay(fitted: dict[str, Any], estimate: dict[str, Any]) -> dict[str, Any]:
    """Nested settings for each dotted path; a path through a list sets the whole list."""
    out: dict[str, Any] = {}
    for dotted, value in estimate.items():
        parts = dotted.split(".")
        node, target = fitted, out
        for depth, key in enumerate(parts):
            child = node[key]
            if isinstance(child, list):
                target[key] = child
                break
            if depth == len(parts) - 1:
                target[key] = value
                break
            target = target.setdefault(key, {})
            node = child
    return out


def save_calibration(
    result: CalibrationResult,
    folder: results.ResultsDir,
    scenario_file: Path | None,
    command: str = "",
    **manifest: Any,
) -> Path:
    from channelsim.experiments.calibration import THRESHOLD

    results.write_text(
        folder.file("calibrated.yaml"), calibrated_yaml(result, folder.path, scenario_file)
    )
    results.write_csv(folder.file("parameters.csv"), result.parameters)
    results.write_csv(folder.file("fit.csv"), result.fit)
    results.write_parquet(folder.file("trials.parquet"), result.trials)
    results.write_csv(folder.file("profiles.csv"), result.profiles)
    figures = calibration_charts.calibration_charts(
        result.fit, result.profiles, result.parameters, THRESHOLD
    )
    names = sorted(figures)
    save_figures(figures, folder.file("charts"))
    results.write_text(folder.file("report.html"), report(result, names))
    folder.complete(
        results.manifest(
            command,
            kind="calibration",
            scenario=result.scenario.model_dump(mode="json"),
            estimate=result.estimate,
            seeds=result.seeds,
            files=FILES,
            **manifest,
        )
    )
    return folder.path


def report(result: CalibrationResult, charts: list[str]) -> str:
    """A one-page HTML summary: estimates with intervals, fit, charts."""

    def table(frame: Any) -> str:
        return frame.to_html(index=False, float_format=lambda v: f"{v:.6g}", border=0)

    unidentified = result.parameters.loc[~result.parameters["identified"], "parameter"]
    note = (
        f"<p><b>Not identified by these targets:</b> {html.escape(', '.join(unidentified))}. "
        "Their profiles stay within the threshold on at least one side of the range; fix "
        "them from other knowledge or add targets that move with them.</p>"
        if len(unidentified)
        else "<p>Every parameter is identified (its profile rises above the threshold on "
        "both sides within its range).</p>"
    )
    images = "".join(f'<p><img src="charts/{name}.png" alt="{name}"></p>' for name in charts)
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Calibration</title>"
        "<style>body{font-family:sans-serif;max-width:980px;margin:2em auto}"
        "td,th{padding:2px 8px;text-align:right}</style></head><body>"
        f"<h1>Calibration of {html.escape(result.scenario.name)}</h1>"
        f"<p>{len(result.trials)} trials, {len(result.seeds)} common replicates per trial; "
        "95% intervals from the loss profile (chi2, 1 degree of freedom).</p>"
        f"<h2>Parameters</h2>{table(result.parameters)}{note}"
        f"<h2>Fit</h2>{table(result.fit)}{images}</body></html>\n"
    )
