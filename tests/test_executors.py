"""Local worker processes: same results as in-process, fast start, no orphans."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
from conftest import SMALL

from channelsim.experiments.executors import InProcess, LocalProcesses, process_context
from channelsim.experiments.replicates import replicate_seeds, replicate_specs, run_spec
from channelsim.scenario.loading import validate

CHILD = textwrap.dedent(
    """
    import os, sys, time
    from channelsim.experiments.executors import LocalProcesses

    def work(i):
        time.sleep(0.2 if i < 2 else 120)
        return os.getpid()

    if __name__ == "__main__":
        results = LocalProcesses(2).map_unordered(work, list(range(6)))
        pids = {next(results)[1], next(results)[1]}
        print(" ".join(map(str, sorted(pids))), flush=True)
        time.sleep(120)
    """
)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_workers_start_from_a_forkserver_that_has_imported_the_engine() -> None:
    if sys.platform.startswith("linux"):
        assert process_context().get_start_method() == "forkserver"


def test_local_processes_give_the_in_process_results() -> None:
    scenario = validate({**SMALL, "weeks": 6})
    specs = replicate_specs(scenario, replicate_seeds(3, 4))
    parallel = sorted(LocalProcesses(2).map_unordered(run_spec, specs), key=lambda r: r[0])
    serial = list(InProcess().map_unordered(run_spec, specs))
    assert [i for i, _ in parallel] == [0, 1, 2, 3]
    frame = pd.DataFrame([r.kpis for _, r in parallel])
    assert frame.equals(pd.DataFrame([r.kpis for _, r in serial]))


def test_workers_exit_when_the_process_that_started_them_is_killed(tmp_path: Path) -> None:
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    child = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        workers = [int(p) for p in child.stdout.readline().split()]  # they are busy now
        assert workers and all(alive(pid) for pid in workers)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    deadline = time.monotonic() + 20  # a bound, not a moment: each checks twice a second
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(alive(pid) for pid in workers)
