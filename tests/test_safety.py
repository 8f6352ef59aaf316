"""Nothing dangerous, nothing lost: scenario files cannot run code or loop, outputs cannot
escape their folder, and an unwritable folder, a full disk or a killed run never leaves a
results folder that looks complete.
"""

from __future__ import annotations

import errno
import json
import os
import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from conftest import SMALL

from channelsim.cli import main
from channelsim.scenario.loading import ScenarioError, load_scenario
from channelsim.storage import results
from channelsim.storage.results import (
    INCOMPLETE,
    ResultsDir,
    ResultsError,
    atomic_write,
    default_out,
)

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


@pytest.fixture
def small_file(tmp_path: Path) -> Path:
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(SMALL, sort_keys=False))
    return path


def looks_complete(folder: Path) -> bool:
    """What a reader would trust: a manifest saying complete, or no INCOMPLETE marker."""
    manifest = folder / "manifest.json"
    if manifest.is_file() and json.loads(manifest.read_text()).get("status") == "complete":
        return True
    return folder.is_dir() and not (folder / INCOMPLETE).exists() and any(folder.iterdir())


# --- scenario files hold data only ---------------------------------------------------------


@pytest.mark.parametrize(
    "tag",
    [
        "!!python/object/apply:os.system",
        "!!python/object/apply:subprocess.call",
        "!!python/name:os.system",
        "!!python/object/new:os.system",
    ],
)
def test_yaml_tags_that_would_run_code_are_refused(tmp_path: Path, tag: str) -> None:
    marker = tmp_path / "ran"
    path = tmp_path / "evil.yaml"
    path.write_text(f'name: {tag} ["touch {marker}"]\n')
    with pytest.raises(ScenarioError, match=r"evil\.yaml, line 1: the tag '!!python/.*not allowed"):
        load_scenario(path)
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "cannot create Python objects" in result.stderr
    assert not marker.exists()


