"""Kill `channelsim sweep` at random moments, resume it, and count runs lost.

Usage: python benchmarks/kill_sweeps.py [--kills 20] [--workers 1] [--seed 1]
           [--signal kill|int] [--parent-only]

`--signal int` sends SIGINT to the process group (Ctrl-C in a terminal): each must end
with exit 130, one line and no traceback. `--parent-only` SIGKILLs only the main process:
its worker processes must exit by themselves within 10 s.

A sweep (a grid of 36 runs of scenarios/parallel.yaml at 26 weeks, chunks of 2 runs) is
started, killed at a random moment, resumed with --resume, killed again, 2 to 5 times,
then resumed to the end; new sweeps follow until `--kills` kills have landed. A kill lands
either at a random time after a start (uniform over 0-6 s, which covers start-up, runs,
writes and the final tables) or as soon as 1-4 new chunk files appear. The whole process
group is killed, so local worker processes die too. After every kill the saved runs are
checked: none that was saved before may be missing (lost) or present twice (duplicated).
At the end the runs table and summary must equal those of an uninterrupted sweep, bit for
bit.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from channelsim.experiments.sweep_folder import read_runs

ROOT = Path(__file__).resolve().parents[1]
CHANNELSIM = [sys.executable, "-m", "channelsim"]  # what the installed command runs
SWEEP = [
    str(ROOT / "scenarios" / "parallel.yaml"),
    "--param", "reps.commission.rate=0.02:0.1:4",
    "--param", "engagement.large_accounts=open,rep_only,rep_assists_dealer",
    "--replicates", "3", "--seed", "7", "--set", "weeks=26", "--chunk-size", "2", "--quiet",
]  # fmt: skip


def saved(out: Path) -> pd.DataFrame:
    runs = out / "runs"
    if not runs.is_dir() or not list(runs.glob("*.parquet")):
        return pd.DataFrame(columns=["point", "replicate"])
    return read_runs(out)


def start(out: Path, workers: int, resume: bool) -> subprocess.Popen:
    command = [*CHANNELSIM, "sweep", *SWEEP, "--out", str(out), "--workers", str(workers)]
    return subprocess.Popen(
        command + (["--resume"] if resume else []),
        stdout=subprocess.DEVNULL,
        stderr=open(out.parent / f"{out.name}.err", "wb"),  # noqa: SIM115
        start_new_session=True,
    )


COUNTS = ("kills", "time", "files", "lost", "duplicated", "starts", "bad_exits", "workers",
          "lingering")  # fmt: skip


def interrupt(process: subprocess.Popen, how: str, counts: dict[str, int]) -> None:
    import psutil

    if how == "int":
        os.killpg(process.pid, signal.SIGINT)
    elif how == "parent":
        try:
            workers = psutil.Process(process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            workers = []
        os.kill(process.pid, signal.SIGKILL)
        _, alive = psutil.wait_procs(workers, timeout=10)
        counts["workers"] += len(workers)
        counts["lingering"] += len(alive)
        for worker in alive:
            worker.kill()
    else:
        os.killpg(process.pid, signal.SIGKILL)


def ctrl_c_ok(out: Path, code: int) -> bool:
    text = (out.parent / f"{out.name}.err").read_text(errors="replace")
    lines = [line for line in text.splitlines() if line.strip()]
    return code == 0 or (code == 130 and "Traceback" not in text and len(lines) == 1)


def campaign(
    out: Path, workers: int, rng: random.Random, budget: int, how: str = "kill"
) -> dict[str, int]:
    """Start a sweep in `out`, interrupt it up to `budget` times, then let it finish."""
    counts = dict.fromkeys(COUNTS, 0)
    while counts["kills"] < budget:
        before = saved(out)
        process = start(out, workers, resume=counts["starts"] > 0)
        counts["starts"] += 1
        mode = rng.choice(["time", "files"])
        if mode == "time":
            deadline = time.monotonic() + rng.uniform(0, 6)
            while time.monotonic() < deadline and process.poll() is None:
                time.sleep(0.01)
        else:
            target = len(list((out / "runs").glob("*.parquet"))) if out.exists() else 0
            target += rng.randint(1, 4)
            while process.poll() is None and (
                not (out / "runs").is_dir() or len(list((out / "runs").glob("*.parquet"))) < target
            ):
                time.sleep(0.005)
        if process.poll() is not None:
            break  # it finished before the kill landed
        interrupt(process, how, counts)
        code = process.wait()
        if how == "int" and not ctrl_c_ok(out, code):
            counts["bad_exits"] += 1
        counts["kills"] += 1
        counts[mode] += 1
        after = saved(out)
        keys_before = set(zip(before["point"], before["replicate"], strict=True))
        keys_after = set(zip(after["point"], after["replicate"], strict=True))
        counts["lost"] += len(keys_before - keys_after)
        counts["duplicated"] += int(after.duplicated(["point", "replicate"]).sum())
    if not (out / "manifest.json").is_file() or (out / "INCOMPLETE").exists():
        start(out, workers, resume=True).wait()
        counts["starts"] += 1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--signal", choices=["kill", "int"], default="kill")
    parser.add_argument("--parent-only", action="store_true", help="SIGKILL the main process")
    args = parser.parse_args()
    how = "parent" if args.parent_only else args.signal
    rng = random.Random(args.seed)

    with tempfile.TemporaryDirectory() as tmp:
        reference = Path(tmp) / "reference"
        subprocess.run(
            [*CHANNELSIM, "sweep", *SWEEP, "--out", str(reference)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        expected = read_runs(reference)
        summary = pd.read_parquet(reference / "summary.parquet")
        total = dict.fromkeys(COUNTS, 0)
        sweeps = identical = refused = 0
        while total["kills"] < args.kills:
            out = Path(tmp) / f"killed-{sweeps}"
            counts = campaign(out, args.workers, rng, rng.randint(2, 5), how)
            total = {k: total[k] + counts[k] for k in total}
            errors = (out.parent / f"{out.name}.err").read_text(errors="replace")
            if "code or numpy version changed" in errors:
                refused += 1  # someone changed the model during the experiment
                sweeps += 1
                print(f"sweep {sweeps}: resume refused, the model code changed meanwhile")
                continue
            same = read_runs(out).equals(expected) and pd.read_parquet(
                out / "summary.parquet"
            ).equals(summary)
            identical += same
            sweeps += 1
            print(
                f"sweep {sweeps}: {counts['kills']} kills, {counts['starts']} starts, "
                f"lost {counts['lost']}, duplicated {counts['duplicated']}, identical {same}"
            )
        print(
            f"\n{sweeps} sweeps of {len(expected)} runs, workers {args.workers}: "
            f"{total['kills']} kills ({total['time']} at a random time, {total['files']} as "
            f"chunks appeared), {total['starts']} starts; runs lost {total['lost']}, "
            f"duplicated {total['duplicated']}; final tables identical to the uninterrupted "
            f"sweep in {identical} of {sweeps - refused} sweeps ({refused} refused to resume "
            "because the model code changed during the experiment)"
        )
        print(
            f"interrupts: {how}; Ctrl-C exits that were not one line and 130: "
            f"{total['bad_exits']}; worker processes of killed parents: {total['workers']}, "
            f"alive 10 s later: {total['lingering']}"
        )


if __name__ == "__main__":
    main()
