"""One self-contained HTML report of a comparison folder, to send to someone who decides.

Everything is inside the file: charts as base64 PNG data URIs and inline CSS; no scripts and
no external resources, so it opens the same from a mail attachment or a shared drive. Every
text that a user wrote (scenario names, descriptions, settings, the command) is escaped.
"""

from __future__ import annotations

import base64
import io
import json
import math
from html import escape
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from channelsim.model.kpis import KPI_DEFINITIONS
from channelsim.output.display import fixed, interval_places, mean_pm, number
from channelsim.output.units import kpi_unit, money
from channelsim.scenario.differences import differing_settings
from channelsim.scenario.schema import Scenario
from channelsim.storage import inputs, results

MAX_IMAGE_BYTES = 20 << 20  # one chart; ours are 50-150 KB
MAX_TABLE_BYTES = 50 << 20
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

ALPHA = 0.05

# Chart captions in the order the report shows them; other PNGs follow alphabetically.
CAPTIONS = {
    "differences_to_baseline": "Each KPI's difference to the baseline in % of the baseline's "
    "mean, with its 95% paired confidence interval. Filled dots: significant at 5%; hollow "
    "dots: the interval includes zero.",
    "kpis_money": "Money KPIs: mean per scenario, error bars are 95% confidence intervals.",
    "kpis_customers": "Customer KPIs: mean per scenario with 95% confidence intervals.",
    "kpis_conflict": "Rep-dealer conflict and price erosion, with 95% confidence intervals.",
    "kpis_sales_force": "Sales-force KPIs: reps, attrition, quotas and pipeline, with 95% "
    "confidence intervals.",
    "kpis_sales_management": "Sales management: rep skill, attrition of high-skill reps, "
    "coaching, promotions, forecast error and bias, and what they cost, with 95% confidence "
    "intervals.",
    "kpis_dealers": "General agents and dealers: margins, dealers trading, exits, dealer "
    "profit, with 95% confidence intervals.",
    "weekly_company_profit": "Company profit per week: mean across replicates (line) and the "
    "5-95% band (shaded).",
    "weekly_revenue": "Revenue per week: mean across replicates and the 5-95% band.",
    "customers_and_churn": "Customers buying from the company, and customers lost per week.",
    "conflicts_and_prices": "Rep-dealer conflicts per week and the average price paid "
    "relative to list price.",
    "reps_and_dealers": "Reps in post and dealers trading, week by week.",
    "revenue_by_channel": "Weekly revenue split by the channel that made the sale (mean over "
    "replicates).",
    "where_the_money_goes": "Where each unit of customer money goes: company profit, costs and "
    "the channel's margins, in % of what customers paid.",
}

# Headline KPIs for the answer: (what it is called, more-phrase, less-phrase, scale, unit).
HEADLINES: dict[str, tuple[str, str, str, float, str]] = {
    "company_profit": (
        "company profit",
        "earns {x} more company profit",
        "earns {x} less company profit",
        1.0,
        "",
    ),
    "revenue": ("revenue", "takes in {x} more revenue", "takes in {x} less revenue", 1.0, ""),
    "channel_margin": (
        "channel margin",
        "leaves {x} more margin to general agents and dealers",
        "leaves {x} less margin to general agents and dealers",
        1.0,
        "",
    ),
    "market_share": (
        "market share",
        "wins {x} more market share",
        "wins {x} less market share",
        100.0,
        " percentage points",
    ),
    "customers_active": (
        "active customers",
        "ends with {x} more active customers",
        "ends with {x} fewer active customers",
        1.0,
        "",
    ),
    "conflicts": (
        "rep-dealer conflicts",
        "has {x} more rep-dealer conflicts",
        "has {x} fewer rep-dealer conflicts",
        1.0,
        "",
    ),
}

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto;
       max-width: 72em; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; } h2 { margin-top: 2em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; vertical-align: top; }
