"""Where a command's CPU time goes, by phase, without a profiler's distortion.

    python benchmarks/profile_command.py [--checkout DIR] [--wall] -- run scenarios/parallel.yaml \
        -n 1 -q --out {out}

Runs the `channelsim` command in a fresh process (this interpreter, or DIR/.venv/bin/python
for another checkout, in DIR) and adds up the CPU seconds of its phases: imports (every
outermost import statement outside the other phases, timed through a wrapper around
`__import__`), the simulations, statistics, drawing and saving charts, writing tables, and
the report. With local workers their CPU is not this process's: `--wall` adds up wall-clock
seconds instead (the simulations are then the wait for the workers' results). `{out}` in the
arguments becomes a fresh folder. cProfile would slow Python-heavy code (imports,
matplotlib) far more than numpy code, so plain clocks are used instead.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import builtins, functools, inspect, json, sys, time
clock = time.perf_counter if sys.argv[1] == "wall" else time.process_time
del sys.argv[1]
PHASES = {
    "simulations": [("channelsim.experiments.replicates", "run_spec"),
                    ("channelsim.experiments.replicates", "run_each")],
    "statistics": [("channelsim.experiments.stats", "summarise_kpis"),
                   ("channelsim.experiments.stats", "paired_differences")],
    "drawing charts (checkouts before output.rendering)": [
                       ("channelsim.output.charts", "run_charts"),
                       ("channelsim.output.charts", "compare_charts")],
    "saving charts (PNG, without output.rendering)": [
        ("channelsim.output.charts", "save_figures")],
    "rendering charts (drawn and saved, here or on workers)": [
        ("channelsim.output.rendering", "save_recipes")],
    "writing tables": [("channelsim.storage.results", "write_csv"),
                       ("channelsim.storage.results", "write_parquet")],
    "report": [("channelsim.output.report", "write_report")],
}
spent = dict.fromkeys(["imports", *PHASES], 0.0)
wrapped = set()
depth = [0]
original_import = builtins.__import__

active = []  # the phase being timed: an inner phase is counted in the outer one

def timed(phase, fn):
    # functools.wraps: a wrapped function still pickles by name (workers run the original)
    if inspect.isgeneratorfunction(fn):  # the time to produce each item, not the consumer's
        @functools.wraps(fn)
        def generator(*args, **kwargs):
            items = fn(*args, **kwargs)
            while True:
                start = clock()
                active.append(phase)
                try:
                    item = next(items)
                except StopIteration:
                    return
                finally:
                    active.pop()
                    if not active:
                        spent[phase] += clock() - start
                yield item
        return generator

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        start = clock()
        active.append(phase)
        try:
            return fn(*args, **kwargs)
        finally:
            active.pop()
            if not active:
                spent[phase] += clock() - start
    return wrapper

def wrap_loaded():
    for phase, targets in PHASES.items():
        for module, name in targets:
            loaded = sys.modules.get(module)  # a phase may name what another checkout has
            if (module, name) not in wrapped and hasattr(loaded, name):
                setattr(sys.modules[module], name, timed(phase, getattr(sys.modules[module], name)))
                wrapped.add((module, name))

def timed_import(*args, **kwargs):
    if depth[0] or active:  # an import inside a phase is that phase's
        return original_import(*args, **kwargs)
    depth[0] += 1
    start = clock()
    try:
        return original_import(*args, **kwargs)
    finally:
        spent["imports"] += clock() - start
        depth[0] -= 1
        wrap_loaded()

builtins.__import__ = timed_import
start = clock()
from channelsim.cli import main
try:
    main(sys.argv[1:], prog_name="channelsim")
except SystemExit:
    pass
total = clock() - start
print(json.dumps({"total": total, **spent}))
"""


def profile(checkout: Path | None, command: list[str], wall: bool = False) -> dict[str, float]:
    python = str(checkout / ".venv" / "bin" / "python") if checkout else sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        argv = [part.replace("{out}", str(Path(tmp) / "out")) for part in command]
        out = subprocess.run(
            [python, "-c", CHILD, "wall" if wall else "cpu", *argv],
            cwd=checkout or ROOT,
            check=True,
            capture_output=True,
            text=True,
        )
    return json.loads(out.stdout.splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkout", type=Path, help="another checkout with its own .venv")
    parser.add_argument(
        "--wall",
        action="store_true",
        help="wall-clock seconds instead of this process's CPU (with workers, the CPU is theirs)",
    )
    parser.add_argument("command", nargs="+", help="channelsim arguments (after --)")
    args = parser.parse_args()
    found = profile(args.checkout, args.command, args.wall)
    total = found.pop("total")
    unit = "wall" if args.wall else "CPU"
    print(f"channelsim {' '.join(args.command)}: {total:.2f} {unit} s in the command")
    for phase, seconds in found.items():
        print(f"  {phase:56s} {seconds:7.2f} s  {seconds / total:6.1%}")
    rest = total - sum(found.values())
    print(f"  {'everything else':56s} {rest:7.2f} s  {rest / total:6.1%}")


if __name__ == "__main__":
    main()
