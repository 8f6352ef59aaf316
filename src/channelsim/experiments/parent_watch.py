"""Processes that exit as soon as the process that started their work is gone.

A killed main process (`kill -9`, the out-of-memory killer) cannot tell its helpers to stop:
local workers would wait for work for ever, and multiprocessing's forkserver goes on
importing the engine for seconds before it notices, holding memory. Workers watch the main
process from their start (`exit_with`); the forkserver watches its parent from the first
module it preloads, this one (executors.ENGINE_MODULES lists it first). The resource
tracker then ends by itself: it waits until every process holding its pipe (the main
process, the workers and requests queued at the forkserver) is gone.

The watch is a pidfd (Linux 5.3+), which the kernel marks readable the moment the process
exits, so no time is lost polling; elsewhere the pid is polled ten times a second.

A parent killed while the forkserver's interpreter still starts (before this module runs)
would leave it watching whichever process adopted it; so the parent names itself in
CHANNELSIM_FORKSERVER_PARENT (`executors.process_context`), and a forkserver whose parent
is no longer the one named, and the one named is gone, exits at once.
"""

from __future__ import annotations

import os
import select
import sys
import threading
import time

POLL_SECONDS = 0.1  # without pidfd
PARENT = "CHANNELSIM_FORKSERVER_PARENT"


def exit_with(pid: int) -> None:
    """Exit this process (status 1) as soon as process `pid` has exited."""
    try:
        handle = os.pidfd_open(pid)
    except ProcessLookupError:
        os._exit(1)
    except (AttributeError, OSError):  # no pidfd here (not Linux, or an old kernel)
        handle = None
    threading.Thread(target=_watch, args=(pid, handle), name="exit-with", daemon=True).start()


def watch_forkservers_parent() -> None:
    """In the forkserver: exit with the process that started it, even one already gone."""
    parent = os.getppid()
    named = os.environ.get(PARENT, "")
    if named.isdigit() and int(named) != parent and not _alive(int(named)):
        os._exit(1)  # adopted: the parent named died before this line
    exit_with(parent)  # the parent, or a name left by an ancestor (still alive): not ours


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _watch(pid: int, handle: int | None) -> None:
    if handle is not None:
        select.select([handle], [], [])
        os._exit(1)
    while True:
        time.sleep(POLL_SECONDS)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            os._exit(1)
        except PermissionError:  # the pid exists (owned by someone else): keep going
            pass


def _preloaded_by_a_forkserver() -> bool:
    """True while multiprocessing's forkserver imports its preload list (this module)."""
    forkserver = sys.modules.get("multiprocessing.forkserver")
    if forkserver is None:
        return False
    frame = sys._getframe()
    while frame is not None:
        if frame.f_code is forkserver.main.__code__:
            return True
        frame = frame.f_back
    return False


if _preloaded_by_a_forkserver():
    watch_forkservers_parent()
