"""The channelsim dashboard: move a lever, run, and see the comparison with its intervals.

Started by `channelsim dashboard` (`streamlit run` on this file). Every number comes from
the public API (`channelsim.api`); the model runs in a worker process pool, and each
browser session keeps its own levers, runs and results in its `st.session_state`.

Settings from the command line arrive as environment variables (`streamlit run` passes
no options of ours): CHANNELSIM_DASHBOARD_SCENARIOS (paths joined with os.pathsep) and
CHANNELSIM_DASHBOARD_WORKERS.
"""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path
from typing import Any

import streamlit as st

from channelsim import api
from channelsim.dashboard import jobs
from channelsim.dashboard import levers as lv
from channelsim.errors import ChannelsimError
from channelsim.experiments import conflict, resources
from channelsim.output import charts, display, network

BUNDLED = Path(__file__).resolve().parents[3] / "scenarios"
MAX_UPLOAD = 1_000_000
# The cost of conflict shows the items `compare` and the report show, in their order.
CONFLICT_KPIS = tuple(kpi for kpi, _, _ in conflict.ITEMS)


@st.cache_resource
def worker_pool(workers: int) -> jobs.WorkerPool:
    """The server's worker processes (shared compute, no shared state: a run is one task)."""
    return jobs.WorkerPool(workers)


def scenario_sources() -> dict[str, Path]:
    """Label -> file: the files given on the command line, then the bundled scenarios."""
    given = os.environ.get("CHANNELSIM_DASHBOARD_SCENARIOS", "").split(os.pathsep)
    bundled = sorted(BUNDLED.glob("*.yaml")) if BUNDLED.is_dir() else []
    sources = {p: Path(p) for p in given if p}
    sources.update({f"bundled: {p.name}": p for p in bundled})
    sources.update(st.session_state.get("uploads", {}))
    return sources


def upload_box() -> None:
    """Keep an uploaded scenario file in this session's own temporary folder, and pick it.

    An uploaded file has nothing beside it, so it cannot `extends:` another file (loading
    it then says which file it looked for).
    """
    uploaded = st.sidebar.file_uploader("or upload a scenario file", type=["yaml", "yml"])
    if uploaded is None or uploaded.file_id in st.session_state.setdefault("seen_uploads", []):
        return
    st.session_state.seen_uploads.append(uploaded.file_id)
    data = uploaded.getvalue()
    if len(data) > MAX_UPLOAD:
        st.sidebar.error(f"{uploaded.name}: over {MAX_UPLOAD:,} bytes")
        return
    if "upload_dir" not in st.session_state:
        st.session_state.upload_dir = tempfile.TemporaryDirectory(prefix="channelsim-upload-")
    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in Path(uploaded.name).name)
    name = name if name.strip(".") else "upload.yaml"
    path = Path(st.session_state.upload_dir.name) / name
    path.write_bytes(data)
    label = f"uploaded: {name}"
    st.session_state.setdefault("uploads", {})[label] = path
    st.session_state.source = label  # show the new file (before its select box is drawn)


def load(path: Path) -> api.Scenario | None:
    try:
        return api.load_scenario(path)
    except ChannelsimError as exc:
        st.error(str(exc))
        return None


def lever_widget(lever: lv.Lever, key: str, changed: bool) -> Any:
    label = f":orange[**{lever.label}**]" if changed else lever.label
    help_text = "\n\n".join(x for x in (lever.help, f"`{lever.path}`; file: {lever.value}") if x)
    if lever.kind == "toggle":
        return st.toggle(label, value=lever.value, key=key, help=help_text)
    if lever.kind == "select":
        options = list(lever.options)
        return st.selectbox(
            label, options, index=options.index(lever.value), key=key, help=help_text
        )
    if lever.kind == "slider":
        is_int = isinstance(lever.value, int)
        return st.slider(
            label,
            min_value=int(lever.low) if is_int else lever.low,
            max_value=int(lever.high) if is_int else lever.high,
            value=lever.value,
            step=lever.step if not is_int else 1,
            format=None if is_int else "%.3f",
            key=key,
            help=help_text,
        )
    if lever.kind == "int":
        return st.number_input(
            label,
            min_value=None if lever.low is None else int(lever.low),
            max_value=None if lever.high is None else int(lever.high),
            value=lever.value,
            step=1,
            key=key,
            help=help_text,
        )
    magnitude = abs(lever.value)
    return st.number_input(
        label,
        min_value=lever.low,
        max_value=lever.high,
        value=lever.value,
        step=float(10 ** (len(str(int(magnitude))) - 2)) if magnitude >= 10 else 0.01,
        format="%.1f" if magnitude >= 10 else "%.3f",
        key=key,
        help=help_text,
    )


