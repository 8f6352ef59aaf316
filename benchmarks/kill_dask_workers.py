"""Kill Dask workers with SIGKILL in the middle of sweeps and check that nothing is lost.

Usage: python benchmarks/kill_dask_workers.py [--sweeps 5] [--seed 1]

Starts `dask scheduler` and three `dask worker` processes (one thread each, no nanny, so a
killed worker stays dead) on 127.0.0.1, then runs `--sweeps` sweeps of 36 runs of
scenarios/parallel.yaml at 26 weeks in chunks of 2. In each sweep one worker is killed as
soon as 1-4 chunk files have appeared, and a fresh worker is started in its place. Every
sweep must finish, report the lost worker, and give the runs table of the same sweep run
in-process, bit for bit.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from channelsim.experiments.sweep_folder import read_runs

ROOT = Path(__file__).resolve().parents[1]
CHANNELSIM = [sys.executable, "-c", "from channelsim.cli import main; main()"]
DASK = [sys.executable, "-m", "dask"]
SWEEP = [
    str(ROOT / "scenarios" / "parallel.yaml"),
    "--param", "reps.commission.rate=0.02:0.1:4",
    "--param", "engagement.large_accounts=open,rep_only,rep_assists_dealer",
    "--replicates", "3", "--seed", "7", "--set", "weeks=26", "--chunk-size", "2", "--quiet",
]  # fmt: skip


def worker(address: str, log: Path) -> subprocess.Popen:
    command = [*DASK, "worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard"]
    command += ["--host", "127.0.0.1"]
    return subprocess.Popen(command, stdout=open(log, "ab"), stderr=subprocess.STDOUT)  # noqa: SIM115


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweeps", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    from distributed import Client

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        reference = folder / "reference"
        subprocess.run(
            [*CHANNELSIM, "sweep", *SWEEP, "--out", str(reference)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        expected = read_runs(reference)
        file = folder / "scheduler.json"
        scheduler = subprocess.Popen(
            [*DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
             "--scheduler-file", str(file)],
            stdout=open(folder / "scheduler.log", "wb"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        while not file.is_file():
            time.sleep(0.1)
        time.sleep(0.5)
        address = json.loads(file.read_text())["address"]
        workers = [worker(address, folder / "workers.log") for _ in range(3)]
        identical = reported = lost = 0
        try:
            for n in range(args.sweeps):
                with Client(address, timeout=60, set_as_default=False) as client:
                    client.wait_for_workers(3, timeout=120)
                out = folder / f"sweep-{n}"
                command = [*CHANNELSIM, "sweep", *SWEEP, "--scheduler", address]
                sweep = subprocess.Popen(
                    [*command, "--out", str(out)], stdout=subprocess.PIPE, text=True
                )
                target = rng.randint(1, 4)
                while sweep.poll() is None and len(list(out.glob("runs/*.parquet"))) < target:
                    time.sleep(0.005)
                victim = workers.pop(rng.randrange(len(workers)))
                victim.kill()
                victim.wait()
                workers.append(worker(address, folder / "workers.log"))
                stdout, _ = sweep.communicate(timeout=600)
                manifest = json.loads((out / "manifest.json").read_text())
                runs = read_runs(out)
                same = sweep.returncode == 0 and runs.equals(expected)
                lost += len(expected) - len(runs)
                identical += same
                reported += len(manifest.get("lost_workers", [])) == 1
                print(
                    f"sweep {n + 1}: killed a worker after {target} chunk(s); exit "
                    f"{sweep.returncode}; lost workers reported "
                    f"{manifest.get('lost_workers')}, chunks rescheduled "
                    f"{manifest.get('rescheduled_chunks')}; identical {same}"
                )
        finally:
            for process in [*workers, scheduler]:
                process.terminate()
                process.wait()
        print(
            f"\n{args.sweeps} sweeps, {args.sweeps} workers killed: {identical} finished with "
            f"the in-process tables, {reported} reported the lost worker; runs lost {lost}"
        )


if __name__ == "__main__":
    main()
