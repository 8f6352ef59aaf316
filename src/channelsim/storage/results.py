"""Results folders: atomic file writes, a manifest, and a clear complete/incomplete state.

A folder is created with an `INCOMPLETE` marker; every file is written to a temporary name
and renamed into place; `manifest.json` gets `"status": "complete"` and the marker is removed
only after every file is there. A run that dies leaves a folder that says it is incomplete.
"""

from __future__ import annotations

import fcntl
import json
import os
import platform
import shlex
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from channelsim.errors import ChannelsimError
from channelsim.storage import faults, inputs

if TYPE_CHECKING:
    import pandas as pd  # the tables' methods write them: this module needs no pandas

INCOMPLETE = "INCOMPLETE"
INCOMPLETE_TEXT = (
    "These results are incomplete: the run is still going, was stopped, or failed.\n"
    "Do not use them; the marker is removed only once every file is in place.\n"
)
LOCK = ".lock"
# What holds a folder's answer beside its tables: `--excel`'s workbook, and the report
# (`--report`'s; a calibration always writes it). A folder that is continued or analysed
# again drops them as it is marked unfinished, since they hold the old answer.
ANSWER_FILES = ("results.xlsx", "report.html")
MAX_NAME_BYTES = 80  # of a user-given name in a folder name (UTF-8; file names hold 255)


class ResultsError(ChannelsimError, OSError):
    """An output problem the user can fix (path exists, not writable, disk full)."""


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call `write(tmp)` on a temporary file beside `path`, fsync it, then rename it over `path`.

    `path` either keeps its old content or gets the whole new one; a failure (disk full,
    no permission) leaves no temporary file behind and raises `ResultsError`.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise _cannot_write(path, exc) from exc
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; results are meant to be shared
        write(tmp)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError) and not isinstance(exc, ResultsError):
            raise _cannot_write(path, exc) from exc
        raise
    _fsync_folder(path.parent)


def write_part(path: Path, write: Callable[[Path], None]) -> None:
    """`atomic_write` for a part a long command writes as it goes (a run's replicate, a
    sweep's chunk); the one place where test-only faults (`storage.faults`) strike."""

    def then_fault(tmp: Path) -> None:
        write(tmp)
        faults.at_part("mid-part", path.parent)

    atomic_write(path, then_fault)
    faults.at_part("after-part", path.parent)


def _cannot_write(path: Path, exc: OSError) -> ResultsError:
    error = ResultsError(f"{path}: cannot write ({exc.strerror or exc})")
    error.errno = exc.errno
    return error


def _fsync_folder(folder: Path) -> None:
    """Persist the rename itself, where the platform allows opening a folder."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_json(path: Path, data: Any) -> None:
    write_text(path, json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")


def write_csv(path: Path, frame: pd.DataFrame) -> None:
    atomic_write(path, lambda tmp: frame.to_csv(tmp, index=False))


def write_parquet(path: Path, frame: pd.DataFrame) -> None:
    atomic_write(path, lambda tmp: frame.to_parquet(tmp, index=False, engine="pyarrow"))


def versions() -> dict[str, str]:
    """Versions of everything that can change a result."""
    from importlib.metadata import version

    out = {"python": platform.python_version(), "platform": platform.platform()}
    for package in ("channelsim", "mesa", "numpy", "pandas", "pydantic", "pyarrow"):
        try:
            out[package] = version(package)
        except Exception:  # noqa: BLE001 - a missing optional package is not an error here
            out[package] = "not installed"
    return out


def default_out(kind: str, name: str, root: Path = Path("results")) -> Path:
    """`root/<name>[-<kind>]-<timestamp>`, a new folder directly under `root` whatever `name` is."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    stem = "-".join(part for part in (_safe(name), _safe(kind) if kind else "", stamp) if part)
    candidate, n = root / stem, 1
    while candidate.exists():
        n += 1
        candidate = root / f"{stem}-{n}"
    return candidate


def _safe(name: str) -> str:
    """A file-name-safe version of a user-given name (no separators, no leading dots, short).

    Cut to MAX_NAME_BYTES of UTF-8, never inside a character: a file name holds 255 bytes,
    which is 85 Chinese characters, not 255.
    """
    cleaned = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)
    cleaned = cleaned.lstrip("._-")
    cut = cleaned.encode("utf-8")[:MAX_NAME_BYTES].decode("utf-8", errors="ignore")
    return cut or "run"


def safe_name(name: str) -> str:
    return _safe(name)


