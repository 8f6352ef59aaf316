"""Whole-process times of the commands users type, as ratios to a plain Mesa model.

    python benchmarks/commands.py [--repeat 5] [--old-main DIR]

Each command runs in a fresh process; the cases are interleaved (round robin) so that a
change of machine load affects them alike, and the median of `--repeat` rounds is shown
with its ratio to the yardstick (benchmarks/yardstick.py: 10,000 mesa.Agents x 100 steps).
CPU seconds are user + system of the child and of every process it started (this script
makes itself their subreaper on Linux, so a forkserver and its workers that outlive the
command are reaped, and counted, here). `--old-main DIR` (a checkout of an earlier
commit with its own `.venv`) adds that checkout's README main command for a before/after
ratio measured in the same rounds (and that checkout's one-replicate run and sweeps). The
sweep (40 runs of 52 weeks, 1 and 2 workers) gives the parallel efficiency of the whole
command, start-up included.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAIN = ["scenarios/direct.yaml", "scenarios/intermediary.yaml", "scenarios/parallel.yaml"]


def cases(bin_dir: Path, scratch: Path) -> dict[str, list[str]]:
    exe = str(bin_dir / "channelsim")
    return {
        "yardstick (plain Mesa, 10,000 agents x 100 steps)": [
            str(bin_dir / "python"),
            str(ROOT / "benchmarks" / "yardstick.py"),
        ],
        "channelsim --version": [exe, "--version"],
        "channelsim --help": [exe, "--help"],
        "channelsim run parallel.yaml -n 1 (with charts)": [
            exe, "run", "scenarios/parallel.yaml", "-n", "1", "-q", "--out", "{out}",
        ],
        "README main command (compare 3 x 10 replicates --report)": [
            exe, "compare", *MAIN, "--report", "-q", "--out", "{out}",
        ],
        **{
            f"channelsim sweep 40 runs x 52 weeks, --workers {n}": [
                exe, "sweep", "scenarios/parallel.yaml", "--param",
                "reps.commission.rate=0.02:0.10:20", "-n", "2", "--seed", "1",
                "--set", "weeks=52", "-q", "--workers", str(n), "--out", "{out}",
            ]
            for n in (1, 2)
        },
    }  # fmt: skip


PR_SET_CHILD_SUBREAPER = 36


def become_subreaper() -> None:
    """Orphaned descendants (a command's forkserver and workers) become our children."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def reap_all() -> None:
    """Wait for every descendant left, so that its CPU time is in RUSAGE_CHILDREN."""
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return


def timed(command: list[str], cwd: Path, scratch: Path) -> tuple[float, float]:
    """Wall seconds of one fresh process, and CPU seconds of it and its descendants."""
    out = tempfile.mkdtemp(dir=scratch)
    os.rmdir(out)
    argv = [part.replace("{out}", out) for part in command]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, cwd=cwd, check=True, capture_output=True)
    wall = time.perf_counter() - start
    reap_all()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--old-main", type=Path, help="checkout of an earlier commit, with .venv")
    args = parser.parse_args()
    become_subreaper()
    with tempfile.TemporaryDirectory() as name:
        scratch = Path(name)
        todo = {k: (v, ROOT) for k, v in cases(Path(sys.executable).parent, scratch).items()}
        if args.old_main:
            old = cases(args.old_main / ".venv" / "bin", scratch)
            for key in old:
                if key.startswith(("channelsim run", "README", "channelsim sweep")):
                    todo["old main: " + key] = (old[key], args.old_main)
        walls: dict[str, list[float]] = {k: [] for k in todo}
        cpus: dict[str, list[float]] = {k: [] for k in todo}
        for _ in range(args.repeat):
            for name_, (command, cwd) in todo.items():
                wall, cpu = timed(command, cwd, scratch)
                walls[name_].append(wall)
                cpus[name_].append(cpu)
    first = next(iter(todo))
    yard, yard_wall = statistics.median(cpus[first]), statistics.median(walls[first])
    print(f"median of {args.repeat} interleaved rounds; load average {os.getloadavg()[0]:.2f}")
    heads = f"{'wall s':>8s} {'CPU s':>8s} {'wall / yardstick':>17s} {'CPU / yardstick':>16s}"
    print(f"{'command':62s} {heads}")
    for name_ in todo:
        wall, cpu = statistics.median(walls[name_]), statistics.median(cpus[name_])
        print(f"{name_:62s} {wall:8.2f} {cpu:8.2f} {wall / yard_wall:17.2f} {cpu / yard:16.2f}")
    for prefix in ("", "old main: "):  # the sweep's parallel efficiency, start-up included
        one, two = (f"{prefix}channelsim sweep 40 runs x 52 weeks, --workers {n}" for n in (1, 2))
        if one in todo:
            ratio = statistics.median(walls[one]) / statistics.median(walls[two]) / 2
            print(f"{prefix}sweep efficiency on 2 workers (whole command): {ratio:.2f}")
    for name_ in todo:  # this checkout against the old one, where both were measured
        if "old main: " + name_ in todo:
            old = "old main: " + name_
            wall = statistics.median(walls[name_]) / statistics.median(walls[old])
            cpu = statistics.median(cpus[name_]) / statistics.median(cpus[old])
            print(f"{name_}: {wall:.2f} x the old main's wall time, {cpu:.2f} x its CPU")


if __name__ == "__main__":
    main()
