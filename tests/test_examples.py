"""The example scripts run as documented (so docs/api.md never rots)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_comparison_example_prints_every_strategy_and_writes_a_complete_folder(
    tmp_path: Path,
) -> None:
    out = tmp_path / "compare"
    script = ROOT / "examples" / "compare_strategies.py"
    args = ["--weeks", "6", "--replicates", "2", "--out", str(out)]
    done = subprocess.run(
        [sys.executable, str(script), *args], capture_output=True, text=True, check=True
    )
    rows = [line.split()[0] for line in done.stdout.splitlines()[1:4]]
    assert rows == ["direct", "intermediary", "parallel"]
    assert "paired difference to direct" in done.stdout
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["names"] == rows
    assert not (out / "INCOMPLETE").exists()
