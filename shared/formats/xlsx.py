"""Excel ``.xlsx`` uploads (CALPADS CFS §1.2: "Excel Spreadsheet format (.xlsx) ... may contain
one row of column names"), read with openpyxl in read-only mode, row by row.

The first worksheet is the data; row numbers are the sheet's own. A first row that names the
columns (the fields' titles or names, in order) is skipped. Macro-enabled workbooks are refused
(``macro-workbook``), and so is a workbook whose parts unpack to more than the bound (the same
zip-bomb bound as a ``.zip``). Cells are read as their values: whole numbers without ``.0``,
dates in the field's date form, so a cell a spreadsheet turned into a number or a date reads as
the district typed it; a lost leading zero is the field's format error, as in a CSV file.
"""

from __future__ import annotations

import datetime as dt
import re
import warnings
import zipfile
from collections.abc import Iterator
from typing import Any, BinaryIO

from shared.catalog.models import FieldType, Layout, Severity
from shared.formats.archive import issue, too_large, unreadable
from shared.issues import Issue
from shared.reader import RawRecord

_WORD = re.compile(r"[^0-9a-z]")


def is_workbook(stream: BinaryIO) -> bool:
    """Whether a zip archive is an Office Open XML workbook."""
    stream.seek(0)
    try:
        with zipfile.ZipFile(stream) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return False
    finally:
        stream.seek(0)
    return "[Content_Types].xml" in names and any(n.startswith("xl/") for n in names)


def check_workbook(stream: BinaryIO, max_bytes: int) -> list[Issue]:
    """Why the workbook will not be read, if it will not."""
    stream.seek(0)
    try:
        with zipfile.ZipFile(stream) as archive:
            infos = archive.infolist()
            types = archive.read("[Content_Types].xml") if "[Content_Types].xml" in {
                i.filename for i in infos} else b""
    except (zipfile.BadZipFile, OSError, ValueError, KeyError):
        return [unreadable()]
    finally:
        stream.seek(0)
    if any(i.filename.lower().endswith("vbaproject.bin") for i in infos) or (
            b"macroEnabled" in types):
        return [issue("macro-workbook", "The workbook contains macros (.xlsm); save it as a "
                                        "plain .xlsx workbook or a CSV file.")]
    if any(i.flag_bits & 0x1 for i in infos):
        return [issue("archive-encrypted", "The workbook is encrypted; save it without a "
                                           "password.")]
    if sum(i.file_size for i in infos) > max_bytes:
        return [too_large(max_bytes)]
    return []


def _cell(value: Any, kind: FieldType, date_format: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Y" if value else "N"
    if isinstance(value, dt.datetime | dt.date):
        form = "%Y%m%d" if date_format == "CCYYMMDD" else "%m%d%Y"
        return value.strftime(form) if kind is FieldType.DT else value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _is_names_row(layout: Layout, values: list[str]) -> bool:
    names = [_WORD.sub("", v.lower()) for v in values]
    return any(names) and all(
        n in ("", _WORD.sub("", f.name.lower()), _WORD.sub("", f.title.lower()))
        for n, f in zip(names, layout.fields, strict=False))


def read_workbook(stream: BinaryIO, layout: Layout) -> Iterator[RawRecord]:
    """Every non-blank row of the first worksheet as a record, by its sheet row number."""
    import openpyxl

    stream.seek(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl warns about styles and extensions it skips
        try:
            book = openpyxl.load_workbook(stream, read_only=True, data_only=True,
                                          keep_links=False)
        except (zipfile.BadZipFile, OSError, KeyError, ValueError, TypeError) as exc:
            yield RawRecord(1, None, [issue("xlsx-unreadable",
                                            f"The workbook cannot be read ({type(exc).__name__}"
                                            "); save it again as .xlsx or as a CSV file.")])
            return
        try:
            yield from _rows(book.worksheets[0], layout)
        finally:
            book.close()


def _rows(sheet: Any, layout: Layout) -> Iterator[RawRecord]:
    expected = len(layout.fields)
    specs = layout.fields
    for row, cells in enumerate(sheet.iter_rows(values_only=True), 1):
        values = [_cell(v, specs[i].type if i < expected else FieldType.CS,
                        specs[i].date_format if i < expected else "CCYYMMDD")
                  for i, v in enumerate(cells)]
        while values and values[-1] == "":
            values.pop()
        if not values:
            continue
        if row == 1 and _is_names_row(layout, values):
            continue
        if len(values) > expected:
            yield RawRecord(row, None, [Issue(
                row=row, field=None, field_name=None, code="field-count",
                severity=Severity.FATAL,
                message=f"Row {row} of the worksheet has values in {len(values)} columns; a "
                        f"{layout.record_type} record has {expected}.")])
            continue
        yield RawRecord(row, values + [""] * (expected - len(values)))
