"""SIGKILL the main process of `channelsim sweep --workers 2` at random moments and measure
how long each of its helper processes (workers, forkserver, resource tracker) outlives it.

Usage: python benchmarks/kill_parents.py [--kills 20] [--seed 1] [--latest 4]

Each kill lands at a random moment, uniform over 0 to `--latest` seconds after the start
(start-up, the forkserver importing the engine, runs, writes). The helpers are read from
/proc just before the kill; each is then polled every 5 ms until it is gone (a zombie
counts as gone), up to 120 s, after which it is killed and counted as never exiting.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from process_tree import descendants, kind  # noqa: E402

SWEEP = [
    str(ROOT / "scenarios" / "parallel.yaml"),
    "--param", "reps.commission.rate=0.02:0.1:4",
    "--param", "engagement.large_accounts=open,rep_only,rep_assists_dealer",
    "--replicates", "3", "--seed", "7", "--set", "weeks=26", "--chunk-size", "2", "--quiet",
    "--workers", "2",
]  # fmt: skip
BOUND = 120.0


def one_kill(out: Path, delay: float) -> dict[str, list[float]]:
    """Start a sweep, SIGKILL its main process after `delay` s; lag of each helper by kind."""
    code = "from channelsim.cli import main; main()"  # the same on older versions
    command = [sys.executable, "-c", code, "sweep", *SWEEP, "--out", str(out)]
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    time.sleep(delay)
    family = descendants(process.pid)
    process.kill()
    killed = time.perf_counter()
    process.wait()
    lags: dict[str, list[float]] = defaultdict(list)
    waiting = {proc: kind(proc, family) for proc in family}
    while waiting and time.perf_counter() - killed < BOUND:
        for proc in [p for p in waiting if not p.alive()]:
            lags[waiting.pop(proc)].append(time.perf_counter() - killed)
        time.sleep(0.005)
    for proc, what in waiting.items():
        lags[what].append(float("inf"))
        os.kill(proc.pid, signal.SIGKILL)
    return lags


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--latest", type=float, default=4.0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    total: dict[str, list[float]] = defaultdict(list)
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(args.kills):
            delay = rng.uniform(0, args.latest)
            lags = one_kill(Path(tmp) / f"out-{k}", delay)
            for what, values in lags.items():
                total[what] += values
            shown = ", ".join(f"{w} {max(v):.2f} s" for w, v in sorted(lags.items()))
            print(f"kill {k + 1:3d} at {delay:.2f} s: slowest exit by kind: {shown or '-'}")
    print(f"\n{args.kills} kills at 0-{args.latest:g} s; exit after the main process was killed:")
    print("| process | seen | median | slowest | later than 1 s | never (120 s) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for what, values in sorted(total.items()):
        finite = [v for v in values if v != float("inf")]
        median = f"{statistics.median(finite):.3f} s" if finite else "-"
        slowest = f"{max(finite):.3f} s" if finite else "-"
        late = sum(v > 1.0 for v in values)
        never = len(values) - len(finite)
        print(f"| {what} | {len(values)} | {median} | {slowest} | {late} | {never} |")


if __name__ == "__main__":
    main()
