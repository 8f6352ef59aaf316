"""The processes below a process, read from /proc (Linux), for tests and kill scripts."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Proc:
    pid: int
    parent: int
    started: int  # clock ticks after boot: with the pid, names one process for good
    command: str

    @property
    def kind(self) -> str:
        if "resource_tracker" in self.command:
            return "resource tracker"
        return "forkserver" if "forkserver" in self.command else "other"

    def alive(self) -> bool:
        """Running (not gone, not a zombie waiting to be reaped) and not a reused pid."""
        now = read(self.pid)
        return now is not None and now.started == self.started


def read(pid: int) -> Proc | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (name) "
    if fields[0] in ("Z", "X"):
        return None
    return Proc(pid, int(fields[1]), int(fields[19]), command.strip())


def descendants(pid: int) -> list[Proc]:
    """Every live process below `pid`, with what it is: forkserver, resource tracker or
    worker (a child of the forkserver)."""
    table = [p for name in os.listdir("/proc") if name.isdigit() and (p := read(int(name)))]
    below, found = {pid}, []
    grew = True
    while grew:
        grew = False
        for proc in table:
            if proc.parent in below and proc.pid not in below:
                below.add(proc.pid)
                found.append(proc)
                grew = True
    return found


def kind(proc: Proc, family: list[Proc]) -> str:
    forkservers = {p.pid for p in family if p.kind == "forkserver"}
    return "worker" if proc.parent in forkservers else proc.kind
