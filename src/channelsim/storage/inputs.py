"""The one hardened reader for every file a command reads: scenario, sweep, optimiser and
explore files, observed KPIs, CRM exports, tables read back from a results folder.

Every input is hostile until checked: only regular files (a FIFO or device would hang or
never end), bounded sizes, UTF-8 text, and YAML read as plain data with PyYAML's safe
loader, refusing tags, duplicate keys, alias bombs, impossible dates and deep nesting.
Every failure is an `InputError` whose message starts with the file and says what was
expected, so a command can print one line and exit 2.
"""

from __future__ import annotations

import io
import os
import re
import stat
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from channelsim.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

MAX_TEXT_BYTES = 4 * 1024**2  # a scenario or sweep file is a few kB
MAX_TABLE_BYTES = 256 * 1024**2  # a CRM export of a million customers is ~100 MB of CSV
MAX_TABLE_ROWS = 5_000_000
MAX_XLSX_UNPACKED = 1024**3  # an .xlsx is a zip: refuse one that unpacks beyond 1 GiB
MAX_YAML_NODES = 100_000  # after expanding aliases: a scenario is a few hundred settings
MAX_YAML_DEPTH = 40
YAML_ERRORS = (yaml.YAMLError, ValueError, OverflowError, RecursionError)
TABLE_ENCODINGS = ("utf-8-sig", "gb18030")  # UTF-8 (with or without BOM), Chinese Excel


def regular_file(path: str | Path, what: str = "file") -> Path:
    """`path` if it is an existing regular file (following links); InputError otherwise."""
    path = Path(path)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise InputError(f"{path}: {what} not found") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read the {what} ({exc.strerror or exc})") from None
    if stat.S_ISDIR(mode):
        raise InputError(f"{path}: is a folder, not a {what}")
    if not stat.S_ISREG(mode):
        raise InputError(f"{path}: not a regular file ({_kind(mode)}); expected a {what}")
    return path


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a file"


