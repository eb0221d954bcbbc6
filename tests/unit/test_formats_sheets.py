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


# --- the worksheet reader against openpyxl's own reading of the same workbook -----------------


def _openpyxl_rows(path: Path) -> list[tuple[int, list[str]]]:
    """The rows as openpyxl reads them, turned into text as edcs turns cells into text."""
    from shared.catalog.models import FieldType
    from shared.formats.xlsx import _cell

    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    rows = []
    for number, cells in enumerate(book.worksheets[0].iter_rows(values_only=True), 1):
        values = [_cell(v, FieldType.DT if isinstance(v, dt.date) else FieldType.CS,
                        "CCYYMMDD") for v in cells]
        while values and values[-1] == "":
            values.pop()
        if values:
            rows.append((number, values))
    book.close()
    return rows


def _edcs_rows(path: Path) -> list[tuple[int, list[str]]]:
    from shared.catalog.models import FieldType
    from shared.formats.xlsx import _Book, _cell

    with zipfile.ZipFile(path) as archive:
        book = _Book(archive)
        with archive.open(book.sheet) as sheet:
            rows = []
            for number, cells in book.rows(sheet):
                values = [_cell(v, FieldType.DT if isinstance(v, dt.date) else FieldType.CS,
                                "CCYYMMDD") for v in cells]
                while values and values[-1] == "":
                    values.pop()
                if values:
                    rows.append((number, values))
    return rows


def test_cells_of_every_kind_read_as_openpyxl_reads_them(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["text", "José Ñúñez", 12345, 1234567890.0, 3.25, -7, True, False])
    sheet.append([dt.datetime(2010, 1, 3), dt.date(1999, 12, 31), None, "  padded  ", 0])
    sheet.append([])  # an empty row
    sheet["B5"] = "after a gap"  # a row with a missing first cell
    sheet["E5"] = 1.5e10
    sheet["A6"] = "=1+1"  # a formula kept as its text (no cached value in a saved workbook)
    custom = sheet["A7"]
    custom.value = dt.datetime(2024, 2, 29)
    custom.number_format = "yyyy/mm/dd"  # a custom date format
    path = tmp_path / "kinds.xlsx"
    book.save(path)
    assert _edcs_rows(path) == _openpyxl_rows(path)


def test_a_sheet_with_an_entity_declaration_is_refused_not_expanded(tmp_path: Path) -> None:
    path = workbook(tmp_path / "senr.xlsx", [senr_row()])
    with zipfile.ZipFile(path) as archive:
        parts = {n: archive.read(n) for n in archive.namelist()}
    bomb = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
            b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>')
    sheet = parts["xl/worksheets/sheet1.xml"]
    body = sheet.split(b"?>", 1)[1] if sheet.startswith(b"<?xml") else sheet
    parts["xl/worksheets/sheet1.xml"] = bomb + body.replace(b"<c ", b"<c><v>&b;</v></c><c ", 1)
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    assert located(check(path, "SENR")) == [(None, None, "xlsx-unreadable")]


def test_a_workbook_without_its_worksheet_is_unreadable(tmp_path: Path) -> None:
    path = workbook(tmp_path / "senr.xlsx", [senr_row()])
    with zipfile.ZipFile(path) as archive:
        parts = {n: archive.read(n) for n in archive.namelist()
                 if not n.startswith("xl/worksheets/")}
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    assert located(check(path, "SENR")) == [(None, None, "xlsx-unreadable")]
