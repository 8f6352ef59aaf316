"""Kill `channelsim run` at random moments and check what each kill left behind.

Every killed run must leave either no folder, a folder marked INCOMPLETE (no manifest saying
complete), or a complete folder identical to an uninterrupted run. A folder that looks
complete but is not is a lost run. An incomplete folder is then resumed (`--resume`), and
the result must equal the uninterrupted run. Figures for docs/reliability.md:

    python benchmarks/kill_runs.py --kills 40
    python benchmarks/kill_runs.py --kills 40 --window 0.75:1.05   # around the final writes
    python benchmarks/kill_runs.py --kills 20 --workers 2
    python benchmarks/kill_runs.py --kills 40 --writing   # the moment a given file appears
    python benchmarks/kill_runs.py --kills 20 --signal int --workers 2   # Ctrl-C
    python benchmarks/kill_runs.py --kills 20 --parent-only --workers 2  # a killed parent

`--signal int` sends SIGINT to the whole process group, as Ctrl-C in a terminal does: the
command must exit with 130 (or 0 if it had finished) printing one line and no traceback.
`--parent-only` SIGKILLs the main process alone: its worker processes must exit by
themselves (counted as lingering if any is alive 10 s later).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from conftest import SMALL  # noqa: E402

CHARTS = {
    "revenue_by_channel",
    "customers_and_churn",
    "conflicts_and_prices",
    "where_the_money_goes",
}


def start(
    scenario: Path, out: Path, replicates: int, workers: int, resume: bool = False
) -> subprocess.Popen[bytes]:
    args = ["run", str(scenario), "-n", str(replicates), "--workers", str(workers), "-q"]
    return subprocess.Popen(  # the entry point the installed `channelsim` command runs
        [sys.executable, "-m", "channelsim", *args, "--out", str(out), *(["--resume"] * resume)],
        stdout=subprocess.DEVNULL,
        stderr=open(f"{out}.err", "wb"),  # noqa: SIM115 - closed with the process
        start_new_session=True,
    )


def interrupt(process: subprocess.Popen[bytes], how: str) -> dict[str, float]:
    """Deliver the kill; for a killed parent, wait for its workers and say how it went."""
    import psutil

    if how == "int":
        os.killpg(process.pid, signal.SIGINT)
        return {}
    if how == "parent":
        try:
            workers = psutil.Process(process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            workers = []
        began = time.perf_counter()
        os.kill(process.pid, signal.SIGKILL)
        gone, alive = psutil.wait_procs(workers, timeout=10)
        late, alive = psutil.wait_procs(alive, timeout=110)  # how long the slow ones take
        for worker in alive:
            worker.kill()
        return {"workers": len(workers), "lingering": len(late) + len(alive),
                "never": len(alive), "exit_time": time.perf_counter() - began}  # fmt: skip
    os.killpg(process.pid, signal.SIGKILL)
    return {}


def ctrl_c_outcome(out: Path, code: int) -> str:
    """For Ctrl-C: exit 130 with one line and no traceback, or 0 if it had finished."""
    text = Path(f"{out}.err").read_text(errors="replace")
    lines = [line for line in text.splitlines() if line.strip()]
    if code == 0:
        return "finished"
    traceback = ", traceback" if "Traceback" in text else ""
    if code != 130 or traceback or len(lines) != 1:
        return f"BAD EXIT (code {code}, {len(lines)} lines{traceback})"
    return "one line, exit 130"


def state(out: Path, reference: pd.DataFrame) -> str:
    """absent | incomplete | complete (and identical to the reference) | LOST."""
    if not out.exists():
        return "absent"
    manifest = out / "manifest.json"
    says_complete = manifest.is_file() and json.loads(manifest.read_text())["status"] == "complete"
    if (out / "INCOMPLETE").exists():
        return "incomplete"
    if not says_complete:
        return "LOST (no marker, no complete manifest)"
    try:
        kpis = pd.read_csv(out / "kpis.csv")
        weekly = pd.read_parquet(out / "timeseries.parquet")
        charts = {p.stem for p in (out / "charts").glob("*.png")}
    except Exception as exc:  # noqa: BLE001 - any unreadable file is what we count
        return f"LOST ({type(exc).__name__})"
    tmp_files = [p for p in out.rglob("*.tmp")]
    if not kpis.equals(reference) or weekly.empty or not charts >= CHARTS or tmp_files:
        return "LOST (complete but different)"
    return "complete"


# What appears in a run folder while its files are written, in order (".x." is x's temp file).
WRITING = [
    ".kpis.csv.",
    "kpis.csv",
    ".timeseries.parquet.",
    "timeseries.parquet",
    "summary.csv",
    "charts/.revenue_by_channel.png.",
    "charts/customers_and_churn.png",
    "charts/where_the_money_goes.png",
    "replicates/replicate-000001",
    ".manifest.json.",
    "manifest.json",
]


def wait_for(out: Path, target: str, process: subprocess.Popen[bytes]) -> None:
    """Poll until a file whose path starts with `target` exists in `out` (or the run ends)."""
    folder, _, prefix = f"{out}/{target}".rpartition("/")
    while process.poll() is None:
        with contextlib.suppress(FileNotFoundError):
            if any(name.startswith(prefix) for name in os.listdir(folder)):
                return
        time.sleep(0.0005)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=30)
    parser.add_argument("--replicates", type=int, default=20)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--window",
        default="0:1.1",
        help="kill times as fractions of an uninterrupted run, e.g. 0.75:1.05 for the writing",
    )
    parser.add_argument("--signal", choices=["kill", "int"], default="kill")
    parser.add_argument("--parent-only", action="store_true", help="SIGKILL the main process")
    parser.add_argument(
        "--writing",
        action="store_true",
        help="kill the moment a randomly chosen result file (or its temp file) appears",
    )
    args = parser.parse_args()
    rng = random.Random(args.seed)
    low, high = (float(x) for x in args.window.split(":"))
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        scenario = folder / "small.yaml"
        scenario.write_text(yaml.safe_dump(SMALL))
        began = time.perf_counter()
        reference_run = start(scenario, folder / "reference", args.replicates, args.workers)
        reference_run.wait()
        duration = time.perf_counter() - began
        reference = pd.read_csv(folder / "reference" / "kpis.csv")
        outcomes: Counter[str] = Counter()
        exits: Counter[str] = Counter()
        resumed: Counter[str] = Counter()
        parents = {"workers": 0, "lingering": 0, "never": 0, "exit_time": 0.0}
        how = "parent" if args.parent_only else args.signal
        for k in range(args.kills):
            out = folder / f"kill-{k}"
            process = start(scenario, out, args.replicates, args.workers)
            began = time.perf_counter()
            if args.writing:
                target = rng.choice(WRITING)
                wait_for(out, target, process)
            else:
                time.sleep(rng.uniform(low * duration, high * duration))
            delay = time.perf_counter() - began
            report: dict[str, float] = {}
            with contextlib.suppress(ProcessLookupError):  # it may have ended just before
                report = interrupt(process, how)
            code = process.wait()
            finished = code == 0
            if how == "int":
                exits[ctrl_c_outcome(out, code)] += 1
            if report:
                parents["workers"] += report["workers"]
                parents["lingering"] += report["lingering"]
                parents["never"] += report["never"]
                parents["exit_time"] = max(parents["exit_time"], report["exit_time"])
            result = state(out, reference)
            outcomes[result] += 1
            if result == "incomplete":
                start(scenario, out, args.replicates, args.workers, resume=True).wait()
                again = state(out, reference)
                resumed["identical" if again == "complete" else again] += 1
            when = "after it ended" if finished else f"at {delay:.2f} s"
            trigger = f" (on {target})" if args.writing else ""
            print(f"kill {k + 1:3d} {when:>14}{trigger}: {result}", flush=True)
    lost = sum(n for key, n in outcomes.items() if key.startswith("LOST"))
    setting = f"{args.replicates} replicates, {args.workers} worker(s)"
    moments = "as result files appear" if args.writing else f"in {args.window} of it"
    print(f"\nuninterrupted run: {duration:.1f} s ({setting}); {how} {moments}")
    print("| outcome | kills |\n| --- | --- |")
    for key, n in sorted(outcomes.items()):
        print(f"| {key} | {n} |")
    print(f"\nruns lost: {lost}")
    if resumed:
        print(f"incomplete folders resumed with --resume: {dict(resumed)}")
    if exits:
        print(f"Ctrl-C exits: {dict(exits)}")
    if how == "parent":
        print(
            f"killed parents: {parents['workers']} child processes (workers, forkserver, "
            f"resource tracker), {parents['lingering']} still alive 10 s later, "
            f"{parents['never']} after 120 s; slowest exit {parents['exit_time']:.2f} s"
        )
    bad = lost + sum(n for key, n in exits.items() if key.startswith("BAD")) + parents["never"]
    bad += sum(n for key, n in resumed.items() if key != "identical")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
