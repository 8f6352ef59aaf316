"""The public Python API: what a notebook calls, the CLI and the dashboard too."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import SMALL

from channelsim import api


def test_the_api_takes_a_scenario_file_as_readily_as_a_scenario(tmp_path: Path) -> None:
    """A notebook may pass the path it would give the command line."""
    import yaml

    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump({**SMALL, "weeks": 4}))
    loaded = api.load_scenario(path)
    by_path = api.run(str(path), replicates=2, seed=5)
    by_object = api.run(loaded, replicates=2, seed=5)
    pd.testing.assert_frame_equal(by_path.kpis, by_object.kpis, check_exact=True)
    job = api.compare([path, loaded.with_overrides({"name": "other"})], replicates=2)
    assert job.names == [loaded.name, "other"]
    with pytest.raises(TypeError, match="expected a Scenario or the path of a scenario file"):
        api.run({"name": "not loaded"})
    with pytest.raises(TypeError, match="expected a list of scenarios .* found one"):
        api.compare(str(path))  # not read letter by letter