def read_bytes(
    path: str | Path, what: str = "file", limit: int = MAX_TEXT_BYTES, inside: Path | None = None
) -> bytes:
    """The file's bytes, refusing non-regular files and files larger than `limit`.

    With `inside=FOLDER` (a file a results folder holds), a symbolic link anywhere below
    FOLDER, or a path that leads out of it, is refused too, and the file is opened without
    following a link, so a link planted in a folder can never make a command read (or
    embed in a report) a file from elsewhere.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)
    if inside is not None:
        _check_inside(Path(path), Path(inside), what)
        flags |= getattr(os, "O_NOFOLLOW", 0)
    path = regular_file(path, what)
    try:
        fd = os.open(path, flags)
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):  # swapped since the check
                raise InputError(f"{path}: not a regular file; expected a {what}")
            data = handle.read(limit + 1)
    except OSError as exc:
        raise InputError(f"{path}: cannot read the {what} ({exc.strerror or exc})") from None
    if len(data) > limit:
        raise InputError(f"{path}: the {what} is larger than {_size(limit)}; is it the right file?")
    return data


def _check_inside(path: Path, folder: Path, what: str) -> None:
    """Every part of `path` below `folder` is a real entry, not a link, and stays inside."""
    base = Path(os.path.abspath(folder))
    try:
        relative = Path(os.path.abspath(path)).relative_to(base)
    except ValueError:
        raise InputError(f"{path}: lies outside {folder}; a {what} must be inside it") from None
    current = base
    for part in relative.parts:
        current = current / part
        if current.is_symlink():
            raise InputError(
                f"{current}: is a symbolic link; a {what} is read only from a real file "
                f"inside {folder}"
            )


def read_text(path: str | Path, what: str = "file", limit: int = MAX_TEXT_BYTES) -> str:
    """The file as UTF-8 text (a byte-order mark is allowed)."""
    data = read_bytes(path, what, limit)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(f"{path}, line {line}: the {what} is not UTF-8 text") from None


# --- YAML -----------------------------------------------------------------------------------


def read_yaml(path: str | Path, what: str = "file", plain: bool = True) -> dict[str, Any]:
    """A YAML file whose top level is a mapping of names, read as plain data.

    `plain` (the default; scenario files, whose schema checks every value, use False):
    JSON's data only, so that whatever is read can be copied, compared and written to a
    manifest: no dates, binary or sets, no NaN or infinity, keys that are text.
    """
    return read_yaml_with_lines(path, what, plain)[0]


def read_yaml_with_lines(
    path: str | Path, what: str = "file", plain: bool = False
) -> tuple[dict[str, Any], dict[str, str]]:
    """`read_yaml`, plus a map from each dotted key to 'file, line N' for error messages."""
    return parse_yaml(read_text(path, what), str(path), what, plain)


def parse_yaml(
    text: str, source: str, what: str = "file", plain: bool = False
) -> tuple[dict[str, Any], dict[str, str]]:
    """Parse YAML text safely; `source` names it in messages."""
    loader = None
    try:
        loader = yaml.SafeLoader(text)
        node = loader.get_single_node()
        lines: dict[str, str] = {}
        if node is not None:
            _record_lines(node, (), source, lines, [0], loader)
            if plain:
                _check_plain(node, (), f"{source}, line {{line}}")
        data = loader.construct_document(node) if node is not None else None
    except InputError:
        raise
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        raise InputError(
            f"{source}, line {line}: the control character U+{code:04X} is not allowed in YAML"
        ) from None
    except YAML_ERRORS as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark is not None else ""
        raise InputError(f"{source}{where}: {yaml_problem(exc)}") from None
    finally:
        if loader is not None:
            loader.dispose()
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InputError(
            f"{source}: expected a mapping of settings at the top (key: value lines) of the "
            f"{what}, found {describe(data)}"
        )
    bad = [key for key in data if not isinstance(key, str)]
    if bad:
        raise InputError(f"{source}: top-level keys must be names (text), found {bad[0]!r}")
    return data, lines


def yaml_value(text: str, where: str) -> Any:
    """One value given on the command line (`--set`, `--param`), read as YAML, as strictly
    as a file: plain data only, and an alias bomb refused before it is built."""
    loader = None
    try:
        loader = yaml.SafeLoader(text)
        node = loader.get_single_node()
        if node is None:
            return None
        _check_plain(node, (), None)
        if _expanded_nodes(node) > MAX_YAML_NODES:
            raise InputError(f"{where}: the value is too large once aliases are expanded")
        return loader.construct_document(node)
    except InputError as exc:
        raise InputError(f"{where}: {str(exc).removeprefix(': ')}") from None
    except YAML_ERRORS as exc:
        raise InputError(
            f"{where}: value {text!r} is not valid YAML ({yaml_problem(exc)}); "
            "quote text, e.g. name='my run'"
        ) from None
    finally:
        if loader is not None:
            loader.dispose()


PLAIN_TAGS = {
    "tag:yaml.org,2002:" + name for name in ("str", "int", "float", "bool", "null", "seq", "map")
}


def _check_plain(node: yaml.Node, path: tuple[str, ...], where: str | None) -> None:
    """JSON's data only: refuse dates, binary, sets, other tags, NaN, infinity, keys that
    are not text. `where` is 'file, line {line}', or None for a command-line value."""
    at = (where.format(line=node.start_mark.line + 1) if where else "") + (
        f": {'.'.join(path)}" if path else ""
    )
    plain = "plain data (text, numbers, true/false, lists, mappings)"
    if node.tag not in PLAIN_TAGS:
        tag = node.tag.replace("tag:yaml.org,2002:", "!!")
        if tag == "!!timestamp":
            raise InputError(f"{at}: {node.value!r} reads as a date or time; quote it if text")
        raise InputError(f"{at}: the tag {tag!r} is not allowed; expected {plain}")
    if isinstance(node, yaml.ScalarNode) and node.tag.endswith(":float"):
        value = yaml.SafeLoader("").construct_yaml_float(node)
        if value != value or value in (float("inf"), float("-inf")):
            raise InputError(f"{at}: {node.value!r} is not a finite number")
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _check_plain(item, (*path, str(i)), where)
    elif isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                _check_plain(value_node, path, where)
                continue
            if not key_node.tag.endswith(":str"):
                raise InputError(
                    f"{at}: keys must be text, found {getattr(key_node, 'value', '?')!r}; quote it"
                )
            _check_plain(value_node, (*path, str(key_node.value)), where)


def _expanded_nodes(node: yaml.Node) -> int:
    """Nodes with aliases counted each time they are used (stops past the limit)."""
    count, stack = 0, [node]
    while stack and count <= MAX_YAML_NODES:
        item = stack.pop()
        count += 1
        if isinstance(item, yaml.SequenceNode):
            stack.extend(item.value)
        elif isinstance(item, yaml.MappingNode):
            stack.extend(v for pair in item.value for v in pair)
    return count


# What PyYAML's problems usually mean in a hand-written file, in plain words.
INDENTATION = (
    "the indentation does not match: keys of one mapping (and items of one list) must "
    "start in the same column, and a nested setting is indented further than its parent"
)
YAML_PLAIN_WORDS = (
    ("expected <block end>", INDENTATION),
    ("did not find expected key", INDENTATION),
    ("did not find expected '-' indicator", INDENTATION),
    (
        "mapping values are not allowed here",
        "a 'key:' where none can be: this line is probably indented further than the line "
        "above it (a value cannot hold settings of its own), or a text value holds ': ' "
        "and needs quotes",
    ),
    ("found character '\\t'", "a tab character: YAML is indented with spaces, never tabs"),
    ("could not find expected ':'", "a line without ':' after its key, or a quote not closed"),
    ("found unexpected end of stream", "the file ends inside a quote or a bracket"),
)


def yaml_problem(exc: BaseException) -> str:
    """What is wrong with a YAML text, in plain words."""
    if isinstance(exc, RecursionError):
        return "the document is nested too deeply"
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    if "could not determine a constructor for the tag" in problem:
        quoted = re.search(r"'([^']*)'", problem)
        tag = (quoted.group(1) if quoted else "?").replace("tag:yaml.org,2002:", "!!")
        return (
            f"the tag {tag!r} is not allowed: these files hold plain data "
            "(numbers, text, lists, mappings) and cannot create Python objects"
        )
    if isinstance(exc, yaml.YAMLError):
        plain = next((words for key, words in YAML_PLAIN_WORDS if key in problem), None)
        return f"{plain} (YAML: {problem})" if plain else f"malformed YAML: {problem}"
    return f"invalid value: {problem}"


def describe(value: Any) -> str:
    """A short, user-facing description of a found value (YAML words, not Python's)."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _record_lines(
    node: yaml.Node,
    path: tuple[str, ...],
    source: str,
    out: dict[str, str],
    count: list[int],
    loader: yaml.SafeLoader,
) -> None:
    """Map each dotted key to its line; refuse duplicate keys, alias bombs, impossible dates."""
    count[0] += 1
    if count[0] > MAX_YAML_NODES:
        raise InputError(
            f"{source}: the document is too large (over {MAX_YAML_NODES:,} values once "
            "aliases are expanded); these files need a few hundred settings"
        )
    if len(path) > MAX_YAML_DEPTH:
        raise InputError(
            f"{source}, line {node.start_mark.line + 1}: {'.'.join(path[:5])}...: "
            f"nested more than {MAX_YAML_DEPTH} levels deep"
        )
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            if isinstance(key_node, yaml.ScalarNode) and key != "<<":
                dotted = ".".join((*path, key))
                if key in seen:
                    raise InputError(
                        f"{source}, line {line}: {dotted}: key appears twice "
                        f"(lines {seen[key]} and {line}); keep one"
                    )
                seen[key] = line
                out[dotted] = f"{source}, line {line}"
                _record_lines(value_node, (*path, key), source, out, count, loader)
            else:
                _record_lines(value_node, path, source, out, count, loader)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            out[".".join((*path, str(i)))] = f"{source}, line {item.start_mark.line + 1}"
            _record_lines(item, (*path, str(i)), source, out, count, loader)
    elif node.tag == "tag:yaml.org,2002:timestamp":
        try:
            loader.construct_yaml_timestamp(node)
        except ValueError as exc:
            raise InputError(
                f"{source}, line {node.start_mark.line + 1}: {'.'.join(path)}: "
                f"{node.value!r} reads as an impossible date ({exc}); quote it if it is text"
            ) from None


