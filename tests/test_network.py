"""The channel network picture says what the scenario file says."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import SCENARIOS
from matplotlib.backends.backend_agg import FigureCanvasAgg

from channelsim.cli import main
from channelsim.model.channel_model import ChannelModel
from channelsim.output.network import network_figure, network_recipes, regions


def texts(fig) -> str:
    return "\n".join(t.get_text() for ax in fig.axes for t in ax.texts + [ax.title])


@pytest.mark.parametrize(
    "settings",
    [
        {"strategy": "parallel"},
        {"strategy": "parallel", "reps": {"role": "mixed", "channel_manager_share": 0.4}},
        {"strategy": "intermediary"},
        {"strategy": "direct", "reps": {"headcount": 7}},
        {"strategy": "parallel", "reps": {"role": "channel_manager"}},
    ],
)
def test_reps_per_region_and_roles_are_those_the_model_builds(make_scenario, settings):
    scenario = make_scenario(**settings)
    model = ChannelModel(scenario, seed=1)
    drawn = regions(scenario)
    for r, region in enumerate(drawn):
        in_region = model.reps.region == r
        assert region.sellers + region.channel_managers == in_region.sum()
        assert region.channel_managers == model.reps.is_manager[in_region].sum()
        assert region.dealers == np.sum(model.dealers.region == r)
        assert region.customers == np.sum(model.population.region == r)


def test_the_picture_names_agents_dealers_reps_channels_and_the_engagement_rule(make_scenario):
    scenario = make_scenario(
        engagement={"large_accounts": "deal_registration", "registration_weeks": 13},
        online={"enabled": True, "discount": 0.05},
    )
    text = texts(network_figure(scenario))
    assert "GA\nmarkup 10%" in text
    assert text.count("2 dealers (markup 25%)") == 2
    assert "reps: 3 selling" in text
    assert "Online: 5% off list" in text
    assert "Telesales: off" in text
    assert "deal_registration" in text and "13 weeks" in text
    assert "North: 1,260 customers\n(60 large accounts)" in text


def test_a_direct_picture_has_no_dealers_and_a_flattened_one_no_general_agent(make_scenario):
    direct = texts(network_figure(make_scenario(strategy="direct")))
    assert " dealers (markup" not in direct and "GA\n" not in direct
    flat = texts(network_figure(make_scenario(flattened=True)))
    assert "GA\n" not in flat and "flattened" in flat and "2 dealers" in flat


def test_several_scenarios_get_one_picture_each_with_safe_names(make_scenario):
    figures = network_recipes([make_scenario(name="a/b"), make_scenario(name="c d")])
    assert list(figures) == ["network_a_b", "network_c_d"]


def test_validate_draws_the_picture_into_a_png(tmp_path):
    out = tmp_path / "pictures" / "net.png"
    args = ["validate", str(SCENARIOS / "parallel.yaml"), "--picture", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"Network picture: {out}" in result.output


def test_validate_refuses_a_picture_that_is_not_png(tmp_path):
    args = ["validate", str(SCENARIOS / "parallel.yaml"), "--picture", str(tmp_path / "n.jpg")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert "must end in .png" in result.output
    assert not (tmp_path / "n.jpg").exists()


def test_the_report_shows_each_scenarios_network(make_scenario):
    import channelsim

    job = channelsim.compare(
        [make_scenario(name="p", weeks=8), make_scenario(name="d", strategy="direct", weeks=8)],
        replicates=2,
    )
    page = channelsim.api.report_html(job)
    for name in ("p", "d"):
        assert f'<figure id="network_{name}"><img src="data:image/png;base64,' in page
        assert f"The channel network of {name}, drawn from its settings." in page


@pytest.mark.parametrize("strategy", ["direct", "intermediary", "parallel"])
def test_every_text_of_the_picture_lies_inside_it(make_scenario, strategy):
    """The engagement rule of a direct or intermediary scenario is the longest line."""
    fig = network_figure(make_scenario(strategy=strategy))
    canvas = FigureCanvasAgg(fig)  # chart figures come without a canvas (no pyplot)
    canvas.draw()
    renderer = canvas.get_renderer()
    page = fig.bbox
    drawn = [t for ax in fig.axes for t in (*ax.texts, ax.title)] + list(fig.texts)
    for text in drawn:
        if not text.get_text():
            continue
        box = text.get_window_extent(renderer)
        assert page.x0 - 1 <= box.x0 and box.x1 <= page.x1 + 1, text.get_text()
        assert page.y0 - 1 <= box.y0 and box.y1 <= page.y1 + 1, text.get_text()


def test_every_run_and_comparison_folder_holds_the_network_picture(tmp_path, monkeypatch):
    import yaml
    from conftest import SMALL

    from channelsim.output import charts

    # only the pictures: the other charts take seconds and are tested elsewhere
    monkeypatch.setattr(charts, "run_recipes", lambda *tables: {})
    monkeypatch.setattr(charts, "compare_recipes", lambda *tables: {})
    files = []
    for name, strategy in (("a", "parallel"), ("b", "direct")):
        files.append(tmp_path / f"{name}.yaml")
        files[-1].write_text(yaml.safe_dump({**SMALL, "name": name, "strategy": strategy}))
    for args, pictures in (
        (["run", files[0]], ["network.png"]),
        (["compare", *files], ["network_a.png", "network_b.png"]),
    ):
        out = tmp_path / args[0]
        command = [*map(str, args), "-n", "1", "--weeks", "4", "--out", str(out), "-q"]
        result = CliRunner().invoke(main, command)
        assert result.exit_code == 0, result.output
        assert sorted(p.name for p in (out / "charts").iterdir()) == pictures
