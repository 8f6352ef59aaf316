"""The dashboard's logic: levers from the schema, runs that match `channelsim compare`, a
cache that makes a setting seen before instant, and one state per browser session.

The app is driven with Streamlit's AppTest (the script runs in this process; its runs go
to a worker process as in the server). Small scenarios, 13 weeks, 2 replicates.
"""

from __future__ import annotations

import logging
import os
import time
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from conftest import SMALL
from streamlit.testing.v1 import AppTest

import channelsim
from channelsim.cli import main
from channelsim.dashboard import jobs
from channelsim.dashboard import levers as lv
from channelsim.scenario.schema import CHANNEL_STRATEGIES

APP = Path(channelsim.__file__).parent / "dashboard" / "app.py"
SEED = 3


# --- levers ----------------------------------------------------------------------------


def by_path(scenario):
    return {lever.path: lever for lever in lv.levers(scenario)}


def test_levers_take_widget_kinds_and_ranges_from_the_schema(make_scenario):
    levers = by_path(make_scenario())
    assert levers["strategy"].kind == "select"
    assert levers["strategy"].options == CHANNEL_STRATEGIES
    assert levers["online.enabled"].kind == "toggle"
    rate = levers["reps.commission.rate"]
    assert (rate.kind, rate.low, rate.high, rate.value) == ("slider", 0.0, 1.0, 0.05)
    assert levers["pricing.rep_max_discount"].high < 1.0  # the schema says lt=1
    assert (levers["reps.headcount"].kind, levers["reps.headcount"].high) == ("int", 100_000)
    assert levers["reps.capacity"].kind == "float" and levers["reps.capacity"].high is None
    assert levers["market.segments.large.volume"].group == "market"
    assert levers["market.segments.large.volume"].section == "market.segments.large"
    assert "weeks" not in levers and "seed" not in levers  # set in the run panel


def test_levers_follow_the_order_of_the_file_and_list_what_they_leave_out(make_scenario):
    scenario = make_scenario()
    groups = list(dict.fromkeys(lever.group for lever in lv.levers(scenario)))
    assert groups[:4] == ["scenario", "market", "pricing", "general_agents"]
    assert "reps.commission.tiers" in lv.left_out(scenario)
    assert "general_agents.agents.GA.regions" in lv.left_out(scenario)


def test_a_slider_moved_back_within_half_a_step_is_not_a_change(make_scenario):
    levers = lv.levers(make_scenario())
    rate = by_path(make_scenario())["reps.commission.rate"]
    assert lv.changes(levers, {rate.path: rate.value + rate.step / 3}) == {}
    assert lv.changes(levers, {rate.path: 0.08}) == {rate.path: 0.08}


def test_the_settings_file_extends_the_original_and_loads_to_the_variant(tmp_path):
    original = tmp_path / "small.yaml"
    original.write_text(yaml.safe_dump(SMALL))
    base = channelsim.load_scenario(original)
    changed = {"reps.commission.rate": 0.08, "market.segments.small.volume": 2.0}
    variant = base.with_overrides({**changed, "name": "small-edited"})
    saved = tmp_path / "elsewhere" / "edited.yaml"
    saved.parent.mkdir()
    saved.write_text(lv.extends_text(original.resolve(), variant, changed))
    text = yaml.safe_load(saved.read_text())
    assert text["extends"] == str(original.resolve())
    assert text["reps"] == {"commission": {"rate": 0.08}}
    assert channelsim.load_scenario(saved) == variant


# --- the app ---------------------------------------------------------------------------


@pytest.fixture
def app(tmp_path, monkeypatch):
    """A new browser session on a dashboard started with two small scenario files."""
    files = []
    for name, strategy in (("small", "parallel"), ("small_direct", "direct")):
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump({**SMALL, "name": name, "strategy": strategy}))
        files.append(str(path))
    monkeypatch.setenv("CHANNELSIM_DASHBOARD_SCENARIOS", ":".join(files))
    monkeypatch.setenv("CHANNELSIM_DASHBOARD_WORKERS", "1")
    # AppTest runs the script without a server; Streamlit warns about that on every call.
    monkeypatch.setattr(logging.getLogger("streamlit"), "level", logging.ERROR)

    def session() -> AppTest:
        at = AppTest.from_file(str(APP), default_timeout=60)
        at.run()
        at.number_input(key="n").set_value(2)
        at.number_input(key="weeks:small").set_value(13)
        at.number_input(key="seed:small").set_value(SEED)
        return at.run()

    session.files = files
    return session


