"""Check that a change leaves the bundled scenarios' outputs bit-identical.

    python benchmarks/bit_identity.py record REF_DIR   # before the change
    python benchmarks/bit_identity.py check REF_DIR    # after it: exit 1 on any difference

Runs every bundled scenario (2 replicates, seed 7) through the `channelsim run` command and
compares kpis.csv and timeseries.parquet column by column, to the bit (the reference's
columns; columns a change adds are listed, not counted as differences). `check` writes its
runs to a private temporary folder, so several checks may run at once.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml")) + sorted(
    p for p in (ROOT / "scenarios" / "validation").glob("*.yaml") if p.stem != "textbook"
)


def produce(folder: Path) -> None:
    for path in SCENARIOS:
        out = folder / path.stem
        cmd = ["channelsim", "run", str(path), "-n", "2", "--seed", "7", "--out", str(out), "-q"]
        subprocess.run(cmd, check=True, capture_output=True)


def same(a: pd.DataFrame, b: pd.DataFrame) -> list[str]:
    """Differences of the current table `b` from the reference `a` in the reference's
    columns; a column only the current run has is a new KPI or flow, not a difference."""
    problems = []
    for col in a.columns:
        if col not in b:
            problems.append(f"column {col} missing")
        elif not a[col].equals(b[col]):
            problems.append(f"column {col} differs")
    return problems


def check(reference: Path, current: Path) -> int:
    failures = 0
    for path in SCENARIOS:
        ref, cur = reference / path.stem, current / path.stem
        if not ref.is_dir():
            print(f"{path.stem:28s} new scenario: no reference to compare with")
            continue
        for name, read in (("kpis.csv", pd.read_csv), ("timeseries.parquet", pd.read_parquet)):
            problems = same(read(ref / name), read(cur / name))
            failures += bool(problems)
            added = sorted(set(read(cur / name).columns) - set(read(ref / name).columns))
            status = "identical" if not problems else "; ".join(problems[:5])
            if added and not problems:
                status += f" ({len(added)} new columns)"
            print(f"{path.stem:28s} {name:20s} {status}")
    return failures


def main() -> int:
    action, folder = sys.argv[1], Path(sys.argv[2])
    if action == "record":
        produce(folder)
        return 0
    with tempfile.TemporaryDirectory(prefix="bit-identity-") as scratch:
        current = Path(scratch)
        produce(current)
        failures = check(folder, current)
    print("all identical" if failures == 0 else f"{failures} files differ")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