def lever_panel(all_levers: list[lv.Lever], prefix: str) -> dict[str, Any]:
    """One expander per section of the file, the changed settings highlighted."""
    values: dict[str, Any] = {}
    groups: dict[str, list[lv.Lever]] = {}
    for lever in all_levers:
        groups.setdefault(lever.group, []).append(lever)
    for group, members in groups.items():
        keys = {lever.path: f"lever:{prefix}:{lever.path}" for lever in members}
        changed_before = lv.changes(
            members, {p: st.session_state[k] for p, k in keys.items() if k in st.session_state}
        )
        # A fixed title: a new title would be a new expander, closed again after each change.
        with st.expander(group, expanded=group == "scenario"):
            if changed_before:
                st.caption(f":orange[{len(changed_before)} changed in {group}]")
            section = None
            for lever in members:
                if lever.section != section and lever.section != group:
                    st.markdown(f"**{lever.section.removeprefix(group + '.')}**")
                section = lever.section
                values[lever.path] = lever_widget(
                    lever, keys[lever.path], lever.path in changed_before
                )
    return values


def run_panel(base: api.Scenario) -> tuple[int, int, int, bool]:
    with st.sidebar:
        st.subheader("Run")
        replicates = st.number_input("replicates", 2, 1000, min(base.replicates, 10), key="n")
        weeks = st.number_input("weeks", 1, 5200, base.weeks, key=f"weeks:{base.name}")
        seed = st.number_input("seed", 0, 2**53 - 1, base.seed, key=f"seed:{base.name}")
        clicked = st.button("Run", type="primary", key="run")
    return int(replicates), int(weeks), int(seed), clicked


def figure_png(fig: Any) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def pictures(job: api.Comparison, key: str) -> dict[str, bytes]:
    """The result figures, drawn once per result set of this session."""
    cache = st.session_state.setdefault("pictures", {})
    if key not in cache:
        present = set(job.summary["kpi"])
        figures = {
            "weekly_company_profit": charts.metric_over_time(
                job.weekly,
                "company_profit",
                "company profit per week (money, 4-week mean)",
                "Company profit over time (mean and 5-95% band across replicates)",
                rolling=4,
            ),
            "revenue_by_channel": charts.revenue_by_channel(job.weekly),
            "where_the_money_goes": charts.where_the_money_goes(job.kpis),
            "conflict": charts.kpi_bars(
                job.summary, [k for k in CONFLICT_KPIS if k in present], "Rep-dealer conflict"
            ),
        }
        if len(job.names) > 1:
            figures["differences"] = charts.differences_to_baseline(job.differences, job.summary)
        cache.clear()  # keep only the newest set: figures are cheap to redraw, memory is not
        cache[key] = {name: figure_png(fig) for name, fig in figures.items()}
    return cache[key]


def conflict_table(job: api.Comparison) -> Any:
    """The cost of conflict as `compare` shows it (its items, in money where they are money),
    per scenario, and each difference to the baseline."""
    import pandas as pd

    cells = display.comparison_cells(job.summary, job.differences)
    rows = [k for k in CONFLICT_KPIS if k in cells.index]
    table = cells.loc[rows]
    if len(job.names) > 1:
        diffs = job.differences.set_index(["kpi", "scenario"])
        for name in job.names:
            if name == job.baseline:
                continue
            table[f"{name} - {job.baseline}"] = [
                _difference(diffs.loc[(kpi, name)]) for kpi in rows
            ]
    return pd.DataFrame(table)


def markdown_safe(table: Any) -> Any:
    """st.table reads cells as Markdown: a lone '-' (no value) would become a bullet."""
    return table.map(lambda cell: "\\-" if str(cell).strip() == "-" else cell)


def _difference(row: Any) -> str:
    if row["mean_diff"] != row["mean_diff"]:
        return "-"
    return (
        f"{display.number(row['mean_diff'])} "
        f"[{display.number(row['ci_low'])}, {display.number(row['ci_high'])}]"
    )


def results_panel(job: api.Comparison, key: str, current: bool) -> None:
    if not current:
        st.warning("These results are for earlier settings: press Run for the current ones.")
    st.subheader("KPIs")
    st.table(markdown_safe(display.comparison_cells(job.summary, job.differences)))
    st.caption(display.comparison_legend(job.summary, job.differences))
    images = pictures(job, key)
    if "differences" in images:
        st.subheader("Differences to the baseline")
        st.image(images["differences"])
    st.subheader("Weekly series")
    st.image(images["weekly_company_profit"])
    st.image(images["revenue_by_channel"])
    st.subheader("Where the money goes")
    st.image(images["where_the_money_goes"])
    st.subheader("The cost of conflict")
    st.table(markdown_safe(conflict_table(job)))
    st.image(images["conflict"])
    # The workbook is built with the results (a second): a deferred download was seen to
    # serve the previous run's file after a rerun. The report (slower) stays deferred, in a
    # container keyed by the result set so that a new run gives a new button.
    workbooks = st.session_state.setdefault("workbooks", {})
    if key not in workbooks:
        workbooks.clear()
        workbooks[key] = api.workbook(job)
    tag = jobs.settings_key(key)
    left, right = st.container(key=f"downloads-{tag}").columns(2)
    left.download_button(
        "Download the HTML report",
        data=lambda: api.report_html(job),
        file_name="report.html",
        mime="text/html",
        disabled=len(job.names) < 2,
        key=f"download_report:{tag}",
        on_click="ignore",
    )
    right.download_button(
        "Download the Excel workbook",
        data=workbooks[key],
        file_name="results.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key=f"download_excel:{tag}",
        on_click="ignore",
    )


