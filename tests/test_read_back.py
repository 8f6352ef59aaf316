"""Folders that are read back trust nothing in them: `sweep --resume`, `sensitivity` and
`report` validate the manifest and check every part before it counts, embed only files
that really lie in the folder, leave no temporary file in a complete folder, and a second
command writing the same folder refuses."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import threading
from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from conftest import SMALL

from channelsim.cli import main
from channelsim.experiments import sweep_run
from channelsim.experiments.sweep import SweepError, define, plan
from channelsim.output import report
from channelsim.storage.results import INCOMPLETE, LOCK, ResultsDir

FAST = {**SMALL, "weeks": 8}
PARAMS = ["reps.capacity=8,12"]
SWEEP = ["--param", PARAMS[0], "-n", "2", "--seed", "3", "--chunk-size", "1", "-q"]


def cli(*args: str):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in result.output
    return result


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> dict[str, Path]:
    """One interrupted sweep, one finished sobol sweep and one comparison, built once."""
    root = tmp_path_factory.mktemp("made")
    scenario = root / "small.yaml"
    scenario.write_text(yaml.safe_dump(FAST, sort_keys=False))
    other = root / "other.yaml"
    other.write_text(yaml.safe_dump({**FAST, "name": "other", "strategy": "direct"}))
    the_plan = plan(define(scenario, params=PARAMS, replicates=2, seed=3))
    calls = [0]

    def stop_after_two(done: int, total: int) -> None:
        calls[0] += 1
        if calls[0] == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        sweep_run.run_sweep(the_plan, root / "partial", chunk=1, on_progress=stop_after_two)
    sobol = ["--design", "sobol", "--samples", "2", "--param", "reps.capacity=8:12", "-n", "1"]
    assert cli("sweep", scenario, *sobol, "-q", "--out", root / "sobol").exit_code == 0
    compared = cli("compare", scenario, other, "-n", "2", "-q", "--out", root / "compare")
    assert compared.exit_code == 0, compared.output
    return {"scenario": scenario, "other": other, "root": root}


@pytest.fixture
def copy(made, tmp_path):
    def copy_of(name: str) -> Path:
        target = tmp_path / name
        shutil.copytree(made["root"] / name, target, symlinks=True)
        (target / LOCK).unlink(missing_ok=True)
        return target

    return copy_of


def resume(made, out: Path):
    return cli("sweep", made["scenario"], *SWEEP, "--out", out, "--resume")


# --- manifests ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content, message",
    [
        ("[1, 2]", "expected a JSON object, found a list"),
        ("null", "expected a JSON object, found null"),
        ('{"kind": "sweep", "status": "incomplete"}', "definition: Field required"),
        ('{"kind": "sweep", "status": "done", "definition": {}, "design": {}, "points": 2, '
         '"runs": 4, "seeds": [[1, 2], [3, 4]]}', "status: Input should be"),
        ('{"kind": "sweep", "status": "incomplete", "definition": {}, "design": {}, '
         '"points": "two", "runs": 4, "seeds": [[1, 2], [3, 4]]}', "points: Input should"),
        ("{not json", "cannot read the sweep manifest"),
    ],
    ids=["list", "null", "missing fields", "bad status", "text count", "not json"],
)  # fmt: skip
def test_resume_validates_the_manifest(made, copy, content: str, message: str) -> None:
    out = copy("partial")
    (out / "manifest.json").write_text(content)
    result = resume(made, out)
    assert result.exit_code == 2
    assert message in result.stderr and result.stderr.count("\n") == 1


@pytest.mark.parametrize("content", ["[]", "null", '{"kind": "sweep"}'])
def test_sensitivity_validates_the_manifest(copy, content: str) -> None:
    out = copy("sobol")
    (out / "manifest.json").write_text(content)
    result = cli("sensitivity", out)
    assert result.exit_code == 2 and result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda m: m.update(names=["only"]), "names: List should have at least 2 items"),
        (lambda m: m.update(baseline="nobody"), "names, baseline and scenarios do not agree"),
        (lambda m: m.update(replicates="many"), "replicates: Input should be a valid integer"),
        (lambda m: m.pop("scenarios"), "scenarios: Field required"),
    ],
)
def test_report_validates_the_manifest(copy, change, message: str) -> None:
    out = copy("compare")
    manifest = json.loads((out / "manifest.json").read_text())
    change(manifest)
    (out / "manifest.json").write_text(json.dumps(manifest))
    result = cli("report", out)
    assert result.exit_code == 2
    assert message in result.stderr


# --- parts ----------------------------------------------------------------------------------


def first_part(out: Path) -> Path:
    return sorted((out / "runs").glob("*.parquet"))[0]


@pytest.mark.parametrize(
    "tamper, message",
    [
        (lambda f: f.assign(replicate=7), "a replicate outside 0..1"),
        (lambda f: f.assign(point=-1), "a point outside the design's 0..1"),
        (lambda f: f.drop(columns=["revenue", "units"]), "columns missing: revenue, units"),
        (lambda f: f.assign(point=f["point"].astype(str)), "'point' holds large_string, not int"),
        (lambda f: f.assign(seed=f["seed"] + 1), "a run's seed is not the plan's seed"),
        (lambda f: f.assign(status="maybe"), "neither 'ok' nor 'failed'"),
        (lambda f: f.assign(revenue=float("inf")), "an infinite KPI"),
        (lambda f: f.iloc[0:0], "holds no runs"),
    ],
    ids=["replicate outside", "point outside", "missing KPIs", "text keys", "wrong seed",
         "bad status", "infinite KPI", "empty"],
)  # fmt: skip
def test_a_part_that_does_not_belong_is_refused_not_counted(
    made, copy, tamper, message: str
) -> None:
    out = copy("partial")
    part = first_part(out)
    tamper(pd.read_parquet(part)).to_parquet(part, index=False)
    result = resume(made, out)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert str(part) in result.stderr and "delete it and --resume" in result.stderr
    assert not ResultsDir(out).is_complete


def test_a_part_that_is_a_link_is_refused(made, copy, tmp_path: Path) -> None:
    out = copy("partial")
    part = first_part(out)
    elsewhere = tmp_path / "elsewhere.parquet"
    part.rename(elsewhere)
    part.symlink_to(elsewhere)
    result = resume(made, out)
    assert result.exit_code == 2 and "not a Parquet part written by a sweep" in result.stderr


def test_a_deleted_bad_part_is_redone_and_the_sweep_completes(made, copy) -> None:
    out = copy("partial")
    first_part(out).unlink()
    (out / "runs" / ".part-000000002.parquet.abc.tmp").write_bytes(b"half")
    result = resume(made, out)
    assert result.exit_code == 0, result.output
    assert ResultsDir(out).is_complete
    assert not list(out.rglob("*.tmp"))
    assert len(sweep_run.read_runs(out)) == 4


# --- what report embeds ------------------------------------------------------------------


def a_png(path: Path) -> None:
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"secret-outside" * 10)


def test_report_never_embeds_a_link_that_leads_out(copy, tmp_path: Path) -> None:
    out = copy("compare")
    outside = tmp_path / "outside.png"
    a_png(outside)
    (out / "charts" / "x.png").symlink_to(outside)
    html = report.build_report(out)
    assert "secret-outside" not in html
    import base64

    assert base64.b64encode(outside.read_bytes()).decode() not in html
    assert "Left out:" in html and "is a symbolic link" in html


def test_report_skips_fifos_devices_and_huge_images(copy, monkeypatch: pytest.MonkeyPatch) -> None:
    out = copy("compare")
    os.mkfifo(out / "charts" / "pipe.png")
    (out / "charts" / "big.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * (2 << 20))
    (out / "charts" / "fake.png").write_text("not an image")
    monkeypatch.setattr(report, "MAX_IMAGE_BYTES", 1 << 20)
    done = threading.Event()
    holder: list[str] = []
    threading.Thread(target=lambda: (holder.append(report.build_report(out)), done.set())).start()
    if not done.wait(timeout=60):
        with open(out / "charts" / "pipe.png", "w"):
            pass
        pytest.fail("a FIFO among the charts blocked the report")
    html = holder[0]
    assert "named pipe (FIFO)" in html
    assert "the chart is larger than 1 MiB" in html
    assert "fake.png: not a PNG image" in html
    assert html.count("<img ") >= 5  # the real charts are still there


def test_report_reads_tables_only_from_inside_the_folder(copy, tmp_path: Path) -> None:
    out = copy("compare")
    (out / "summary.csv").rename(tmp_path / "summary.csv")
    (out / "summary.csv").symlink_to(tmp_path / "summary.csv")
    result = cli("report", out)
    assert result.exit_code == 2 and "is a symbolic link" in result.stderr


def test_report_leaves_no_temporary_file_and_is_utf8(copy) -> None:
    out = copy("compare")
    (out / ".report.html.xyz.tmp").write_text("left by a killed report")
    assert cli("report", out).exit_code == 0
    assert not list(out.rglob("*.tmp"))
    html = (out / "report.html").read_bytes().decode("utf-8")
    assert '<meta charset="utf-8">' in html


def test_complete_removes_leftover_temporary_files(tmp_path: Path) -> None:
    folder = ResultsDir(tmp_path / "out")
    folder.create()
    (folder.path / "charts").mkdir()
    (folder.path / "charts" / ".a.png.123.tmp").write_bytes(b"x")
    (folder.path / "kpis.csv").write_text("a\n1\n")
    folder.complete({"files": ["kpis.csv"]})
    assert folder.is_complete and not list(folder.path.rglob("*.tmp"))


# --- one writer at a time ---------------------------------------------------------------


@pytest.fixture
def held_lock(tmp_path: Path):
    def hold(folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        handle = open(folder / LOCK, "a+")  # noqa: SIM115 - closed by the test's end
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return handle

    return hold


@pytest.mark.parametrize("command", ["run", "compare", "sweep"])
def test_a_second_writer_of_the_same_out_refuses(made, tmp_path, held_lock, command) -> None:
    out = tmp_path / "busy"
    args = {
        "run": ["run", made["scenario"], "-n", "1", "-q"],
        "compare": ["compare", made["scenario"], made["other"], "-n", "1", "-q"],
        "sweep": ["sweep", made["scenario"], *SWEEP],
    }[command]
    with held_lock(out):
        result = cli(*args, "--out", out)
    assert result.exit_code == 2, result.output
    assert "another channelsim command is writing to this folder" in result.stderr


@pytest.mark.parametrize("command, name", [("report", "compare"), ("sensitivity", "sobol")])
def test_report_and_sensitivity_refuse_a_folder_being_written(
    copy, held_lock, command: str, name: str
) -> None:
    out = copy(name)
    with held_lock(out):
        result = cli(command, out)
    assert result.exit_code == 2
    assert "another channelsim command is writing" in result.stderr


def test_a_finished_sweep_resumed_is_complete_again(made, copy) -> None:
    out = copy("sobol")
    sobol = ["--design", "sobol", "--samples", "2", "--param", "reps.capacity=8:12", "-n", "1"]
    assert cli("sweep", made["scenario"], *sobol, "-q", "--out", out, "--resume").exit_code == 0
    assert ResultsDir(out).is_complete and not (out / INCOMPLETE).exists()


def test_a_sweep_error_names_the_folder(made, copy) -> None:
    out = copy("partial")
    (out / "runs" / "notes.txt").write_text("mine")
    with pytest.raises(SweepError, match="notes.txt: not a Parquet part"):
        the_plan = plan(define(made["scenario"], params=PARAMS, replicates=2, seed=3))
        sweep_run.run_sweep(the_plan, out, resume=True)


def test_a_fifo_as_manifest_is_refused_not_waited_on(tmp_path: Path) -> None:
    """Before, `report` on such a folder waited for ever (the manifest was read with a plain
    open); every manifest is now read by results.read_manifest, like every other file."""
    import subprocess
    import sys

    folder = tmp_path / "out"
    folder.mkdir()
    os.mkfifo(folder / "manifest.json")
    code = (
        "import sys; from channelsim.storage import results; "
        "print(results.ResultsDir(results.Path(sys.argv[1])).is_complete); "
        "results.read_manifest(results.Path(sys.argv[1]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(folder)], capture_output=True, text=True, timeout=120
    )
    assert done.stdout.strip() == "False"
    assert "not a regular file (a named pipe (FIFO))" in done.stderr