# --- tables (CSV, Excel) ----------------------------------------------------------------------


def read_table(
    path: str | Path,
    what: str = "table",
    limit: int = MAX_TABLE_BYTES,
    max_rows: int = MAX_TABLE_ROWS,
) -> pd.DataFrame:
    """A CSV or .xlsx table as text cells (the caller checks types, naming row and column).

    Every cell is read as a string, empty cells as ''. In a spreadsheet, formulas are data:
    a formula cell reads as its text ('=SUM(A1:A3)'), never evaluated, and fails the type
    check of a numeric column. Row numbers in messages count the header as row 1, as a
    spreadsheet shows them.
    """

    path = regular_file(path, what)
    suffix = path.suffix.lower()
    data = read_bytes(path, what, limit)
    if suffix == ".xlsx":
        frame = _xlsx(data, path, what, max_rows)
    elif suffix in (".csv", ".txt", ""):
        frame = _csv(data, path, what, max_rows)
    else:
        raise InputError(f"{path}: the {what} must be a .csv or .xlsx file, found {suffix!r}")
    frame.columns = [str(c).strip() for c in frame.columns]
    duplicated = sorted({c for c in frame.columns if list(frame.columns).count(c) > 1})
    if duplicated:
        raise InputError(f"{path}: column {duplicated[0]!r} appears twice in the header")
    return frame.reset_index(drop=True)


