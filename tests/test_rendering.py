"""Charts are rendered where they do not hold up a command: the same PNG bytes whether
this process or local worker processes render them, written as each one comes back."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest
from conftest import SMALL
from matplotlib.figure import Figure

from channelsim import api
from channelsim.output import charts, fonts, network, rendering
from channelsim.scenario.loading import deep_merge, validate


@pytest.fixture(scope="module")
def recipes() -> dict[str, rendering.Recipe]:
    """A comparison's charts: enough of them for two workers."""
    small = validate({**SMALL, "weeks": 6}, source="test scenario")
    job = api.compare([small, small.with_overrides({"name": "other", "strategy": "direct"})], 2)
    found = {
        **charts.compare_recipes(job.kpis, job.weekly, job.summary, job.differences),
        **network.network_recipes(job.scenarios),
    }
    assert len(found) >= 2 * rendering.CHARTS_PER_WORKER
    return found


def test_workers_render_the_bytes_this_process_renders(recipes, tmp_path: Path) -> None:
    here = rendering.save_recipes(recipes, tmp_path / "here", workers=1)
    there = rendering.save_recipes(recipes, tmp_path / "there", workers=2)
    assert [p.stem for p in here] == [p.stem for p in there] == list(recipes)
    for a, b in zip(here, there, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
        assert a.read_bytes().startswith(b"\x89PNG")


def test_a_few_charts_are_rendered_here_where_a_worker_would_not_pay(
    recipes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[int] = []
    real = rendering.make_executor
    monkeypatch.setattr(rendering, "make_executor", lambda n: made.append(n) or real(n))
    few = dict(list(recipes.items())[: rendering.CHARTS_PER_WORKER + 1])
    rendering.save_recipes(few, tmp_path / "few", workers=2)
    rendering.save_recipes(recipes, tmp_path / "many", workers=2)
    assert made == [1, 2]


def test_fixed_titles_draw_every_chart_as_automatic_ones_do(recipes) -> None:
    """The shortcut that saves measuring tick labels for titles changes no picture."""
    for name, recipe in recipes.items():
        assert rendering.render((name, recipe))[1] == rendering.png_bytes(recipe()), name


def test_a_saved_figure_is_the_rendered_recipe(recipes, tmp_path: Path) -> None:
    name, recipe = next(iter(recipes.items()))
    [saved] = charts.save_figures({name: recipe()}, tmp_path)
    [rendered] = rendering.save_recipes({name: recipe}, tmp_path / "r")
    assert saved.read_bytes() == rendered.read_bytes()


def chinese_chart() -> Figure:
    fig = Figure()
    fig.subplots().bar(["上海", "北京"], [1, 2])
    return fig


def test_a_missing_cjk_font_is_said_once_for_all_the_charts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(fonts, "cjk_family", lambda: None)
    rendering.save_recipes({"a": chinese_chart, "b": chinese_chart}, tmp_path)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "fonts-noto-cjk" in err


def test_charts_of_latin_names_say_nothing_about_fonts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(fonts, "cjk_family", lambda: None)
    scenario = validate(deep_merge(SMALL, {"name": "plain"}), source="test scenario")
    rendering.save_recipes({"n": partial(network.network_figure, scenario)}, tmp_path)
    assert capsys.readouterr().err == ""
