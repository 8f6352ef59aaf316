"""Interrupts and clusters: Ctrl-C at any moment is one line, exit 130 and a resumable
folder; worker processes never outlive their main process; a scheduler that does not
answer, or answers garbage, fails within the connect timeout with one line.

Every interrupt here is triggered at a chosen moment by a patched function (no sleeps, no
timing); the kill scripts in benchmarks/ try random moments.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from conftest import SMALL

from channelsim.cli import main
from channelsim.experiments import replicates
from channelsim.experiments.executors import (
    DaskCluster,
    ExecutorError,
    LocalProcesses,
    process_context,
)
from channelsim.output.run_folder import RunFolder
from channelsim.storage.results import INCOMPLETE, ResultsDir

FAST = {**SMALL, "weeks": 8}


@pytest.fixture
def small_file(tmp_path: Path) -> Path:
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(FAST, sort_keys=False))
    return path


def interrupt_after(monkeypatch: pytest.MonkeyPatch, target: object, name: str, calls: int):
    """Make `target.name` raise KeyboardInterrupt on call number `calls` (as Ctrl-C would)."""
    real = getattr(target, name)
    count = [0]

    def patched(*args, **kwargs):
        count[0] += 1
        if count[0] == calls:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(target, name, patched)


def one_interrupt_line(result) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip() and "run/s" not in line]
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    assert len(lines) == 1, lines
    return lines[0]


def test_ctrl_c_during_a_run_is_one_line_exit_130_and_resume_finishes_it(
    small_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, whole = tmp_path / "out", tmp_path / "whole"
    args = ["run", str(small_file), "-n", "5", "-q"]
    assert CliRunner().invoke(main, [*args, "--out", str(whole)]).exit_code == 0
    with monkeypatch.context() as patch:
        interrupt_after(patch, replicates, "run_spec", calls=3)
        result = CliRunner().invoke(main, [*args, "--out", str(out)])
    assert result.exit_code == 130
    line = one_interrupt_line(result)
    assert line.startswith("interrupted (Ctrl-C): finished replicates are saved in")
    assert "--resume" in line
    assert (out / INCOMPLETE).is_file() and not ResultsDir(out).is_complete
    assert sorted(p.name for p in (out / "replicates").iterdir()) == [
        "replicate-000000.parquet",
        "replicate-000001.parquet",
    ]
    resumed = CliRunner().invoke(main, [*args, "--out", str(out), "--resume"])
    assert resumed.exit_code == 0, resumed.output
    assert ResultsDir(out).is_complete and not (out / "replicates").exists()
    assert (out / "kpis.csv").read_bytes() == (whole / "kpis.csv").read_bytes()


def test_ctrl_c_during_a_sweep_leaves_it_resumable(
    small_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "sweep"
    args = ["sweep", str(small_file), "--param", "reps.capacity=8,12", "-n", "2", "-q"]
    with monkeypatch.context() as patch:
        from channelsim.experiments import sweep_run

        interrupt_after(patch, sweep_run, "run_spec", calls=3)
        result = CliRunner().invoke(main, [*args, "--chunk-size", "1", "--out", str(out)])
    assert result.exit_code == 130
    assert "add --resume" in one_interrupt_line(result)
    assert not ResultsDir(out).is_complete
    resumed = CliRunner().invoke(main, [*args, "--out", str(out), "--resume"])
    assert resumed.exit_code == 0, resumed.output
    assert ResultsDir(out).is_complete


def test_ctrl_c_while_a_command_is_imported_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    def interrupted_import(name: str, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(importlib, "import_module", interrupted_import)
    result = CliRunner().invoke(main, ["kpis"])
    assert result.exit_code == 130
    assert one_interrupt_line(result) == "interrupted (Ctrl-C)"


def _pause(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def test_ctrl_c_as_a_worker_starts_stops_every_worker_silently(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """SIGINT sent to the main thread right after the first worker started (as a terminal's
    Ctrl-C reaches every process of the group): the main process gets KeyboardInterrupt,
    every worker is ended, and none prints a traceback."""
    worker = process_context().Process  # the class local workers are started as
    real_start = worker.start
    main_thread = threading.main_thread().ident

    def start_then_ctrl_c(self) -> None:
        real_start(self)
        os.kill(self.pid, signal.SIGINT)  # the worker gets it too, as from a terminal
        signal.pthread_kill(main_thread, signal.SIGINT)

    monkeypatch.setattr(worker, "start", start_then_ctrl_c)
    before = set(multiprocessing.active_children())
    with pytest.raises(KeyboardInterrupt):
        for _ in LocalProcesses(2).map_unordered(_pause, [30.0] * 4):
            pass
    assert set(multiprocessing.active_children()) <= before
    assert "Traceback" not in capfd.readouterr().err


def test_ctrl_c_at_worker_start_through_the_cli(
    small_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    worker = process_context().Process
    real_start = worker.start
    main_thread = threading.main_thread().ident

    def start_then_ctrl_c(self) -> None:
        real_start(self)
        signal.pthread_kill(main_thread, signal.SIGINT)

    monkeypatch.setattr(worker, "start", start_then_ctrl_c)
    out = tmp_path / "out"
    before = set(multiprocessing.active_children())  # other tests' long-lived pools
    result = CliRunner().invoke(
        main, ["run", str(small_file), "-n", "4", "--workers", "2", "-q", "--out", str(out)]
    )
    assert result.exit_code == 130
    assert "--resume" in one_interrupt_line(result)
    assert (out / INCOMPLETE).is_file()
    assert not set(multiprocessing.active_children()) - before


def a_run_that_kills_itself(small_file: Path, out: Path, workers: int) -> subprocess.Popen:
    """`channelsim run` SIGKILLed (its main process only) right after saving its second
    replicate (storage.faults): a kill at a chosen point instead of a random moment."""
    args = ["run", str(small_file), "-n", "6", "--workers", str(workers), "-q", "--out", str(out)]
    env = {**os.environ, "CHANNELSIM_FAULT": "after-part:2"}
    return subprocess.Popen([sys.executable, "-m", "channelsim", *args], env=env)


@pytest.mark.parametrize("workers, warmup", [(1, 0), (2, 0), (1, 3)])
def test_a_run_killed_after_two_replicates_keeps_them_and_resumes(
    small_file: Path, tmp_path: Path, workers: int, warmup: int
) -> None:
    """Also with a warm-up, whose weeks each saved replicate keeps (before, resuming such a
    run refused every saved replicate as having the wrong number of weekly rows)."""
    small_file.write_text(yaml.safe_dump({**FAST, "warmup_weeks": warmup}, sort_keys=False))
    out, whole = tmp_path / "out", tmp_path / "whole"
    process = a_run_that_kills_itself(small_file, out, workers)
    assert process.wait() == -signal.SIGKILL
    assert (out / INCOMPLETE).is_file() and not ResultsDir(out).is_complete
    saved = sorted((out / "replicates").glob("*.parquet"))
    assert len(saved) >= 2  # with 2 workers a third may have finished before the kill
    folder = RunFolder(out, *_plan(small_file))
    assert len(folder.saved()) == len(saved)
    args = ["run", str(small_file), "-n", "6", "-q"]
    assert CliRunner().invoke(main, [*args, "--out", str(out), "--resume"]).exit_code == 0
    assert CliRunner().invoke(main, [*args, "--out", str(whole)]).exit_code == 0
    assert (out / "kpis.csv").read_bytes() == (whole / "kpis.csv").read_bytes()


def _plan(small_file: Path):
    from channelsim.api import load_scenario

    scenario = load_scenario(small_file)
    return scenario, scenario.seed, replicates.replicate_seeds(scenario.seed, 6)


# --- schedulers -------------------------------------------------------------------------


def serve(greeting: bytes | None) -> tuple[socket.socket, int]:
    """A server that accepts connections and then says nothing, or sends `greeting`."""
    server = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                connection, _ = server.accept()
            except OSError:
                return
            held.append(connection)
            if greeting is not None:
                connection.sendall(greeting)

    threading.Thread(target=accept, daemon=True).start()
    return server, server.getsockname()[1]


@pytest.mark.parametrize(
    "greeting, message",
    [
        (None, "accepted the connection but sent nothing"),
        (b"HTTP/1.1 200 OK\r\n\r\n" + b"\xff" * 64, "does not answer as a Dask scheduler"),
        ((2**40).to_bytes(8, "little"), "does not answer as a Dask scheduler"),
    ],
    ids=["silent", "http garbage", "huge frame"],
)
def test_a_server_that_is_not_a_scheduler_fails_within_the_timeout(
    greeting: bytes | None, message: str
) -> None:
    server, port = serve(greeting)
    try:
        with pytest.raises(ExecutorError, match=message):
            DaskCluster(f"tcp://127.0.0.1:{port}", connect_timeout=1.0)
    finally:
        server.close()


@pytest.mark.parametrize(
    "address, message",
    [
        ("http://scheduler-host:8786", "unsupported address scheme 'http://'"),
        ("inproc://x", "unsupported address scheme 'inproc://'"),
        ("tcp://scheduler-host", "expected tcp://HOST:PORT"),
    ],
)
def test_unusable_scheduler_addresses_exit_2(small_file: Path, address: str, message: str) -> None:
    result = CliRunner().invoke(
        main, ["sweep", str(small_file), "--param", "reps.capacity=8,12", "--scheduler", address]
    )
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.output


def test_ucx_without_its_package_exits_2(small_file: Path) -> None:
    import importlib.util

    if importlib.util.find_spec("ucp") or importlib.util.find_spec("distributed_ucxx"):
        pytest.skip("a UCX package is installed here")
    result = CliRunner().invoke(
        main,
        ["sweep", str(small_file), "--param", "reps.capacity=8,12", "--scheduler", "ucx://h:1"],
    )
    assert result.exit_code == 2
    assert "ucx:// needs the Python package 'ucp'" in result.stderr


# --- Ctrl-C before, while and after a command runs, through the entry point ------------------

CTRL_C_AT_IMPORT = textwrap.dedent(
    """
    import os, signal, sys
    target, args = sys.argv[1], sys.argv[2:]

    class CtrlCAtImport:
        # Ctrl-C (SIGINT to this process) as `target` is first imported
        def find_spec(self, name, path=None, module=None):
            if name == target:
                sys.meta_path.remove(self)
                os.kill(os.getpid(), signal.SIGINT)
            return None

    if target == "exit":  # as the interpreter exits, after the command has finished
        import atexit
        atexit.register(os.kill, os.getpid(), signal.SIGINT)
    else:
        sys.meta_path.insert(0, CtrlCAtImport())
    sys.argv = ["channelsim", *args]
    from channelsim.__main__ import main  # what the installed `channelsim` script runs
    sys.exit(main())
    """
)


def ctrl_c_at(target: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", CTRL_C_AT_IMPORT, target, *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_channelsim_command_is_the_entry_point_that_handles_ctrl_c_first() -> None:
    from importlib.metadata import entry_points

    (script,) = entry_points(group="console_scripts", name="channelsim")
    assert script.value == "channelsim.__main__:main"


@pytest.mark.parametrize("target", ["click", "channelsim.cli.run", "pandas"])
def test_ctrl_c_while_the_command_starts_is_one_line_and_exit_130(
    small_file: Path, tmp_path: Path, target: str
) -> None:
    out = tmp_path / "out"
    result = ctrl_c_at(target, "run", str(small_file), "-n", "2", "-q", "--out", str(out))
    assert result.returncode == 130, result.stderr
    assert one_interrupt_line(result) == "interrupted (Ctrl-C)"
    assert not out.exists() or not ResultsDir(out).is_complete


@pytest.mark.parametrize("target", ["mesa", "matplotlib"])
def test_ctrl_c_as_the_engine_or_the_charts_are_imported_leaves_the_run_resumable(
    small_file: Path, tmp_path: Path, target: str
) -> None:
    # Mesa is imported at the first run, the charts' matplotlib once the replicates are saved
    out = tmp_path / "out"
    args = ["run", str(small_file), "-n", "2", "-q", "--out", str(out)]
    result = ctrl_c_at(target, *args)
    assert result.returncode == 130, result.stderr
    assert "add --resume" in one_interrupt_line(result)
    assert (out / INCOMPLETE).is_file() and not ResultsDir(out).is_complete
    assert ctrl_c_at("nothing", *args, "--resume").returncode == 0
    assert ResultsDir(out).is_complete


def test_ctrl_c_after_the_command_finished_is_one_line_and_keeps_the_results(
    small_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    result = ctrl_c_at("exit", "run", str(small_file), "-n", "2", "-q", "--out", str(out))
    assert result.returncode == 130, result.stderr
    assert one_interrupt_line(result) == "interrupted (Ctrl-C)"
    assert ResultsDir(out).is_complete


def test_an_ignored_sigint_stays_ignored(small_file: Path, tmp_path: Path) -> None:
    """`nohup channelsim ...` or `channelsim ... &`: Ctrl-C is not for this process."""
    code = "import signal; signal.signal(signal.SIGINT, signal.SIG_IGN)\n" + CTRL_C_AT_IMPORT
    out = tmp_path / "out"
    args = ["run", str(small_file), "-n", "2", "-q", "--out", str(out)]
    result = subprocess.run(
        [sys.executable, "-c", code, "numpy", *args], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert ResultsDir(out).is_complete


# --- a killed main process leaves no helper process behind ----------------------------------


def wait_until(condition, bound: float, what: str) -> None:
    """Poll `condition` until it holds; fail after `bound` seconds (a bound, not a timing)."""
    deadline = time.monotonic() + bound
    while not condition():
        assert time.monotonic() < deadline, f"{what} after {bound:g} s"
        time.sleep(0.01)


def all_gone(family) -> bool:
    return not any(proc.alive() for proc in family)


PARENT_OF_A_FORKSERVER = textwrap.dedent(
    """
    import multiprocessing, signal, sys
    from multiprocessing import forkserver
    from channelsim.experiments import executors
    executors.process_context()  # what every pool of local workers starts from
    preload = sys.argv[1:]
    multiprocessing.get_context("forkserver").set_forkserver_preload(preload)
    forkserver.ensure_running()
    signal.pause()  # until killed
    """
)


def preload_module(folder: Path, name: str, *lines: str) -> None:
    (folder / f"{name}.py").write_text("\n".join(["import os, pathlib, threading", *lines]))


@pytest.mark.parametrize("killed", ["while it imports the engine", "before it starts watching"])
def test_a_forkserver_exits_with_its_killed_parent(tmp_path: Path, killed: str) -> None:
    """The forkserver is made to hang in its preload (a module that never finishes) and the
    parent is killed there, or even before the forkserver imports parent_watch (a module
    before it waits for the kill): the forkserver and the resource tracker must still end."""
    from process_tree import descendants

    ready, go = tmp_path / "ready", tmp_path / "go"
    wait_for_go = "while not pathlib.Path(os.environ['GO']).exists(): threading.Event().wait(0.01)"
    preload_module(tmp_path, "announce", "pathlib.Path(os.environ['READY']).touch()")
    preload_module(tmp_path, "wait_for_go", wait_for_go)
    preload_module(tmp_path, "never_finishes", "threading.Event().wait()")
    watch = "channelsim.experiments.parent_watch"
    if killed == "while it imports the engine":
        preload = [watch, "announce", "never_finishes"]
    else:
        preload = ["announce", "wait_for_go", watch, "never_finishes"]
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "READY": str(ready), "GO": str(go)}
    parent = subprocess.Popen([sys.executable, "-c", PARENT_OF_A_FORKSERVER, *preload], env=env)
    try:
        wait_until(ready.exists, 300, "the forkserver did not start")
        family = descendants(parent.pid)
        assert {p.kind for p in family} == {"forkserver", "resource tracker"}, family
    finally:
        parent.kill()
        parent.wait()
    go.touch()
    wait_until(lambda: all_gone(family), 60, f"still alive: {family}")


def test_a_killed_sweep_leaves_no_worker_forkserver_or_resource_tracker(
    small_file: Path, tmp_path: Path
) -> None:
    from process_tree import descendants, kind

    out = tmp_path / "out"
    args = ["sweep", str(small_file), "--param", "reps.capacity=6:14:5", "-n", "4", "-q"]
    args += ["--chunk-size", "1", "--workers", "2", "--out", str(out)]
    sweep = subprocess.Popen([sys.executable, "-m", "channelsim", *args])
    try:
        wait_until(lambda: list(out.glob("runs/*.parquet")), 300, "no part was written")
        family = descendants(sweep.pid)
    finally:
        sweep.kill()
        sweep.wait()
    kinds = sorted(kind(proc, family) for proc in family)
    assert kinds[:2] == ["forkserver", "resource tracker"] and "worker" in kinds, family
    wait_until(lambda: all_gone(family), 60, f"still alive: {family}")
    assert not ResultsDir(out).is_complete


FORKSERVER_MASK = textwrap.dedent(
    """
    import os, sys, time
    from multiprocessing import forkserver
    from channelsim.experiments import executors

    # A module the forkserver imports after the engine, which waits for the test's word:
    # the check below then always falls inside the forkserver's import of what it preloads.
    executors.ENGINE_MODULES = [*executors.ENGINE_MODULES, "wait_for_word"]
    executors.start_workers_early()
    pid = forkserver._forkserver._forkserver_pid
    while not os.path.exists(os.path.join(sys.argv[1], "importing")):
        time.sleep(0.01)
    fields = dict(line.split(":\\t") for line in open(f"/proc/{pid}/status").read().splitlines())
    print(int(fields["SigBlk"], 16) & 2, int(fields["SigIgn"], 16) & 2)
    open(os.path.join(sys.argv[1], "word"), "w").close()
    """
)
WAIT_FOR_WORD = textwrap.dedent(
    """
    import os, sys, time
    here = os.path.dirname(__file__)
    open(os.path.join(here, "importing"), "w").close()
    while not os.path.exists(os.path.join(here, "word")):
        time.sleep(0.01)
    """
)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux's /proc")
def test_the_forkserver_imports_the_engine_with_ctrl_c_held_back(tmp_path: Path) -> None:
    """Before, starting multiprocessing's resource tracker unblocked SIGINT, so a Ctrl-C in
    the first second of a command with workers printed the forkserver's traceback."""
    (tmp_path / "wait_for_word.py").write_text(WAIT_FOR_WORD)
    script = tmp_path / "mask.py"
    script.write_text(FORKSERVER_MASK)
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    out = subprocess.run(
        [sys.executable, str(script), str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    blocked, ignored = map(int, out.stdout.split())
    assert blocked or ignored, out.stdout
