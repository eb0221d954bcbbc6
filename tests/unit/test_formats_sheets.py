"""Excel .xlsx (CALPADS), Oregon Type A headers and the ODE-SSID fixed-width .txt/.smf."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import openpyxl
import pytest

from shared.catalog.loader import default_catalog
from tests.unit.formats_support import ODE_HEADER, check, located, ode_row
from tests.unit.senr_rows import senr_row

SENR = default_catalog().layouts["SENR"]
ODE = default_catalog().layouts["ODE-SSID"]


def workbook(path: Path, rows: list[list[object]]) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def test_xlsx_with_a_row_of_column_names_is_read_by_sheet_row(tmp_path: Path) -> None:
    bad = senr_row(local_record_id="2", ssid="1234567899")
    path = workbook(tmp_path / "senr.xlsx", [[f.title for f in SENR.fields], senr_row(), bad])
    report = check(path, "SENR")
    assert report.records == 2
    assert located(report) == [(3, "SSID", "ssid-check-digit")]


def test_xlsx_cells_typed_by_the_spreadsheet_read_as_typed(tmp_path: Path) -> None:
    row: list[object] = [*senr_row()]
    index = {f.name: i for i, f in enumerate(SENR.fields)}
    row[index["student_birth_date"]] = dt.datetime(2010, 1, 3)  # a date cell
    row[index["local_student_id"]] = 100001  # a number cell
    row[index["ssid"]] = 1234567890.0
    path = workbook(tmp_path / "senr.xlsx", [row])
    assert located(check(path, "SENR")) == []


def test_macro_workbooks_and_other_extensions_are_refused(tmp_path: Path) -> None:
    path = workbook(tmp_path / "senr.xlsx", [senr_row()])
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0")
    assert located(check(path, "SENR")) == [(None, None, "macro-workbook")]
    xlsm = workbook(tmp_path / "senr.xlsm", [senr_row()])
    assert located(check(xlsm, "SENR")) == [(None, None, "unsupported-format")]
    csv_as_xls = tmp_path / "senr.xls"  # CSV text saved under a spreadsheet's name
    csv_as_xls.write_text(",".join(senr_row()) + "\r\n")
    assert located(check(csv_as_xls, "SENR")) == [(None, None, "unsupported-extension")]
    old = tmp_path / "senr.csv"
    old.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512))
    assert located(check(old, "SENR")) == [(None, None, "unsupported-format")]


def test_xlsx_where_the_seed_allows_none_is_refused(tmp_path: Path) -> None:
    path = workbook(tmp_path / "ssid.xlsx", [ode_row()])
    assert located(check(path, "ODE-SSID")) == [(None, None, "unsupported-format")]


def csv_text(*rows: list[str]) -> str:
    return ODE_HEADER + "\r\n" + "".join(",".join(r) + "\r\n" for r in rows)


def test_type_a_header_names_collection_and_institution(tmp_path: Path) -> None:
    path = tmp_path / "ssid.csv"
    path.write_text("CollectionName=ODE-SSID\r\nInstID=2180\r\n~~\r\n" + csv_text(ode_row()))
    report = check(path, "ODE-SSID", institution_id="2180")
    assert (report.records, located(report)) == (1, [])
    bad = ode_row(gender="Q")
    path.write_text("CollectionName=ODE-SSID\r\nInstID=2180\r\n~~\r\n" + csv_text(bad))
    assert located(check(path, "ODE-SSID")) == [(5, "gender", "invalid-code")]  # physical row


@pytest.mark.parametrize(("header", "code"), [
    ("CollectionName=ODE-SSID\r\nInstID=2181\r\n~~\r\n", "type-a-institution"),
    ("CollectionName=SpringMembership07-08\r\nInstID=2180\r\n~~\r\n", "type-a-collection"),
    ("CollectionName=ODE-SSID\r\nInstID=2180\r\n", "type-a-header"),
    ("InstID=2180\r\n~~\r\n", "type-a-header"),
])
def test_type_a_header_problems_refuse_the_file(tmp_path: Path, header: str, code: str) -> None:
    path = tmp_path / "ssid.csv"
    path.write_text(header + csv_text(ode_row()))
    report = check(path, "ODE-SSID", institution_id="2180")
    assert [c for _, _, c in located(report)] == [code]
    if code == "type-a-institution":
        assert "You do not have rights to submit this Institution ID" in report.issues[0].message


def test_a_type_a_header_where_the_collection_takes_none(tmp_path: Path) -> None:
    path = tmp_path / "senr.csv"
    path.write_text("CollectionName=SENR\r\nInstID=1964733\r\n~~\r\n" + ",".join(senr_row()))
    assert [c for _, _, c in located(check(path, "SENR"))] == ["type-a-header"]


def fixed(row: list[str]) -> str:
    return "".join(v.ljust(f.max_length) for v, f in zip(row, ODE.fields, strict=True))


@pytest.mark.parametrize("ext", ["txt", "smf"])
def test_ode_ssid_fixed_width_reads_like_its_csv(tmp_path: Path, ext: str) -> None:
    rows = [ode_row(), ode_row(legal_first="Ana", district_student_id="S101", gender="Q")]
    path = tmp_path / f"ssid.{ext}"
    path.write_text("".join(fixed(r) + "\r\n" for r in rows))
    report = check(path, "ODE-SSID")
    plain = tmp_path / "ssid.csv"
    plain.write_text(csv_text(*rows))
    expected = check(plain, "ODE-SSID")
    assert report.records == 2 == expected.records
    assert located(report) == [(2, "gender", "invalid-code")]  # no header row: row 2 is data
    assert located(expected) == [(3, "gender", "invalid-code")]
    assert sum(f.max_length for f in ODE.fields) == ODE.framing.fixed_width == 280


def test_type_a_header_before_a_fixed_width_file(tmp_path: Path) -> None:
    path = tmp_path / "ssid.smf"
    path.write_text("CollectionName=ODE-SSID\nInstID=2180\n~~\n" + fixed(ode_row()) + "\n")
    report = check(path, "ODE-SSID", institution_id="2180")
    assert (report.records, located(report)) == (1, [])