def test_a_python_tag_in_a_set_value_is_refused(small_file: Path, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    with pytest.raises(ScenarioError, match=r"--set name: .*not allowed"):
        load_scenario(small_file, [f'name=!!python/object/apply:os.system ["touch {marker}"]'])
    assert not marker.exists()


@pytest.mark.parametrize(
    "files, start",
    [
        ({"a.yaml": "extends: a.yaml\n"}, "a.yaml"),
        ({"a.yaml": "extends: b.yaml\n", "b.yaml": "extends: a.yaml\n"}, "a.yaml"),
        ({"a.yaml": "extends: sub/b.yaml\n", "sub/b.yaml": "extends: ../a.yaml\n"}, "a.yaml"),
    ],
    ids=["a->a", "a->b->a", "through a subfolder"],
)
def test_extends_cycles_stop_with_a_clear_message(
    tmp_path: Path, files: dict[str, str], start: str
) -> None:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(text)
    result = CliRunner().invoke(main, ["validate", str(tmp_path / start)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert re.search(r"line 1: extends: '.*a\.yaml' forms a cycle \(.* -> .*\)", result.stderr)
    assert "cannot extend itself" in result.stderr


# --- outputs stay inside the chosen folder ---------------------------------------------------


@pytest.mark.parametrize(
    "name", ["../escape.csv", "/etc/passwd", "charts/../../escape", "..", "", "a/../../b"]
)
def test_results_dir_refuses_names_that_escape_it(tmp_path: Path, name: str) -> None:
    folder = ResultsDir(tmp_path / "out")
    with pytest.raises(ResultsError, match="outside"):
        folder.file(name)


def test_results_dir_refuses_a_symlink_pointing_outside(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "charts").symlink_to(tmp_path)
    with pytest.raises(ResultsError, match="outside"):
        ResultsDir(tmp_path / "out").file("charts/x.png")


def test_results_dir_accepts_names_inside_it(tmp_path: Path) -> None:
    folder = ResultsDir(tmp_path / "out")
    assert folder.file("charts/revenue.png") == (tmp_path / "out" / "charts" / "revenue.png")


@pytest.mark.parametrize(
    "name", ["../../etc", "a/b", "/abs/path", "..", "", ".hidden", "-rf", "x" * 500, "名字 ok"]
)
@pytest.mark.parametrize("kind", ["", "compare", "../sweep"])
def test_default_out_is_one_new_folder_directly_under_results(
    tmp_path: Path, name: str, kind: str
) -> None:
    root = tmp_path / "results"
    out = default_out(kind, name, root=root)
    assert out.parent == root
    assert "/" not in out.name and not out.name.startswith((".", "-"))
    assert len(out.name.encode()) < 120
    assert not out.exists()


def test_default_out_never_reuses_an_existing_folder(tmp_path: Path) -> None:
    first = default_out("", "same", root=tmp_path)
    first.mkdir()
    second = default_out("", "same", root=tmp_path)
    assert second != first and second.parent == tmp_path


def test_a_scenario_named_with_dots_and_slashes_writes_under_results(
    small_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    args = ["run", str(small_file), "-n", "1", "--weeks", "3", "--quiet"]
    result = CliRunner().invoke(main, [*args, "--set", "name=../../escape/x"])
    assert result.exit_code == 0, result.output
    (made,) = list((work / "results").iterdir())
    assert (made / "manifest.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["small.yaml", "work"]
    assert sorted(p.name for p in work.iterdir()) == ["results"]


# --- unwritable folders and full disks ----------------------------------------------------------


def unwritable_outputs(tmp_path: Path) -> list[Path]:
    """Folders that cannot be created even by root (root ignores permission bits)."""
    (tmp_path / "file.txt").write_text("not a folder")
    paths = [tmp_path / "file.txt" / "out", Path("/proc/channelsim-test-out")]
    if not IS_ROOT:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        paths.append(locked / "out")
    return paths


def test_an_unwritable_output_folder_is_refused_before_running(
    small_file: Path, tmp_path: Path
) -> None:
    for out in unwritable_outputs(tmp_path):
        result = CliRunner().invoke(main, ["run", str(small_file), "--out", str(out)])
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.output
        assert re.match(
            rf"Error: {re.escape(str(out))}: cannot write results here \(.+\)\n$", result.stderr
        )
        assert not out.exists()


@pytest.mark.skipif(IS_ROOT, reason="root ignores permission bits")
def test_a_read_only_folder_is_refused(small_file: Path, tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    result = CliRunner().invoke(main, ["run", str(small_file), "--out", str(locked / "out")])
    assert result.exit_code == 2
    assert "Permission denied" in result.stderr


def test_a_full_device_raises_a_clear_error_and_keeps_the_old_file(tmp_path: Path) -> None:
    """/dev/full fails every write with ENOSPC, like a full disk."""
    target = tmp_path / "table.csv"
    target.write_text("old, complete content\n")

    def write(tmp: Path) -> None:
        with open("/dev/full", "w") as full:
            full.write("x" * 10_000)
            full.flush()

    with pytest.raises(ResultsError, match=r"table\.csv: cannot write \(No space left on device\)"):
        atomic_write(target, write)
    assert target.read_text() == "old, complete content\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["table.csv"]


@pytest.mark.parametrize(
    "failing", ["kpis.csv", "timeseries.parquet", "where_the_money_goes.png", "manifest.json"]
)
def test_a_disk_that_fills_up_mid_run_leaves_the_folder_marked_incomplete(
    small_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    """The disk fills when one file is flushed: the error is clear and nothing looks done."""
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        if f".{failing}." in os.readlink(f"/proc/self/fd/{fd}"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_fsync(fd)

    monkeypatch.setattr(results.os, "fsync", fsync)
    out = tmp_path / "out"
    args = ["run", str(small_file), "-n", "2", "--weeks", "4", "--quiet", "--out", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert failing in result.stderr and "No space left on device" in result.stderr
    assert (out / INCOMPLETE).is_file()
    assert not looks_complete(out)
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]


def test_complete_refuses_a_manifest_listing_missing_files(tmp_path: Path) -> None:
    folder = ResultsDir(tmp_path / "out")
    folder.create()
    with pytest.raises(ResultsError, match=r"\['kpis\.csv'\] missing"):
        folder.complete({"files": ["kpis.csv", "manifest.json"]})
    assert not folder.is_complete and not looks_complete(folder.path)


# --- killed runs -------------------------------------------------------------------------------
# A run killed after a chosen replicate: tests/test_interrupts.py (deterministic); kills at
# random moments: benchmarks/kill_runs.py.


def test_only_a_complete_manifest_without_the_marker_counts_as_complete(tmp_path: Path) -> None:
    folder = ResultsDir(tmp_path / "out")
    folder.create()
    (folder.path / "kpis.csv").write_text("a\n1\n")
    folder.complete({"files": ["kpis.csv"]})
    assert folder.is_complete
    (folder.path / "manifest.json").write_text('{"status": "incomplete"}')
    assert not folder.is_complete
    (folder.path / "manifest.json").write_text("{not json")
    assert not folder.is_complete
    (folder.path / "manifest.json").write_text('{"status": "complete"}')
    (folder.path / INCOMPLETE).write_text("")
    assert not folder.is_complete