th { background: #f3f3f3; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.def { color: #666; font-size: 0.85em; }
.answer li { margin: 0.4em 0; } .sig { font-weight: bold; color: #b00; }
figure { margin: 1.5em 0; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.9em; }
pre { background: #f6f6f6; padding: 0.8em; overflow-x: auto; white-space: pre-wrap; }
.note { color: #555; font-size: 0.9em; }
"""


def write_report(folder: Path) -> Path:
    """Write `folder/report.html` for a complete comparison folder and return its path.

    The folder is locked meanwhile, and a temporary file left by an earlier report that
    was cut short is removed, so the folder stays complete and clean.
    """
    folder = Path(folder)
    path = folder / "report.html"
    _read_manifest(folder)  # a clear message before the lock is taken
    with results.ResultsDir(folder).locked():
        results.write_text(path, build_report(folder))
        results.remove_leftovers(folder)
    return path


def build_report(folder: Path) -> str:
    """The report's HTML for a complete comparison folder (UTF-8 throughout)."""
    folder = Path(folder)
    manifest = _read_manifest(folder)
    summary = _read_csv(folder, "summary.csv")
    differences = _read_csv(folder, "differences.csv")
    names = [str(n) for n in manifest["names"]]
    baseline = str(manifest["baseline"])
    summary["scenario"] = summary["scenario"].astype(str)
    differences["scenario"] = differences["scenario"].astype(str)
    title = "Channel strategies compared: " + " vs ".join(names)
    currency = str(manifest.get("currency", ""))
    parts = [
        f"<h1>{escape(title)}</h1>",
        _question(manifest, names, baseline),
        _answer(summary, differences, names, baseline),
        *(f'<p class="note">Note: {escape(n)}</p>' for n in manifest.get("warmup_notes", [])),
        "<h2>Settings that differ between the scenarios</h2>",
        _settings_table(manifest["scenarios"], names),
        *_conflict_section(folder, names, currency),
        "<h2>Results per scenario</h2>",
        _summary_table(
            summary,
            differences,
            names,
            baseline,
            int(manifest["replicates"]),
            currency,
            str(manifest.get("statistics", "")),
        ),
        f"<h2>Differences to the baseline {escape(baseline)}</h2>",
        _differences_table(differences, names, baseline),
        *_pairwise_section(folder, names),
        "<h2>Charts</h2>",
        _charts(folder / "charts"),
        "<h2>How to read this report</h2>",
        _how_to_read(baseline),
        "<h2>Seeds and versions</h2>",
        _seeds_and_versions(manifest),
        "<h2>How to reproduce it</h2>",
        _reproduce(manifest),
    ]
    body = "\n".join(parts)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{CSS}</style>\n</head>\n"
        f"<body>\n{body}\n</body>\n</html>\n"
    )


class CompareManifest(BaseModel):
    """The fields of a comparison's manifest.json that the report relies on."""

    model_config = ConfigDict(extra="allow")

    kind: Literal["compare"]
    status: Literal["complete"]
    names: list[str] = Field(min_length=2)
    baseline: str
    replicates: int = Field(ge=1)
    scenarios: list[dict[str, Any]]
    seeds: list[int] = []
    versions: dict[str, Any] = {}
    command: str = ""
    warmup_notes: list[str] = []


def _read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / "manifest.json"
    if not path.exists() and not path.is_symlink():
        raise results.ResultsError(f"{folder}: not a results folder (no manifest.json)")
    if not results.ResultsDir(folder).is_complete:
        raise results.ResultsError(f"{folder}: the results are incomplete (its run did not end)")
    text = inputs.read_bytes(path, "manifest", MAX_TABLE_BYTES, inside=folder)
    try:
        manifest = json.loads(text.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise results.ResultsError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("kind") != "compare":
        kind = manifest.get("kind") if isinstance(manifest, dict) else type(manifest).__name__
        raise results.ResultsError(
            f"{folder}: a report needs the folder of 'channelsim compare', found one of kind "
            f"{kind!r}"
        )
    try:
        checked = CompareManifest.model_validate(manifest)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise results.ResultsError(f"{path}: {where}: {first['msg']}") from None
    if checked.baseline not in checked.names or len(checked.scenarios) != len(checked.names):
        raise results.ResultsError(f"{path}: names, baseline and scenarios do not agree")
    return manifest


def _read_csv(folder: Path, name: str) -> pd.DataFrame:
    """A table of the folder: a regular file inside it, bounded, UTF-8."""
    data = inputs.read_bytes(folder / name, "results table", MAX_TABLE_BYTES, inside=folder)
    try:
        return pd.read_csv(io.BytesIO(data), encoding="utf-8")
    except (ValueError, UnicodeDecodeError) as exc:
        raise results.ResultsError(f"{folder / name}: not a readable table ({exc})") from None


# --- the question and the answer ---------------------------------------------------------


def _question(manifest: dict[str, Any], names: list[str], baseline: str) -> str:
    items = []
    for scenario in manifest["scenarios"]:
        description = scenario.get("description", "").strip()
        label = " (baseline)" if scenario["name"] == baseline else ""
        items.append(
            f"<li><b>{escape(scenario['name'])}</b>{label}: strategy "
            f"{escape(str(scenario.get('strategy', '')))}, {scenario.get('weeks')} weeks"
            f"{_warmup(scenario)}" + (f". {escape(description)}" if description else "") + "</li>"
        )
    return (
        "<h2>The question</h2>\n"
        f"<p>Which of these {len(names)} set-ups does better, by how much, and how sure are "
        f"we? Each was simulated {manifest['replicates']} times with the same random seeds "
        "(common random numbers), and each is compared with the baseline "
        f"<b>{escape(baseline)}</b> replicate by replicate.</p>\n<ul>{''.join(items)}</ul>"
    )


def _warmup(scenario: dict[str, Any]) -> str:
    """' after a 78-week warm-up' for a manifest's scenario, '' if it has none or is old."""
    try:
        weeks = Scenario.model_validate(scenario).warmup()
    except ValueError:
        return ""
    return f" after a {weeks}-week warm-up (not in the results)" if weeks else ""


def _answer(
    summary: pd.DataFrame, differences: pd.DataFrame, names: list[str], baseline: str
) -> str:
    sentences = headlines(summary, differences, names, baseline)
    items = "".join(f"<li>{escape(s)}</li>" for s in sentences)
    return f'<h2>The answer</h2>\n<ul class="answer">{items}</ul>'


def headlines(
    summary: pd.DataFrame, differences: pd.DataFrame, names: list[str], baseline: str
) -> list[str]:
    """Plain sentences generated from the numbers: the best on company profit, then each
    scenario's headline differences to the baseline with their 95% intervals."""
    sentences = []
    profit = summary[summary["kpi"] == "company_profit"].set_index("scenario")["mean"]
    if profit.notna().any():
        best = str(profit.idxmax())
        sentences.append(_best_sentence(best, profit, differences, baseline))
    diffs = differences.set_index(["scenario", "kpi"])
    means = summary.set_index(["scenario", "kpi"])["mean"]
    for name in names:
        if name == baseline:
            continue
        for kpi, (label, more, less, scale, unit) in HEADLINES.items():
            if (name, kpi) not in diffs.index:
                continue
            row = diffs.loc[(name, kpi)]
            diff, low, high = (
                row["mean_diff"] * scale,
                row["ci_low"] * scale,
                row["ci_high"] * scale,
            )
            if math.isnan(diff):
                continue
            places = interval_places(diff, low, high)
            interval = f"95% CI {_signed(low, places)} to {_signed(high, places)}{unit}"
            if diff == 0 and low == 0 and high == 0:
                none = means.get((baseline, kpi)) == 0
                sentences.append(
                    f"Neither {name} nor {baseline} has any {label}."
                    if none
                    else f"{name} and {baseline} have the same {label} in every replicate."
                )
            elif row["p_value"] < ALPHA:
                size = number(abs(diff)) if places is None else fixed(abs(diff), places)
                phrase = (more if diff > 0 else less).format(x=f"{size}{unit}")
                sentences.append(f"{name} {phrase} than {baseline} ({interval}).")
            else:
                sentences.append(
                    f"{name} and {baseline} do not differ clearly in {label}: the difference "
                    f"is {_signed(diff, places)}{unit} ({interval}, which includes zero)."
                )
    return sentences


def _best_sentence(best: str, profit: pd.Series, differences: pd.DataFrame, baseline: str) -> str:
    mean = number(profit[best])
    rows = differences[differences["kpi"] == "company_profit"].set_index("scenario")
    if best == baseline:
        unclear = [str(n) for n, r in rows.iterrows() if n != baseline and not r["p_value"] < ALPHA]
        if not unclear:
            return (
                f"{best} earns the most company profit (mean {mean}), significantly more than "
                "every other scenario."
            )
        return (
            f"{best} has the highest mean company profit ({mean}), but not clearly more than "
            f"{', '.join(unclear)}."
        )
    clear = rows.loc[best, "p_value"] < ALPHA
    return (
        f"{best} has the highest mean company profit ({mean}); against the baseline "
        f"{baseline} the difference is {'significant' if clear else 'not significant'} at 5%."
    )


def _signed(value: float, places: int | None = None) -> str:
    """A difference with its sign, to `places` decimals (an interval's), else by `number`."""
    text = number(value) if places is None else fixed(value, places)
    return text if value < 0 or text == "0" else f"+{text}"


# --- tables ----------------------------------------------------------------------------


def _summary_table(
    summary: pd.DataFrame,
    differences: pd.DataFrame,
    names: list[str],
    baseline: str,
    replicates: int,
    currency: str = "",
    method: str = "",
) -> str:
    means = summary.set_index(["kpi", "scenario"])
    p_values = differences.set_index(["kpi", "scenario"])["p_value"]
    head = "".join(f"<th>{escape(n)}{' (baseline)' if n == baseline else ''}</th>" for n in names)
    rows = []
    for kpi in dict.fromkeys(summary["kpi"]):
        cells = []
        for name in names:
            row = means.loc[(kpi, name)]
            text = escape(mean_pm(row["mean"], row["ci_low"], row["ci_high"]))
            if name != baseline and p_values.get((kpi, name), 1.0) < ALPHA:
                text += ' <span class="sig" title="differs from the baseline at 5%">*</span>'
            cells.append(f'<td class="num">{text}</td>')
        definition = escape(KPI_DEFINITIONS.get(kpi, ""))
        unit = escape(kpi_unit(kpi, currency))
        rows.append(
            f"<tr><th>{escape(kpi)}</th><td>{unit}</td>{''.join(cells)}"
            f'<td class="def">{definition}</td></tr>'
        )
    return (
        f'<p class="note">Mean ± half-width of the 95% confidence interval over {replicates} '
        "replicates, or mean [low, high] where the interval is cut at what the KPI can be. "
        f'<span class="sig">*</span> = differs from {escape(baseline)} at the 5% '
        "level (paired t-test); - = no value."
        f"{f' Intervals: {escape(method)}.' if method else ''}</p>\n"
        f"<table><tr><th>KPI</th><th>unit</th>{head}<th>definition</th></tr>"
        f"{''.join(rows)}</table>"
    )


def _differences_table(differences: pd.DataFrame, names: list[str], baseline: str) -> str:
    others = [n for n in names if n != baseline and n in set(differences["scenario"])]
    head = "".join(f"<th colspan=2>{escape(n)} − {escape(baseline)}</th>" for n in others)
    sub = "<th>difference [95% CI]</th><th>p</th>" * len(others)
    table = differences.set_index(["kpi", "scenario"])
    rows = []
    for kpi in dict.fromkeys(differences["kpi"]):
        cells = []
        for name in others:
            row = table.loc[(kpi, name)]
            if math.isnan(row["mean_diff"]):
                cells.append('<td class="num">-</td><td class="num">-</td>')
                continue
            interval = (
                ""
                if math.isnan(row["ci_low"])
                else f" [{_signed(row['ci_low'])}, {_signed(row['ci_high'])}]"
            )
            p = row["p_value"]
            p_text = "-" if math.isnan(p) else ("&lt; 0.001" if p < 0.001 else f"{p:.3f}")
            mark = ' <span class="sig">*</span>' if p < ALPHA else ""
            cells.append(
                f'<td class="num">{escape(_signed(row["mean_diff"]) + interval)}{mark}</td>'
                f'<td class="num">{p_text}</td>'
            )
        rows.append(f"<tr><th>{escape(kpi)}</th>{''.join(cells)}</tr>")
    return f"<table><tr><th rowspan=2>KPI</th>{head}</tr><tr>{sub}</tr>{''.join(rows)}</table>"


def _conflict_section(folder: Path, names: list[str], currency: str) -> list[str]:
    path = folder / "conflict_costs.csv"
    if not path.is_file():
        return []
    table = pd.read_csv(path)
    table["scenario"] = table["scenario"].astype(str)
    if table.empty:
        return []
    cells = table.set_index(["item", "scenario"])
    head = "".join(f"<th>{escape(n)}</th>" for n in names)
    rows = []
    for item in dict.fromkeys(table["item"]):
        first = cells.loc[(item, names[0])]
        unit = money(currency) if bool(first["money"]) else kpi_unit(str(first["kpi"]))
        values = "".join(
            f'<td class="num">'
            f"{escape(mean_pm(*cells.loc[(item, n), ['mean', 'ci_low', 'ci_high']].astype(float)))}"
            "</td>"
            for n in names
        )
        rows.append(f"<tr><th>{escape(item)}</th><td>{escape(unit)}</td>{values}</tr>")
    return [
        "<h2>What conflicts cost</h2>",
        '<p class="note">Per scenario, over the measured weeks (after the warm-up): means '
        "over the replicates with their 95% intervals. Price erosion is money given away by "
        "undercutting (by the rep or the dealer, whoever won). Customers, sales and margin "
        "that moved "
        "to reps are conflicts the rep won: the company gains that margin but pays "
        "commission on it, and the dealer loses it. Dealers' dissatisfaction rises only "
        "with conflicts they lose; the exits counted here happened while it was above the "
        "exit threshold. Their exits are priced as the company margin at risk: for each "
        "dealer that left, the company's margin on its sales (what the company invoiced "
        "minus the cost of goods) over its last 13 weeks, as a weekly rate, times the weeks "
        "left in the run, M<sub>d</sub> = (1/13) &Sigma; (c &minus; unit cost) q &times; "
        "(T &minus; t &minus; 1). It is what the exits put at risk, not a certain loss: the "
        "dealers' customers pass to other dealers of the region and a replacement may "
        "open, so part of it returns; what happened shows in revenue_dealer and "
        "company_profit.</p>",
        f"<table><tr><th>cost of conflict</th><th>unit</th>{head}</tr>{''.join(rows)}</table>",
    ]


def _pairwise_section(folder: Path, names: list[str]) -> list[str]:
    path = folder / "pairwise.csv"
    if len(names) < 3 or not path.is_file():
        return []
    table = pd.read_csv(path)
    for column in ("scenario", "baseline"):
        table[column] = table[column].astype(str)
    table = table[table["kpi"].isin(HEADLINES)]
    parts = [
        "<h2>Each pair of scenarios</h2>",
        '<p class="note">The headline KPIs for every pair you are choosing between, the '
        "later minus the earlier, with paired 95% intervals (all KPIs are in "
        "<code>pairwise.csv</code>).</p>",
    ]
    for base in names:
        pairs = table[table["baseline"] == base]
        if pairs.empty:
            continue
        parts.append(f"<h3>Against {escape(base)}</h3>")
        parts.append(_differences_table(pairs, names, base))
    return parts


def _charts(folder: Path) -> str:
    """Each chart as a data URI: only PNG files that really lie in the folder are embedded;
    anything else there (a link leading out, a pipe, a huge file) is named and left out."""
    if folder.is_symlink() or not folder.is_dir():
        return '<p class="note">No charts in this folder.</p>'
    pngs = {p.stem: p for p in folder.glob("*.png")}
    order = [n for n in CAPTIONS if n in pngs] + sorted(n for n in pngs if n not in CAPTIONS)
    figures, left_out = [], []
    for stem in order:
        try:
            raw = inputs.read_bytes(pngs[stem], "chart", MAX_IMAGE_BYTES, inside=folder.parent)
        except inputs.InputError as exc:
            left_out.append(str(exc))
            continue
        if not raw.startswith(PNG_SIGNATURE):
            left_out.append(f"{pngs[stem]}: not a PNG image")
            continue
        data = base64.b64encode(raw).decode("ascii")
        caption = escape(CAPTIONS.get(stem) or _default_caption(stem))
        figures.append(
            f'<figure id="{escape(stem)}"><img src="data:image/png;base64,{data}" '
            f'alt="{escape(stem.replace("_", " "))}"><figcaption>{caption}</figcaption></figure>'
        )
    notes = "".join(f'<p class="note">Left out: {escape(text)}</p>' for text in left_out)
    return "\n".join(figures) + notes or '<p class="note">No charts in this folder.</p>'


def _default_caption(stem: str) -> str:
    if stem.startswith("network_"):
        return f"The channel network of {stem.removeprefix('network_')}, drawn from its settings."
    return stem.replace("_", " ")


def _settings_table(scenarios: list[dict[str, Any]], names: list[str]) -> str:
    rows = differing_settings(scenarios)
    if not rows:
        return '<p class="note">The scenarios differ only in their names.</p>'
    head = "".join(f"<th>{escape(n)}</th>" for n in names)
    body = "".join(
        f"<tr><th><code>{escape(path)}</code></th>"
        + "".join(f"<td>{escape(_setting(v))}</td>" for v in values)
        + "</tr>"
        for path, values in rows.items()
    )
    return (
        '<p class="note">Dotted paths as <code>--set</code> accepts them; "(not set)" means the '
        f"setting does not exist in that scenario.</p>\n<table><tr><th>setting</th>{head}</tr>"
        f"{body}</table>"
    )


def _setting(value: Any) -> str:
    if value is None:
        return "(not set)"
    return value if isinstance(value, str) else json.dumps(value)


# --- method, seeds, reproduction ----------------------------------------------------------


def _how_to_read(baseline: str) -> str:
    return (
        "<p>Every scenario was run with the same replicate seeds, so replicate <i>i</i> of "
        "every scenario meets the same customers, the same random draws and the same events "
        "wherever the scenarios' settings agree (common random numbers). A difference to "
        f"{escape(baseline)} is therefore measured replicate by replicate: the interval is a "
        "paired t interval (scipy.stats.ttest_rel) of the per-replicate differences, narrower "
        "than comparing two independent samples because shared luck cancels out.</p>"
        "<p>A 95% confidence interval is the range of values of the true mean (or mean "
        "difference) that these replicates are consistent with; more replicates make it "
        "narrower. Means get a t interval of the mean. Every interval is cut to what the KPI "
        "can be (a share lies in [0, 1], a count is never negative, reps in post never exceed "
        "the headcount); the true mean lies within those limits, so cutting never makes an "
        "interval less reliable, and an interval cut at a limit is shown as [low, high]. "
        'A difference marked <span class="sig">*</span> (p &lt; 0.05) has an '
        "interval that excludes zero: the simulation, at these settings, supports that the "
        "scenarios differ. An unmarked difference may still be real but is not resolved "
        "by this many replicates. With many KPIs some marks arise by chance (about 1 in 20 "
        "where there is no real difference), so judge the headline KPIs first. The intervals "
        "are about the model's randomness; they say nothing about whether the scenario's "
        "inputs are right.</p>"
    )


def _seeds_and_versions(manifest: dict[str, Any]) -> str:
    seeds = ", ".join(str(s) for s in manifest.get("seeds", []))
    versions = manifest.get("versions", {})
    rows = "".join(
        f"<tr><th>{escape(str(k))}</th><td>{escape(str(v))}</td></tr>" for k, v in versions.items()
    )
    return (
        f"<p>Base seed {escape(str(manifest.get('base_seed')))}, "
        f"{escape(str(manifest.get('replicates')))} replicates, run on "
        f"{escape(str(manifest.get('created', '')))} with "
        f"{escape(str(manifest.get('workers', 1)))} worker(s) (the number of workers does not "
        f"change the results).</p>\n<p>Replicate seeds: <code>{escape(seeds)}</code></p>\n"
        f"<table>{rows}</table>"
    )


def _reproduce(manifest: dict[str, Any]) -> str:
    where = manifest.get("working_directory")
    lines = ([f"cd {where}"] if where else []) + [str(manifest.get("command", ""))]
    return (
        "<p>From the folder it was run in, with the same scenario files and versions "
        "(give another <code>--out</code>, or none, if this folder is still there):</p>\n"
        f"<pre>{escape(chr(10).join(lines))}</pre>\n"
        '<p class="note">The resolved scenarios (every setting, after <code>extends:</code> and '
        "<code>--set</code>) are in <code>manifest.json</code> beside this report.</p>"
    )