class ResultsDir:
    """A results folder that is either visibly incomplete or complete with a manifest."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def check(self, allow_existing: bool = False) -> None:
        """Fail before any work is done if the folder could not be created and written.

        An existing folder must be empty, or hold only the INCOMPLETE marker of a folder
        prepared (`create`d) for this job, unless `allow_existing` (resuming).
        """
        try:
            if self.path.exists():
                if not self.path.is_dir():
                    raise ResultsError(f"{self.path}: exists and is a file; choose another --out")
                prepared = {p.name for p in self.path.iterdir()} <= {INCOMPLETE, LOCK}
                if not prepared and not allow_existing:
                    raise ResultsError(
                        f"{self.path}: output folder exists and is not empty; choose another --out"
                    )
                nearest = self.path
            else:
                nearest = next(p for p in Path(os.path.abspath(self.path)).parents if p.exists())
                if not nearest.is_dir():
                    raise ResultsError(
                        f"{self.path}: cannot write results here ({nearest} is a file)"
                    )
            os.rmdir(tempfile.mkdtemp(prefix=".channelsim-probe-", dir=nearest))
        except ResultsError:
            raise
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise ResultsError(f"{self.path}: cannot write results here ({reason})") from exc

    def create(self, allow_existing: bool = False) -> None:
        """Make the folder (marked INCOMPLETE); refuse a non-empty one unless resuming."""
        self.check(allow_existing)
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            write_text(self.path / INCOMPLETE, INCOMPLETE_TEXT)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise ResultsError(f"{self.path}: cannot write results here ({reason})") from exc

    def file(self, name: str) -> Path:
        """A path inside the folder; names cannot escape it."""
        target = (self.path / name).resolve()
        if self.path.resolve() not in target.parents:
            raise ResultsError(f"{name!r} would be written outside {self.path}")
        return target

    def add_file(self, name: str, data: bytes) -> Path:
        """Add a file to a complete folder: written atomically, then listed in its manifest.

        A kill between the two leaves the file unlisted, never a listed file missing.
        """
        target = self.file(name)
        atomic_write(target, lambda tmp: tmp.write_bytes(data))
        manifest = read_manifest(self.path)
        files = manifest.get("files", [])
        if name not in files:
            write_json(self.path / "manifest.json", {**manifest, "files": [*files, name]})
        return target

    def complete(self, manifest: dict[str, Any]) -> None:
        """Write the manifest, then drop the marker; every file the manifest lists must exist.

        Temporary files that a killed write left behind are removed first, so a folder
        marked complete never holds one.
        """
        listed = [name for name in manifest.get("files", []) if name != "manifest.json"]
        missing = [name for name in listed if not (self.path / name).exists()]
        if missing:
            raise ResultsError(f"{self.path}: {missing} missing; the folder stays INCOMPLETE")
        remove_leftovers(self.path)
        write_json(self.path / "manifest.json", {**manifest, "status": "complete"})
        (self.path / INCOMPLETE).unlink(missing_ok=True)

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold an exclusive lock on the folder so that two commands never write it at once.

        The lock is an `flock` on `.lock` in the folder: the kernel releases it when the
        process ends, however it ends, so a killed command never blocks its own resume.
        """
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            handle = open(self.path / LOCK, "a+")  # noqa: SIM115 - held until the end
        except OSError as exc:
            raise _cannot_write(self.path / LOCK, exc) from exc
        try:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise ResultsError(
                    f"{self.path}: another channelsim command is writing to this folder; "
                    "wait for it to end, or choose another --out"
                ) from None
            yield
        finally:
            handle.close()

    @property
    def is_complete(self) -> bool:
        """A manifest saying complete and no INCOMPLETE marker: the only state to trust."""
        if (self.path / INCOMPLETE).exists():
            return False
        try:
            return read_manifest(self.path).get("status") == "complete"
        except ChannelsimError:  # absent, not a regular file, not JSON, not an object
            return False


MAX_MANIFEST_BYTES = 64 << 20


def read_manifest(folder: Path) -> dict[str, Any]:
    """`folder/manifest.json` as a JSON object, read like every file a command reads (a
    regular file inside the folder, bounded in size: a FIFO there cannot hang a reader);
    `ResultsError` naming the file otherwise."""
    path = folder / "manifest.json"
    data = inputs.read_bytes(path, "manifest", MAX_MANIFEST_BYTES, inside=folder)
    try:
        manifest = json.loads(data.decode("utf-8"))
    except ValueError as exc:  # UnicodeDecodeError included
        raise ResultsError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(manifest, dict):
        kind = {list: "a list", type(None): "null", str: "text"}.get(type(manifest), "a number")
        raise ResultsError(f"{path}: expected a JSON object, found {kind}")
    return manifest


def remove_leftovers(folder: Path) -> list[Path]:
    """Remove the temporary files of writes that were cut short (`.<name>.<random>.tmp`)."""
    removed = []
    for leftover in Path(folder).rglob(".*.tmp"):
        if leftover.is_file() and not leftover.is_symlink():
            leftover.unlink(missing_ok=True)
            removed.append(leftover)
    return removed


def manifest(command: str, **fields: Any) -> dict[str, Any]:
    return {
        "command": command,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "versions": versions(),
        **fields,
    }


def command_line() -> str:
    """The command as typed, quoted so that it can be pasted into a shell again."""
    return shlex.join(["channelsim", *sys.argv[1:]])
