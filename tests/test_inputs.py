"""The hardened reader every command uses for the files it reads (storage/inputs.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from channelsim.errors import ChannelsimError, InputError
from channelsim.storage import inputs


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
