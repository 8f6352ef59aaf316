"""Test-only faults at exact points, so a test kills a command where it chooses instead of
at a random moment (random moments are for the scripts benchmarks/kill_*.py).

Set by one environment variable, read here only:

    CHANNELSIM_FAULT=after-part:N   SIGKILL this process right after the N-th part of its
                                    folder is in place
    CHANNELSIM_FAULT=mid-part:N     SIGKILL it while the N-th part is written: the
                                    temporary file is whole, the rename not yet done

Parts are the files a long command writes as it goes (a sweep's `runs/part-*.parquet`, a
run's `replicates/replicate-*.parquet`); N counts the parts in the folder, those left by
earlier sessions included, so a resumed command goes on counting. SIGKILL is what
`kill -9` and the out-of-memory killer do: nothing runs after it, not even `finally`.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Mapping
from pathlib import Path

from channelsim.errors import InputError

VARIABLE = "CHANNELSIM_FAULT"
STAGES = ("after-part", "mid-part")


def at_part(stage: str, folder: Path, environ: Mapping[str, str] = os.environ) -> None:
    """Die here if CHANNELSIM_FAULT asks for `stage` at the part being written to `folder`."""
    spec = environ.get(VARIABLE)
    if not spec:
        return
    when, _, count = spec.partition(":")
    if when not in STAGES or not count.isdigit() or int(count) < 1:
        raise InputError(
            f"{VARIABLE}={spec}: expected after-part:N or mid-part:N with N >= 1 (a test-only "
            "fault); unset it for normal use"
        )
    parts = sum(1 for p in folder.glob("*.parquet") if not p.name.startswith("."))
    if when == stage and parts + (stage == "mid-part") == int(count):
        os.kill(os.getpid(), signal.SIGKILL)
