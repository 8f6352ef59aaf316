"""Ctrl-C at random moments of a command's first fraction of a second: how often is it one
line and exit 130, a silent death by SIGINT, or Python's traceback?

Usage: python benchmarks/kill_startup.py [--trials 60] [--latest 0.15] [--seed 1]
           [--entry script|module|old]

`script` starts the command as the installed `channelsim` script does (`import re, sys;
from channelsim.__main__ import main`), `module` as `python -m channelsim`, `old` as the
entry point before channelsim/__main__.py (`from channelsim.cli import main`; with
PYTHONPATH pointing at an older source tree it measures that tree). Each trial runs
`channelsim validate scenarios/parallel.yaml` and sends SIGINT after a delay uniform in
0..`--latest` seconds; the delays of each outcome show where the remaining window lies.
"""

from __future__ import annotations

import argparse
import random
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENTRIES = {
    "script": ["-c", "import re, sys; from channelsim.__main__ import main; sys.exit(main())"],
    "module": ["-m", "channelsim"],
    "old": ["-c", "from channelsim.cli import main; main()"],
}


def outcome(code: int, err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    if "Traceback" in err or (lines and lines[-1] == "KeyboardInterrupt"):
        return "Python's traceback"
    if code == 130 and len(lines) == 1:
        return "one line, exit 130"
    if code == -signal.SIGINT and not lines:
        return "killed by SIGINT, no output"
    return f"other (exit {code}, {len(lines)} lines)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=60)
    parser.add_argument("--latest", type=float, default=0.15)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--entry", choices=sorted(ENTRIES), default="script")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    command = [
        sys.executable,
        *ENTRIES[args.entry],
        "validate",
        str(ROOT / "scenarios/parallel.yaml"),
    ]
    delays: dict[str, list[float]] = defaultdict(list)
    for _ in range(args.trials):
        process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        delay = rng.uniform(0, args.latest)
        time.sleep(delay)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate()
        delays[outcome(process.returncode, err)].append(delay)
    print(f"{args.trials} Ctrl-C at 0-{args.latest * 1000:g} ms, entry {args.entry}:")
    print("| outcome | trials | delays (ms) |\n| --- | ---: | --- |")
    for what, values in sorted(delays.items()):
        print(f"| {what} | {len(values)} | {min(values) * 1000:.0f}-{max(values) * 1000:.0f} |")


if __name__ == "__main__":
    main()