@st.fragment(run_every=0.5)
def progress_panel(keys: list[str]) -> None:
    """Poll the running jobs; rerun the page when they are done."""
    runs: jobs.Runs = st.session_state.runs
    errors = runs.collect()
    done, total = runs.progress(keys)
    st.progress(done / max(total, 1), text=f"running: {done} of {total} replicates")
    if errors or not any(k in runs.jobs for k in keys):
        st.session_state.setdefault("errors", []).extend(errors)
        st.rerun()


def main() -> None:
    st.set_page_config(page_title="channelsim dashboard", layout="wide")
    st.title("channelsim: compare channel strategies")
    runs: jobs.Runs = st.session_state.setdefault("runs", jobs.Runs())
    for error in st.session_state.pop("errors", []):
        st.error(error)
    for error in runs.collect():
        st.error(error)

    st.sidebar.header("Scenario")
    upload_box()
    sources = scenario_sources()
    if not sources:
        st.info("No scenario files: start with `channelsim dashboard SCENARIO.yaml`.")
        return
    labels = list(sources)
    label = st.sidebar.selectbox("scenario", labels, key="source")
    others = st.sidebar.multiselect(
        "compare also with", [x for x in labels if x != label], key=f"others:{label}"
    )
    base = load(sources[label])
    if base is None:
        return
    replicates, weeks, seed, clicked = run_panel(base)
    if base.description:
        st.caption(base.description)

    prefix = jobs.settings_key(label, str(sources[label]))
    all_levers = lv.levers(base)
    left, right = st.columns([1, 2])
    with left:
        st.subheader(f"Levers of {base.name}")
        if st.button("Reset all levers", key="reset"):
            for lever in all_levers:
                st.session_state.pop(f"lever:{prefix}:{lever.path}", None)
            st.rerun()
        values = lever_panel(all_levers, prefix)
    changed = lv.changes(all_levers, values)
    variant = None
    if changed:
        try:
            variant = base.with_overrides({**changed, "name": f"{base.name}-edited"})
        except ChannelsimError as exc:
            right.error(str(exc))

    with right:
        if changed:
            st.subheader("Changed settings")
            st.table(
                {
                    "setting": list(changed),
                    "file": [
                        str(next(v.value for v in all_levers if v.path == p)) for p in changed
                    ],
                    "now": [str(v) for v in changed.values()],
                }
            )
            if variant is not None:
                original = sources[label]
                target = original.name if label.startswith("uploaded: ") else original.resolve()
                st.download_button(
                    "Download these settings as a scenario file",
                    data=lv.extends_text(target, variant, changed),
                    file_name=f"{variant.name}.yaml",
                    mime="text/yaml",
                    key="download_settings",
                    on_click="ignore",
                )
        scenarios = [base] + ([variant] if variant is not None else [])
        scenarios += [s for s in (load(sources[o]) for o in others) if s is not None]
        scenarios = [
            s if s.weeks == weeks else s.with_overrides({"weeks": weeks}) for s in scenarios
        ]
        names = [s.name for s in scenarios]
        if len(set(names)) != len(names):
            st.error(f"scenario names must be distinct to be compared, found {names}")
            return
        keys = [jobs.run_key(s, seed, replicates) for s in scenarios]
        if clicked:
            for scenario in scenarios:
                runs.submit(scenario, seed, replicates, worker_pool(workers()))
        if any(k in runs.jobs for k in keys):
            progress_panel(keys)
        found = [runs.get(k) for k in keys]
        if all(found):
            job = api.combine(found)  # type: ignore[arg-type]
            st.session_state.shown = ("|".join(keys), job)
            results_panel(job, "|".join(keys), current=True)
        elif "shown" in st.session_state:
            results_panel(st.session_state.shown[1], st.session_state.shown[0], current=False)
        else:
            st.info("Press Run to simulate these scenarios.")
        st.subheader("Channel network")
        st.image(network_png(variant or base))


def workers() -> int:
    """The shared pool's size: `channelsim dashboard --workers` (auto: one per usable core)."""
    asked = os.environ.get("CHANNELSIM_DASHBOARD_WORKERS", "2").strip().lower()
    if asked == "auto":
        return resources.usable_cpus()
    try:
        return max(1, int(asked))
    except ValueError:
        return 2


def network_png(scenario: api.Scenario) -> bytes:
    cache = st.session_state.setdefault("network", {})
    key = jobs.run_key(scenario, 0, 0)
    if key not in cache:
        cache.clear()
        cache[key] = figure_png(network.network_figure(scenario))
    return cache[key]


# Streamlit runs this file as __main__; worker processes started with 'spawn' import the
# parent's main module as __mp_main__, and must not run the page.
if __name__ == "__main__":
    main()
