"""Resume: a sweep killed at any moment continues with --resume, losing and repeating nothing."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from conftest import SMALL

from channelsim.cli import main
from channelsim.experiments import sweep_run
from channelsim.experiments.sweep import SweepError, define, plan
from channelsim.scenario.loading import deep_merge
from channelsim.storage import results
from channelsim.storage.results import ResultsError

CHANNELSIM = [sys.executable, "-m", "channelsim"]
PARAMS = ["reps.commission.rate=0.02:0.1:4", "engagement.large_accounts=open,rep_only"]
ARGS = [arg for p in PARAMS for arg in ("--param", p)]
ARGS += ["--replicates", "3", "--seed", "3", "--chunk-size", "2", "--quiet"]
RUNS = 4 * 2 * 3


@pytest.fixture
def scenario_file(tmp_path, make_scenario) -> Path:
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(make_scenario(weeks=13).model_dump(mode="json")))
    return path


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> tuple[Path, sweep_run.SweepResult]:
    """The uninterrupted sweep every interrupted one must end up equal to."""
    folder = tmp_path_factory.mktemp("reference")
    path = folder / "small.yaml"
    path.write_text(yaml.safe_dump(deep_merge(SMALL, {"weeks": 13})))
    return path, sweep_run.run_sweep(the_plan(path), folder / "out", chunk=5)


def the_plan(scenario_file, replicates=3):
    return plan(define(scenario_file, params=PARAMS, replicates=replicates, seed=3))


def parts(out: Path) -> list[Path]:
    return sorted((out / "runs").glob("*.parquet")) if (out / "runs").is_dir() else []


def saved_runs(out: Path) -> pd.DataFrame:
    return sweep_run.read_runs(out) if parts(out) else pd.DataFrame(columns=["point", "replicate"])


def sweep_killed_at(fault: str, out: Path, scenario_file: Path, resume: bool) -> None:
    """`channelsim sweep` killed with SIGKILL at the point `fault` names (storage.faults)."""
    command = [*CHANNELSIM, "sweep", str(scenario_file), *ARGS, "--out", str(out)]
    env = {**os.environ, "CHANNELSIM_FAULT": fault}
    killed = subprocess.run(command + ["--resume"] * resume, env=env, capture_output=True)
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()


def test_a_sweep_killed_again_and_again_resumes_to_the_uninterrupted_tables(tmp_path, reference):
    """Killed between chunks, then while a chunk is written, then between chunks again (each
    time after resuming): no saved run is lost or saved twice, and the last resume gives the
    uninterrupted sweep's tables bit for bit. Random moments: benchmarks/kill_sweeps.py."""
    scenario_file, reference = reference
    out = tmp_path / "killed"
    for fault, parts_after in [("after-part:2", 2), ("mid-part:4", 3), ("after-part:7", 7)]:
        before = saved_runs(out)
        sweep_killed_at(fault, out, scenario_file, resume=not before.empty)
        after = saved_runs(out)
        assert len(parts(out)) == parts_after
        assert not results.ResultsDir(out).is_complete
        assert not after.duplicated(["point", "replicate"]).any()
        kept = set(zip(before["point"], before["replicate"], strict=True))
        assert kept <= set(zip(after["point"], after["replicate"], strict=True))
        if fault.startswith("mid-part"):  # the part being written is a hidden temporary file
            assert len(list((out / "runs").glob(".part-*.tmp"))) == 1
    finish = subprocess.run(
        [*CHANNELSIM, "sweep", str(scenario_file), *ARGS, "--out", str(out), "--resume"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert finish.returncode == 0, finish.stderr
    assert results.ResultsDir(out).is_complete
    assert not list(out.rglob("*.tmp"))
    final = sweep_run.read_runs(out)
    assert len(final) == RUNS
    pd.testing.assert_frame_equal(final, reference.runs, check_exact=True)
    summary = pd.read_parquet(out / "summary.parquet")
    pd.testing.assert_frame_equal(summary, reference.summary, check_exact=True)


def test_a_malformed_fault_is_refused(tmp_path):
    from channelsim.errors import InputError
    from channelsim.storage import faults

    with pytest.raises(InputError, match="expected after-part:N or mid-part:N"):
        faults.at_part("after-part", tmp_path, {"CHANNELSIM_FAULT": "after-parts:two"})


class StopAfter:
    """A progress callback that interrupts the sweep after `chunks` chunks, as Ctrl-C does."""

    def __init__(self, chunks: int) -> None:
        self.calls = -1
        self.chunks = chunks

    def __call__(self, done: int, total: int) -> None:
        self.calls += 1
        if self.calls == self.chunks:
            raise KeyboardInterrupt


def test_an_interrupted_sweep_resumes_with_only_the_missing_runs(tmp_path, reference):
    scenario_file, reference = reference
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        sweep_run.run_sweep(the_plan(scenario_file), out, chunk=4, on_progress=StopAfter(2))
    assert len(saved_runs(out)) == 8
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "incomplete"
    result = sweep_run.run_sweep(the_plan(scenario_file), out, resume=True)
    assert (result.done_before, result.ran) == (8, RUNS - 8)
    pd.testing.assert_frame_equal(result.runs, reference.runs, check_exact=True)
    sessions = json.loads((out / "manifest.json").read_text())["sessions"]
    assert [s["runs_before"] for s in sessions] == [0, 8]


def test_a_deleted_part_is_redone_and_a_leftover_temporary_file_ignored(tmp_path, scenario_file):
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        sweep_run.run_sweep(the_plan(scenario_file), out, chunk=4, on_progress=StopAfter(3))
    first = parts(out)[0]
    first.unlink()
    (out / "runs" / ".part-000000020.parquet.abc.tmp").write_bytes(b"half a file")
    result = sweep_run.run_sweep(the_plan(scenario_file), out, resume=True)
    assert (result.done_before, result.ran) == (8, RUNS - 8)
    assert not list((out / "runs").glob(".*.tmp"))
    assert sorted(result.runs["point"].unique()) == list(range(8))


def test_resume_refuses_a_different_definition(tmp_path, scenario_file):
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        sweep_run.run_sweep(the_plan(scenario_file), out, chunk=4, on_progress=StopAfter(1))
    with pytest.raises(SweepError, match=r"cannot resume: .*differs.*\(replicates\)"):
        sweep_run.run_sweep(the_plan(scenario_file, replicates=2), out, resume=True)


def test_resume_refuses_a_changed_scenario_file(tmp_path, scenario_file):
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        sweep_run.run_sweep(the_plan(scenario_file), out, chunk=4, on_progress=StopAfter(1))
    raw = yaml.safe_load(scenario_file.read_text())
    raw["reps"]["capacity"] = 13
    scenario_file.write_text(yaml.safe_dump(raw))
    with pytest.raises(SweepError, match=r"differs.*\(scenario\)"):
        sweep_run.run_sweep(the_plan(scenario_file), out, resume=True)


def test_an_unfinished_sweep_is_not_restarted_without_resume(tmp_path, scenario_file):
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        sweep_run.run_sweep(the_plan(scenario_file), out, chunk=4, on_progress=StopAfter(1))
    with pytest.raises(SweepError, match="unfinished sweep; add --resume"):
        sweep_run.run_sweep(the_plan(scenario_file), out)


def test_resuming_a_finished_sweep_reruns_nothing(tmp_path, scenario_file):
    out = tmp_path / "out"
    first = sweep_run.run_sweep(the_plan(scenario_file), out)
    again = sweep_run.run_sweep(the_plan(scenario_file), out, resume=True)
    assert (again.done_before, again.ran) == (RUNS, 0)
    pd.testing.assert_frame_equal(first.runs, again.runs, check_exact=True)


def test_two_sweeps_never_write_the_same_folder(tmp_path, scenario_file):
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        sweep_run.run_sweep(the_plan(scenario_file), out, chunk=4, on_progress=StopAfter(1))
    with open(out / ".lock", "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(ResultsError, match="another channelsim command is writing"):
            sweep_run.run_sweep(the_plan(scenario_file), out, resume=True)


def test_cli_resume_needs_the_folder(scenario_file):
    result = CliRunner().invoke(main, ["sweep", str(scenario_file), *ARGS, "--resume"])
    assert result.exit_code == 2
    assert "--resume needs --out DIR" in result.output


def edit_manifest(out: Path, change) -> None:
    path = out / "manifest.json"
    manifest = json.loads(path.read_text())
    change(manifest)
    path.write_text(json.dumps(manifest))


def test_resume_refuses_when_the_model_code_changed(tmp_path, scenario_file):
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        sweep_run.run_sweep(the_plan(scenario_file), out, chunk=4, on_progress=StopAfter(1))
    edit_manifest(out, lambda m: m["definition"].update(code="an older model"))
    with pytest.raises(SweepError, match="code or numpy version changed"):
        sweep_run.run_sweep(the_plan(scenario_file), out, resume=True)


def test_resume_refuses_when_the_seeds_would_differ(tmp_path, scenario_file):
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        sweep_run.run_sweep(the_plan(scenario_file), out, chunk=4, on_progress=StopAfter(1))
    edit_manifest(out, lambda m: m["seeds"][0].reverse())
    with pytest.raises(SweepError, match="design points or run seeds computed now differ"):
        sweep_run.run_sweep(the_plan(scenario_file), out, resume=True)


def test_a_full_disk_stops_the_sweep_cleanly_and_resume_finishes(
    tmp_path, scenario_file, monkeypatch
):
    out = tmp_path / "out"
    real = results.write_part
    calls = []

    def disk_fills(path, write):
        calls.append(path)
        if len(calls) == 3:
            raise results.ResultsError(f"{path}: cannot write (No space left on device)")
        real(path, write)

    monkeypatch.setattr(results, "write_part", disk_fills)
    with pytest.raises(results.ResultsError, match="No space left on device"):
        sweep_run.run_sweep(the_plan(scenario_file), out, chunk=4)
    assert len(saved_runs(out)) == 8
    assert not results.ResultsDir(out).is_complete
    monkeypatch.setattr(results, "write_part", real)
    result = sweep_run.run_sweep(the_plan(scenario_file), out, resume=True)
    assert (result.done_before, result.ran) == (8, RUNS - 8)