def no_errors(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def run_and_wait(at: AppTest, timeout: float = 90) -> AppTest:
    """Press Run, then poll as the page's progress fragment does until the runs are in."""
    at.button(key="run").click().run()
    deadline = time.monotonic() + timeout
    while at.get("progress") and time.monotonic() < deadline:
        time.sleep(0.3)
        at.run()
    no_errors(at)
    assert not at.get("progress"), "the runs did not finish"
    return at


def lever(at: AppTest, path: str):
    widgets = [*at.slider, *at.number_input, *at.toggle, *at.selectbox]
    [found] = [w for w in widgets if w.help and f"`{path}`" in w.help]
    return found


def shown(at: AppTest) -> channelsim.Comparison:
    return at.session_state["shown"][1]


def test_the_page_offers_the_given_files_first_then_the_bundled_scenarios(app):
    at = app()
    no_errors(at)
    options = at.selectbox(key="source").options
    assert options[:2] == app.files
    assert "bundled: parallel.yaml" in options
    labels = [e.label for e in at.expander]
    assert labels[:3] == ["scenario", "market", "pricing"]
    assert at.info[0].value == "Press Run to simulate these scenarios."


def without_charts(monkeypatch) -> None:
    """Results folders without PNGs: these tests check numbers, and drawing takes seconds."""
    from channelsim.output import charts, network  # what output.folders draws with

    monkeypatch.setattr(charts, "compare_recipes", lambda *tables: {})
    monkeypatch.setattr(charts, "run_recipes", lambda *tables: {})
    monkeypatch.setattr(network, "network_recipes", lambda scenarios: {})


def test_a_run_gives_the_tables_of_channelsim_compare(app, tmp_path, monkeypatch):
    without_charts(monkeypatch)
    at = app()
    lever(at, "reps.commission.rate").set_value(0.1).run()
    lever(at, "online.enabled").set_value(True).run()
    no_errors(at)
    job = shown(run_and_wait(at))
    assert job.names == ["small", "small-edited"]

    edited = tmp_path / "edited.yaml"
    variant = job.scenarios[1]
    edited.write_text(yaml.safe_dump(variant.model_dump(mode="json")))
    out = tmp_path / "cli"
    args = ["compare", app.files[0], str(edited), "-n", "2", "--seed", str(SEED)]
    result = CliRunner().invoke(main, [*args, "--set", "weeks=13", "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    for table in ("summary", "differences", "kpis"):
        pd.testing.assert_frame_equal(
            getattr(job, table).reset_index(drop=True),
            pd.read_csv(out / f"{table}.csv"),
            check_dtype=False,
        )
    kpi_table = at.table[1].value  # after the changed settings
    assert list(kpi_table.columns) == ["small (baseline)", "small-edited"]
    assert kpi_table.loc["company_profit"].str.contains("±").all()
    costs = pd.read_csv(out / "conflict_costs.csv")
    [conflict_table] = [t.value for t in at.table if t.value.index[0] == "conflicts"]
    assert list(conflict_table.index) == list(dict.fromkeys(costs["kpi"]))  # compare's items


def test_a_setting_seen_before_shows_its_results_without_running_again(app):
    at = app()
    run_and_wait(at)
    lever(at, "reps.commission.rate").set_value(0.1).run()
    assert at.warning[0].value.startswith("These results are for earlier settings")
    run_and_wait(at)
    cached = len(at.session_state["runs"].results)
    assert cached == 2  # small, then small-edited (small itself was not run twice)

    lever(at, "reps.commission.rate").set_value(0.05).run()  # back to the file's value
    assert not at.warning and not at.get("progress")
    assert shown(at).names == ["small"]
    lever(at, "reps.commission.rate").set_value(0.1).run()  # and forward again
    assert not at.warning and not at.get("progress")
    assert shown(at).names == ["small", "small-edited"]
    assert len(at.session_state["runs"].results) == cached


def test_changed_settings_are_highlighted_and_listed(app):
    at = app()
    lever(at, "dealers.markup").set_value(0.3).run()
    assert lever(at, "dealers.markup").label == ":orange[**markup**]"
    assert lever(at, "reps.capacity").label == "capacity"
    assert ":orange[1 changed in dealers]" in [c.value for c in at.caption]
    [changes] = [t for t in at.table if "setting" in t.value.columns]
    assert changes.value["setting"].tolist() == ["dealers.markup"]


def test_settings_the_schema_refuses_are_one_line_on_the_page(app):
    at = app()
    lever(at, "pricing.rep_discount").set_value(0.5).run()  # above rep_max_discount 0.2
    assert not at.exception
    assert "rep_discount (0.5) must not exceed rep_max_discount" in at.error[0].value


def test_each_browser_session_has_its_own_levers_and_results(app):
    first, second = app(), app()
    lever(first, "reps.commission.rate").set_value(0.1).run()
    run_and_wait(first)
    second.run()
    assert lever(second, "reps.commission.rate").value == 0.05
    assert "shown" not in second.session_state
    assert len(second.session_state["runs"].results) == 0
    assert second.session_state["runs"] is not first.session_state["runs"]
    assert shown(first).names == ["small", "small-edited"]


def test_the_other_scenarios_join_the_comparison(app):
    at = app()
    at.multiselect(key=f"others:{app.files[0]}").set_value([app.files[1]]).run()
    job = shown(run_and_wait(at))
    assert job.names == ["small", "small_direct"]
    assert job.baseline == "small"


def test_the_dashboard_command_checks_its_files_before_starting_a_server(tmp_path):
    result = CliRunner().invoke(main, ["dashboard", str(tmp_path / "missing.yaml")])
    assert result.exit_code == 2
    assert "missing.yaml" in result.output and "Traceback" not in result.output
    assert "dashboard on http" not in result.output


@pytest.mark.parametrize(
    "asked, pool", [([], 2), (["--workers", "3"], 3), (["--workers", "auto"], 6)]
)
def test_the_dashboard_shares_the_workers_asked_or_one_per_core(monkeypatch, asked, pool):
    import subprocess

    from channelsim.dashboard import app
    from channelsim.experiments import resources

    started = {}
    monkeypatch.setattr(resources, "usable_cpus", lambda: 6)
    monkeypatch.setattr(subprocess, "call", lambda command, env: started.update(env) or 0)
    result = CliRunner().invoke(main, ["dashboard", "--no-browser", *asked])
    assert result.exit_code == 0, result.output
    monkeypatch.setenv("CHANNELSIM_DASHBOARD_WORKERS", started["CHANNELSIM_DASHBOARD_WORKERS"])
    assert app.workers() == pool  # what the page's shared pool is made with


# --- the worker pool ---------------------------------------------------------------------------


class KillsItsFirstWorker(jobs.WorkerPool):
    """A pool whose first task ends its worker process, as the out-of-memory killer would."""

    killed = False

    def submit(self, fn, item):
        if not self.killed:
            self.killed = True
            return super().submit(os._exit, 1)
        return super().submit(fn, item)


DIED = (
    "a worker process stopped during the run (killed, or out of memory?); the workers have "
    "been restarted: press Run to try again"
)


@pytest.fixture
def tiny(make_scenario):
    return make_scenario(weeks=4)


def finished(job: jobs.Job) -> jobs.Job:
    job.thread.join(timeout=120)
    assert job.finished, "the run did not finish"
    return job


def test_a_run_whose_worker_dies_fails_with_one_line_and_the_next_run_works(tiny):
    pool = KillsItsFirstWorker(1)
    try:
        failed = finished(jobs.start(jobs.Job(tiny, 1, 2), pool))
        assert failed.result is None
        assert failed.error == f"{tiny.name}: {DIED}"
        assert pool.generation == 1  # replaced at once, not at the next run

        again = finished(jobs.start(jobs.Job(tiny, 1, 2), pool))
        assert again.error is None
        expected = channelsim.run(tiny, replicates=2, seed=1)
        pd.testing.assert_frame_equal(again.result.kpis, expected.kpis)
        assert pool.generation == 1

        # A worker that dies between runs: nobody notices until the next run starts.
        future, generation = pool.submit(os._exit, 1)
        with pytest.raises(BrokenProcessPool):
            future.result(timeout=120)
        assert generation == pool.generation == 1
        third = finished(jobs.start(jobs.Job(tiny, 1, 2), pool))
        assert third.error is None and len(third.result.kpis) == 2
        assert pool.generation == 2
    finally:
        pool.shutdown()


def test_the_page_says_a_worker_died_and_the_next_run_works(app, monkeypatch):
    import streamlit as st

    without_charts(monkeypatch)
    monkeypatch.setattr(jobs, "WorkerPool", KillsItsFirstWorker)
    st.cache_resource.clear()  # the page's pool: a new one, of the kind above
    try:
        at = app()
        at.button(key="run").click().run()
        deadline = time.monotonic() + 90
        while at.get("progress") and time.monotonic() < deadline:
            time.sleep(0.3)
            at.run()
        assert [e.value for e in at.error] == [f"small: {DIED}"]
        assert "shown" not in at.session_state
        run_and_wait(at)  # this time no error on the page, and the results are shown
        assert shown(at).names == ["small"]
    finally:
        st.cache_resource.clear()
