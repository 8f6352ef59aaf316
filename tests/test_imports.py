"""What each command imports: heavy libraries only where a command needs them.

Checked in a fresh interpreter (sys.modules after the command), never by timing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import SMALL

HEAVY = {"numpy", "pandas", "scipy", "matplotlib", "mesa", "pyarrow"}

CHILD = """
import json, sys
from channelsim.cli import main
try:
    main(sys.argv[1:], prog_name="channelsim")
except SystemExit as stop:
    code = stop.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def command_imports(*args: str) -> set[str]:
    """Every module loaded after `channelsim ARGS` ran (successfully) in a fresh process."""
    out = subprocess.run(
        [sys.executable, "-c", CHILD, *args], check=True, capture_output=True, text=True
    )
    found = json.loads(out.stdout.splitlines()[-1])
    assert found["code"] in (0, None)
    return set(found["modules"])


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["run", "--help"]])
def test_help_and_version_import_nothing_heavy(args: list[str]) -> None:
    packages = {name.split(".")[0] for name in command_imports(*args)}
    assert not packages & HEAVY


def test_a_run_without_charts_imports_neither_matplotlib_nor_scipy_stats(
    tmp_path: Path,
) -> None:
    scenario = tmp_path / "small.yaml"
    scenario.write_text(yaml.safe_dump(SMALL, sort_keys=False))
    out = tmp_path / "out"
    modules = command_imports(
        *("run", str(scenario), "-n", "2", "--set", "weeks=8", "--out", str(out)),
        *("-q", "--no-charts"),
    )
    assert "matplotlib" not in modules
    assert "scipy.stats" not in modules
    assert (out / "kpis.csv").is_file()
    assert not (out / "charts").exists()
    assert "charts/" not in json.loads((out / "manifest.json").read_text())["files"]


@pytest.mark.parametrize(
    "command",
    [["run", "-n", "2"], ["sweep", "--param", "reps.commission.rate=0.02:0.08:2", "-n", "1"]],
)
def test_a_command_whose_runs_are_on_workers_leaves_mesa_to_them(
    command: list[str], tmp_path: Path
) -> None:
    # The main process only gathers and writes results; Mesa (with scipy.spatial) is
    # imported by the workers' forkserver alone.
    scenario = tmp_path / "small.yaml"
    scenario.write_text(yaml.safe_dump(SMALL, sort_keys=False))
    out = tmp_path / "out"
    verb, *options = command
    modules = command_imports(
        verb, str(scenario), *options, "--workers", "2", "--set", "weeks=4", "--out", str(out),
        "-q", "--no-charts",
    )  # fmt: skip
    assert "mesa" not in modules
    assert "channelsim.model.channel_model" not in modules
    assert json.loads((out / "manifest.json").read_text())["status"] == "complete"


def test_the_engine_that_workers_preload_imports_no_statistics_optimiser_or_charts() -> None:
    code = (
        "import json, sys\n"
        "from channelsim.experiments.executors import ENGINE_MODULES\n"
        "for name in ENGINE_MODULES: __import__(name)\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    modules = set(json.loads(out.stdout))
    assert {"mesa", "channelsim.model.channel_model", "channelsim.experiments.sweep_run"} <= modules
    assert not modules & {"scipy.stats", "scipy.optimize", "matplotlib", "SALib", "distributed"}


CHART_MODULES = [
    "channelsim.output.charts",
    "channelsim.output.sweep_charts",
    "channelsim.output.optimize_charts",
    "channelsim.output.calibration_charts",
    "channelsim.output.explore_charts",
    "channelsim.output.network",
    "channelsim.output.fonts",
    "channelsim.output.folders",
    "channelsim.api",
]


def test_chart_modules_leave_the_notebooks_backend_alone_and_draw_without_pyplot() -> None:
    # A notebook's backend is chosen before channelsim is imported; setting Agg at import
    # (as the chart modules once did) turned its inline plots off.
    code = (
        "import json, sys\n"
        "import matplotlib\n"
        "matplotlib.use('svg')\n"
        f"for name in {CHART_MODULES!r}: __import__(name)\n"
        "from channelsim.output import charts\n"
        "import pandas as pd\n"
        "weekly = pd.DataFrame({'replicate': [0, 0], 'week': [0, 1], 'revenue': [1.0, 2.0]})\n"
        "fig = charts.metric_over_time(weekly, 'revenue', 'revenue', 'Revenue')\n"
        "print(json.dumps({'backend': matplotlib.get_backend(), 'figure': type(fig).__name__,\n"
        "                  'pyplot': 'matplotlib.pyplot' in sys.modules}))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    found = json.loads(out.stdout)
    assert found == {"backend": "svg", "figure": "Figure", "pyplot": False}


@pytest.mark.parametrize("args", [["--version"], ["run", "missing.yaml"]])
def test_the_entry_point_freezes_what_a_command_leaves_for_a_quick_exit(args: list[str]) -> None:
    # However the command ends (here: done, and refused with exit 2), the interpreter's exit
    # finds the heap frozen, so its cyclic collection skips what the imports made.
    code = (
        "import atexit, gc, sys\n"
        "atexit.register(lambda: print('frozen', gc.get_freeze_count() > 10_000))\n"
        f"sys.argv = ['channelsim', *{args!r}]\n"
        "from channelsim.__main__ import main\n"
        "main()\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == (0 if args == ["--version"] else 2)
    assert out.stdout.splitlines()[-1] == "frozen True"