def _csv(data: bytes, path: Path, what: str, max_rows: int) -> pd.DataFrame:
    import pandas as pd

    utf16 = ("utf-16",) if data.startswith((b"\xff\xfe", b"\xfe\xff")) else ()
    for encoding in (*utf16, *TABLE_ENCODINGS):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise InputError(f"{path}: the {what} is neither UTF-8 nor GB18030 text")
    if "\x00" in text:
        raise InputError(f"{path}: the {what} holds NUL bytes; is it a text (CSV) file?")
    try:
        rows = pd.read_csv(
            io.StringIO(text),
            header=None,
            dtype=str,
            keep_default_na=False,
            nrows=max_rows + 2,
            skipinitialspace=True,
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise InputError(
            f"{path}: not a readable CSV {what} ({str(exc).splitlines()[0]})"
        ) from None
    names = [str(name).strip() for name in rows.iloc[0]]  # as written, not renamed by pandas
    blank = [i + 1 for i, name in enumerate(names) if not name]
    if blank:
        raise InputError(f"{path}: column {blank[0]} of the {what}'s header has no name")
    frame = rows.iloc[1:].set_axis(names, axis=1)
    if len(frame) > max_rows:
        raise InputError(f"{path}: the {what} has more than {max_rows:,} rows")
    return frame


def _xlsx(data: bytes, path: Path, what: str, max_rows: int) -> pd.DataFrame:
    import pandas as pd

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise InputError(f"{path}: not an .xlsx workbook (it is not a zip archive)") from None
    if unpacked > MAX_XLSX_UNPACKED:
        raise InputError(
            f"{path}: the workbook unpacks to {_size(unpacked)}, over {_size(MAX_XLSX_UNPACKED)}"
        )
    try:
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except ImportError:
        raise InputError(f"{path}: reading .xlsx needs openpyxl (pip install openpyxl)") from None
    except Exception as exc:  # openpyxl raises many types for a malformed workbook
        raise InputError(f"{path}: not a readable .xlsx workbook ({exc})") from None
    try:
        rows = book.worksheets[0].iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            raise InputError(f"{path}: the first sheet of the {what} is empty")
        body = []
        for row in rows:
            if len(body) >= max_rows:
                raise InputError(f"{path}: the {what} has more than {max_rows:,} rows")
            body.append(["" if cell is None else str(cell) for cell in row])
    finally:
        book.close()
    names = ["" if cell is None else str(cell) for cell in header]
    width = len(names)
    body = [(row + [""] * width)[:width] for row in body]
    return pd.DataFrame(body, columns=names, dtype=str)


def _size(n: int) -> str:
    return f"{n / 1024**2:,.0f} MiB" if n >= 1024**2 else f"{n:,} bytes"
