"""What a non-editable install carries: the validation scenarios `validate-model` runs."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from channelsim.experiments.validation import FOLDER

ROOT = Path(__file__).resolve().parents[1]


def test_the_wheel_ships_every_validation_scenario_as_a_file(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
         "-w", str(tmp_path), str(ROOT)],
        check=True, capture_output=True,
    )  # fmt: skip
    (wheel,) = tmp_path.glob("channelsim-*.whl")
    shipped = {
        Path(name).name
        for name in zipfile.ZipFile(wheel).namelist()
        if name.startswith("channelsim/experiments/validation_scenarios/")
    }
    expected = {p.name for p in (ROOT / "scenarios" / "validation").glob("*.yaml")}
    assert expected and shipped == expected


def test_validate_model_reads_the_scenarios_from_inside_the_package() -> None:
    package = Path(__file__).resolve().parents[1] / "src" / "channelsim"
    assert FOLDER.parent == package / "experiments"
    assert (FOLDER / "integrated.yaml").is_file()
