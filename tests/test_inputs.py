"""The hardened reader every command uses for the files it reads (storage/inputs.py):
sweep files and data tables get what scenario files get (regular files only, bounded sizes,
plain data), `--param` values are read as strictly as `--set` values, and a `--set`
mapping merges like `extends:`."""

from __future__ import annotations

import io
import json
import os
import threading
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from conftest import SMALL
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channelsim.cli import main
from channelsim.errors import ChannelsimError, InputError, ScenarioError
from channelsim.experiments import sweep
from channelsim.scenario.loading import load_scenario
from channelsim.storage import inputs
from channelsim.storage.inputs import read_table, read_text, read_yaml

EXAMPLES = int(os.environ.get("CHANNELSIM_FUZZ_EXAMPLES", "150"))
FAST = {**SMALL, "weeks": 8}


@pytest.fixture
def small_file(tmp_path: Path) -> Path:
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(FAST, sort_keys=False))
    return path


def sweep_file(tmp_path: Path, text: str) -> Path:
    (tmp_path / "small.yaml").write_text(yaml.safe_dump(FAST, sort_keys=False))
    path = tmp_path / "sweep.yaml"
    path.write_text(text)
    return path


def cli(*args: str):
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output
    return result


def test_a_fifo_is_refused_at_once_instead_of_hanging(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="not a regular file"):
        inputs.read_yaml(fifo, "sweep file")


def test_a_folder_and_a_missing_file_are_named_as_such(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is a folder, not a sweep file"):
        inputs.read_yaml(tmp_path, "sweep file")
    with pytest.raises(InputError, match="observed KPIs not found"):
        inputs.read_yaml(tmp_path / "nope.yaml", "observed KPIs")


def test_files_over_the_size_limit_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text("a: " + "x" * 2000)
    with pytest.raises(InputError, match="larger than 1,000 bytes"):
        inputs.read_text(path, "sweep file", limit=1000)
    assert inputs.read_text(path, "sweep file", limit=4000).startswith("a: x")


def test_yaml_refuses_duplicate_keys_tags_and_alias_bombs(tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_text("a: 1\nb: 2\na: 3\n")
    with pytest.raises(InputError, match=r"line 3: a: key appears twice \(lines 1 and 3\)"):
        inputs.read_yaml(path)
    path.write_text("a: !!python/object:os.system {}\n")
    with pytest.raises(InputError, match="tag .* is not allowed"):
        inputs.read_yaml(path)
    bomb = ["a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    bomb += [f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]"
             for p, c in zip("abcdef", "bcdefg", strict=True)]  # fmt: skip
    path.write_text("\n".join(bomb) + "\n")
    with pytest.raises(InputError, match="too large"):
        inputs.read_yaml(path)


def test_yaml_whose_top_is_not_a_mapping_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_text("- 1\n- 2\n")
    with pytest.raises(InputError, match="expected a mapping of settings at the top"):
        inputs.read_yaml(path, "optimiser file")


def test_every_input_error_is_a_user_error_the_cli_prints_as_one_line(tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_text("a: 1\na: 2\n")
    with pytest.raises(ChannelsimError) as caught:
        inputs.read_yaml(path)
    assert "\n" not in str(caught.value)


def test_csv_cells_are_text_and_chinese_exports_decode(tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    path.write_bytes("region,volume\n北京,12\n上海,\n".encode("gb18030"))
    table = inputs.read_table(path, "customer table")
    assert list(table.columns) == ["region", "volume"]
    assert table["region"].tolist() == ["北京", "上海"]
    assert table["volume"].tolist() == ["12", ""]


def test_csv_row_limit(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("a\n" + "1\n" * 11)
    with pytest.raises(InputError, match="more than 10 rows"):
        inputs.read_table(path, max_rows=10)


def test_a_spreadsheet_formula_is_read_as_text_never_evaluated(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["customer", "volume"])
    sheet.append(["c1", 5])
    sheet.append(["c2", "=SUM(B2:B2)*1000"])
    path = tmp_path / "customers.xlsx"
    book.save(path)
    table = inputs.read_table(path, "customer table")
    assert table["volume"].tolist() == ["5", "=SUM(B2:B2)*1000"]


def test_a_file_that_is_not_a_workbook_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "fake.xlsx"
    path.write_text("not a zip")
    with pytest.raises(InputError, match="not an .xlsx workbook"):
        inputs.read_table(path)


def test_other_table_formats_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text("{}")
    with pytest.raises(InputError, match=r"must be a \.csv or \.xlsx file"):
        inputs.read_table(path)


# --- files that are not files -------------------------------------------------------------


def test_a_fifo_never_hangs_a_command(tmp_path: Path) -> None:
    fifo = tmp_path / "sweep.yaml"
    os.mkfifo(fifo)
    finished = threading.Event()
    outcome: list = []

    def attempt() -> None:
        outcome.append(cli("sweep", str(fifo), "--param", "reps.capacity=8,12"))
        finished.set()

    threading.Thread(target=attempt, daemon=True).start()
    if not finished.wait(timeout=60):  # a hang would block forever; free the thread
        with open(fifo, "w"):
            pass
        pytest.fail("reading a FIFO blocked")
    result = outcome[0]
    assert result.exit_code == 2
    assert "not a regular file (a named pipe (FIFO))" in result.stderr


@pytest.mark.parametrize("command", ["run", "validate"])
def test_a_fifo_as_a_scenario_is_refused(tmp_path: Path, command: str) -> None:
    fifo = tmp_path / "scenario.yaml"
    os.mkfifo(fifo)
    result = cli(command, str(fifo))
    assert result.exit_code == 2 and "named pipe" in result.stderr


def test_devices_and_folders_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"not a regular file \(a device\)"):
        read_text("/dev/zero", "sweep file")
    with pytest.raises(InputError, match="is a folder"):
        read_text(tmp_path, "sweep file")


def test_size_limits_hold_before_reading(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_bytes(b"a: 1\n" * 2_000_000)
    with pytest.raises(InputError, match=r"the sweep file is larger than 4 MiB"):
        read_yaml(big, "sweep file")


def test_text_may_start_with_a_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes("\ufeffname: 上海\n".encode())
    assert read_yaml(path, "file") == {"name": "上海"}


def test_files_inside_a_folder_refuse_links_out(tmp_path: Path) -> None:
    (tmp_path / "folder").mkdir()
    (tmp_path / "secret").write_text("x")
    (tmp_path / "folder" / "link").symlink_to(tmp_path / "secret")
    with pytest.raises(InputError, match="is a symbolic link"):
        inputs.read_bytes(tmp_path / "folder" / "link", "chart", inside=tmp_path / "folder")
    with pytest.raises(InputError, match="lies outside"):
        inputs.read_bytes(tmp_path / "secret", "chart", inside=tmp_path / "folder")


# --- YAML holds plain data -----------------------------------------------------------------


@pytest.mark.parametrize(
    "text, message",
    [
        ("params: {a: 1}\nparams: {b: 2}\n", r"line 2: params: key appears twice \(lines 1 and 2"),
        ("day: 2024-01-01\n", r"day: '2024-01-01' reads as a date or time"),
        ("x: !!binary aGVsbG8=\n", r"the tag '!!binary' is not allowed"),
        ("x: !!set {a, b}\n", r"the tag '!!set'"),
        ("x: !!python/object/apply:os.system [ls]\n", r"the tag '!!python/object/apply:os"),
        ("x: .nan\n", r"'.nan' is not a finite number"),
        ("x: -.inf\n", r"'-.inf' is not a finite number"),
        ("1: a\n", r"keys must be text, found '1'"),
        ("x: " + "[" * 60 + "]" * 60 + "\n", r"nested more than 40 levels deep"),
        ("x: \x07\n", r"the control character U\+0007"),
        ("x: [1\n", r"malformed YAML"),
    ],
    ids=["duplicate key", "date", "binary", "set", "python tag", "nan", "inf", "number key",
         "deep", "control character", "malformed"],
)  # fmt: skip
def test_yaml_holds_plain_data_only(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "f.yaml"
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        read_yaml(path, "file")


def alias_bomb(levels: int = 6) -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]")
    return "\n".join(lines)


def test_an_alias_bomb_in_a_sweep_set_is_refused_before_anything_expands_it(
    tmp_path: Path,
) -> None:
    bomb = alias_bomb().replace("\n", "\n  ")
    path = sweep_file(
        tmp_path,
        f"scenario: small.yaml\nparams: {{reps.capacity: [8, 12]}}\nset:\n  {bomb}\n",
    )
    result = cli("sweep", str(path))
    assert result.exit_code == 2
    assert "100,000 values once aliases are expanded" in result.stderr


@pytest.mark.parametrize(
    "text, message",
    [
        ("scenario: small.yaml\nparams: {reps.capacity: [8, 12]}\nparams: {}\n", "appears twice"),
        ("scenario: small.yaml\nparams: {weeks: [2024-01-01]}\n", "reads as a date"),
        ("scenario: small.yaml\nparams: {reps.capacity: [.nan, 2]}\n", "not a finite number"),
        ("scenario: small.yaml\nparams: {reps.capacity: [8, 12]}\nset: {name: 2024-01-01}\n",
         "reads as a date"),
        ("- a\n- b\n", "expected a mapping of settings at the top"),
    ],
    ids=["duplicate", "date in params", "nan in params", "date in set", "a list"],
)  # fmt: skip
def test_bad_sweep_files_exit_2_with_one_line(tmp_path: Path, text: str, message: str) -> None:
    result = cli("sweep", str(sweep_file(tmp_path, text)))
    assert result.exit_code == 2
    assert message in result.stderr and result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    "spec, message",
    [
        ("2024-01-01,2024-02-01", "reads as a date"),
        ("!!binary aGVsbG8=,x", "the tag '!!binary'"),
        (".nan,1", "not a finite number"),
        ("*a,1", "is not valid YAML"),
        ("[1],2", "is not a number or a word"),
        ("inf:2:3", "is not a finite number"),
    ],
)
def test_param_values_are_read_as_strictly_as_set_values(
    small_file: Path, spec: str, message: str
) -> None:
    result = cli("sweep", str(small_file), "--param", f"reps.capacity={spec}")
    assert result.exit_code == 2, result.output
    assert message in result.stderr


def test_a_set_mapping_merges_like_extends(small_file: Path) -> None:
    base = load_scenario(small_file)
    merged = load_scenario(small_file, ["reps={headcount: 3}"])
    assert merged.reps.headcount == 3
    assert merged.reps.capacity == base.reps.capacity == 12
    assert merged.reps.commission == base.reps.commission
    nested = load_scenario(small_file, ["reps.commission={rate: 0.07}"])
    assert nested.reps.commission.rate == 0.07
    assert nested.reps.commission.quota_bonus == base.reps.commission.quota_bonus == 500


def test_a_set_list_replaces_like_extends(small_file: Path) -> None:
    one = load_scenario(small_file, ["market.regions=[{name: North}]", "strategy=direct"])
    assert [r.name for r in one.market.regions] == ["North"]


def test_a_set_mapping_with_an_unknown_key_is_still_refused(small_file: Path) -> None:
    with pytest.raises(ScenarioError, match=r"reps\.headcont: unknown key"):
        load_scenario(small_file, ["reps={headcont: 3}"])


# --- tables: CSV and Excel ------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "gb18030"])
def test_csv_in_the_encodings_crm_exports_use(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "kpis.csv"
    path.write_bytes("region,revenue\n上海,1200.5\n北京,900\n".encode(encoding))
    table = read_table(path, "observed KPIs")
    assert list(table.columns) == ["region", "revenue"]
    assert list(table["region"]) == ["上海", "北京"]
    assert list(table["revenue"]) == ["1200.5", "900"]  # text cells; the caller checks types


def test_csv_formulas_are_text(tmp_path: Path) -> None:
    path = tmp_path / "crm.csv"
    path.write_text('name,value\n=cmd|"/c calc"!A1,=1+1\nok,3\n')
    table = read_table(path, "CRM export")
    assert table["name"].iloc[0].startswith("=cmd")
    assert list(table["value"]) == ["=1+1", "3"]


def test_workbook_formulas_are_their_text_never_evaluated(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["region", "revenue", "check"])
    sheet.append(["上海", 100, "=B2*2"])
    sheet.append(["北京", 50.5, '=HYPERLINK("http://x","y")'])
    path = tmp_path / "crm.xlsx"
    book.save(path)
    table = read_table(path, "CRM export")
    assert list(table["revenue"]) == ["100", "50.5"]
    assert list(table["check"]) == ["=B2*2", '=HYPERLINK("http://x","y")']


def test_a_workbook_that_would_expand_too_far_is_refused_unopened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import zipfile

    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (3 << 20))
    monkeypatch.setattr(inputs, "MAX_XLSX_UNPACKED", 1 << 20)
    with pytest.raises(InputError, match="the workbook unpacks to 3 MiB"):
        read_table(path, "CRM export")


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("t.xls", b"\xd0\xcf\x11\xe0", r"must be a \.csv or \.xlsx file, found '\.xls'"),
        ("t.xlsx", b"not a zip", "not a zip archive"),
        ("t.csv", b"", "not a readable CSV"),
        ("t.csv", b"a,,b\n1,2,3\n", "column 2 of the observed KPIs's header has no name"),
        ("t.csv", b"a,a\n1,2\n", "column 'a' appears twice"),
        ("t.csv", b"a,b\n1,2\n1,2,3\n", "not a readable CSV"),
        ("t.csv", b"a\x00b\n", "NUL bytes"),
        ("t.csv", b"a,b\n\xff\xfe\xfa\n", "neither UTF-8 nor GB18030"),
    ],
)
def test_bad_tables_are_one_clear_error(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        read_table(path, "observed KPIs")


def test_table_row_limit(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("a\n" + "1\n" * 101)
    with pytest.raises(InputError, match="has more than 100 rows"):
        read_table(path, "observed KPIs", max_rows=100)


# --- fuzzing ---------------------------------------------------------------------------------

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _containers(children):
    return st.lists(children, max_size=4) | st.dictionaries(
        st.text(max_size=6), children, max_size=4
    )


plain = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False)
    | st.text(max_size=8),
    _containers,
    max_leaves=20,
)  # fmt: skip

SWEEP_KEYS = ["scenario", "params", "design", "samples", "replicates", "seed", "common_seeds",
              "set", "extra"]  # fmt: skip


@st.composite
def sweep_documents(draw) -> str:
    doc: dict = {"scenario": "small.yaml", "params": {"reps.capacity": [8, 12]}, "replicates": 1}
    for key in draw(st.lists(st.sampled_from(SWEEP_KEYS), max_size=4)):
        doc[key] = draw(plain)
    text = yaml.safe_dump(doc, allow_unicode=True)
    edits = draw(st.lists(st.tuples(st.integers(0, len(text)), st.text(max_size=3)), max_size=3))
    for at, insert in edits:
        text = text[:at] + insert + text[at:]
    return text


@FUZZ
@given(text=sweep_documents())
def test_fuzz_sweep_files_are_a_definition_or_one_clean_error(tmp_path: Path, text: str) -> None:
    path = sweep_file(tmp_path, text)
    try:
        definition = sweep.define(path)
        sweep.count_runs(definition)
    except (ScenarioError, InputError) as exc:
        assert "\n" not in str(exc) and str(exc)


@FUZZ
@given(text=st.text(max_size=300))
def test_fuzz_read_yaml_gives_plain_data_or_one_clean_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "any.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        data = read_yaml(path, "file")
    except InputError as exc:
        assert "\n" not in str(exc)
        return
    json.dumps(data, allow_nan=False)  # plain JSON data, always


@FUZZ
@given(data=st.binary(max_size=400), suffix=st.sampled_from([".csv", ".xlsx", ".txt"]))
def test_fuzz_read_table_gives_a_table_or_one_clean_error(
    tmp_path: Path, data: bytes, suffix: str
) -> None:
    path = tmp_path / f"t{suffix}"
    path.write_bytes(data)
    try:
        table = read_table(path, "observed KPIs")
    except InputError as exc:
        assert "\n" not in str(exc)
        return
    assert len(table.columns) >= 1


@FUZZ
@given(rows=st.lists(st.lists(st.text(max_size=6), min_size=1, max_size=4), min_size=1, max_size=6))
def test_fuzz_csv_cells_come_back_as_written(tmp_path: Path, rows: list[list[str]]) -> None:
    import csv

    buffer = io.StringIO()
    csv.writer(buffer).writerows([["a", "b", "c", "d"], *[(r + [""] * 4)[:4] for r in rows]])
    path = tmp_path / "t.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    try:
        table = read_table(path, "observed KPIs")
    except InputError as exc:
        assert "\n" not in str(exc)
        return
    assert list(table.columns) == ["a", "b", "c", "d"]


@pytest.mark.parametrize(
    "observed, message",
    [
        (
            "targets:\n  revenue: {value: 1, se: 1}\n  revenue: {value: 2, se: 1}\n",
            "key appears twice",
        ),
        ("fifo", "not a regular file (a named pipe (FIFO))"),
    ],
    ids=["duplicate key", "fifo"],
)
def test_calibrate_reads_its_observed_file_before_drawing_anything(
    small_file: Path, tmp_path: Path, observed: str, message: str
) -> None:
    """Before, the progress bar was drawn first: the error came third of three lines."""
    path = tmp_path / "observed.yaml"
    if observed == "fifo":
        os.mkfifo(path)
    else:
        path.write_text(observed)
    args = ["calibrate", str(small_file), "--observed", str(path), "--param", "reps.capacity=8:12"]
    result = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    (line,) = result.stderr.splitlines()
    assert message in line and not (tmp_path / "out").exists()
