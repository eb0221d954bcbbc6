"""Excel ``.xlsx`` uploads (CALPADS CFS §1.2: "Excel Spreadsheet format (.xlsx) ... may contain
one row of column names"), read row by row from the worksheet's XML.

The worksheet is streamed with defusedxml's ElementTree parser (no DTD, no entities, no external
references), each row dropped once read, so memory holds the shared strings and one row. This is
about 20 times faster than openpyxl's read-only mode (docs/decisions.md, ".xlsx reader").

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
import zipfile
from collections.abc import Iterator
from typing import IO, Any, BinaryIO
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

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
    stream.seek(0)
    try:
        archive = zipfile.ZipFile(stream)
        book = _Book(archive)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError, ParseError,
            DefusedXmlException) as exc:
        yield _unreadable(exc)
        return
    try:
        with archive.open(book.sheet) as sheet:
            yield from _records(book.rows(sheet), layout)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError, ParseError,
            DefusedXmlException) as exc:
        yield _unreadable(exc)
    finally:
        archive.close()


def _unreadable(exc: BaseException) -> RawRecord:
    return RawRecord(1, None, [issue("xlsx-unreadable",
                                     f"The workbook cannot be read ({type(exc).__name__}); save "
                                     "it again as .xlsx or as a CSV file.")])


SHARED_STRINGS_LIMIT = 256 * 1024 * 1024  # bytes of the shared strings part, unpacked
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_COLUMN = re.compile(r"[A-Z]+")


def _local(tag: str) -> str:
    """An element's name without its namespace (transitional and strict OOXML differ)."""
    return tag.rpartition("}")[2]


def _elements(part: IO[bytes]) -> Iterator[Element]:
    """Each element of a part as it ends (the hardened parser refuses DTDs and entities)."""
    for _, element in iterparse(part, events=("end",), forbid_dtd=True):
        yield element


class _Book:
    """What the workbook's parts say before the sheet is read: which part is the first
    worksheet, the shared strings, which cell styles are dates, the date system."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        names = set(archive.namelist())
        sheet_id, self.epoch = "", dt.datetime(1899, 12, 30)
        with archive.open("xl/workbook.xml") as part:
            for element in _elements(part):
                name = _local(element.tag)
                if name == "workbookPr" and element.get("date1904") in ("1", "true"):
                    self.epoch = dt.datetime(1904, 1, 1)
                elif name == "sheet" and not sheet_id:
                    sheet_id = element.get(_REL, "")
        targets: dict[str, tuple[str, str]] = {}
        if "xl/_rels/workbook.xml.rels" in names:
            with archive.open("xl/_rels/workbook.xml.rels") as part:
                for element in _elements(part):
                    if _local(element.tag) == "Relationship":
                        target = element.get("Target", "")
                        target = (target.lstrip("/") if target.startswith("/")
                                  else "xl/" + target)
                        targets[element.get("Id", "")] = (
                            target, element.get("Type", "").rpartition("/")[2])
        self.sheet = targets.get(sheet_id, ("xl/worksheets/sheet1.xml", ""))[0]
        if self.sheet not in names:
            raise KeyError("the workbook has no worksheet")
        strings = next((t for t, kind in targets.values() if kind == "sharedStrings"),
                       "xl/sharedStrings.xml")
        self.strings = self._strings(archive, strings) if strings in names else []
        self.dates = self._date_styles(archive) if "xl/styles.xml" in names else frozenset()

    @staticmethod
    def _strings(archive: zipfile.ZipFile, name: str) -> list[str]:
        if archive.getinfo(name).file_size > SHARED_STRINGS_LIMIT:
            raise ValueError("the shared strings are too large")
        found: list[str] = []
        with archive.open(name) as part:
            for element in _elements(part):
                if _local(element.tag) == "si":
                    found.append(_text(element))
                    element.clear()
        return found

    @staticmethod
    def _date_styles(archive: zipfile.ZipFile) -> frozenset[int]:
        """The cell styles (indexes of cellXfs) whose number format shows a date."""
        from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format

        formats: dict[int, str] = dict(BUILTIN_FORMATS)
        styles: list[int] = []
        with archive.open("xl/styles.xml") as part:
            in_cells = False
            for event, element in iterparse(part, events=("start", "end"), forbid_dtd=True):
                name = _local(element.tag)
                if name == "cellXfs":
                    in_cells = event == "start"
                elif event == "end" and name == "numFmt":
                    formats[int(element.get("numFmtId", "0"))] = element.get("formatCode", "")
                elif event == "end" and name == "xf" and in_cells:
                    styles.append(int(element.get("numFmtId", "0")))
        return frozenset(i for i, number in enumerate(styles)
                         if is_date_format(formats.get(number, "General")))

    def rows(self, sheet: IO[bytes]) -> Iterator[tuple[int, list[Any]]]:
        """(sheet row number, cell values by column) of each row, dropped once read."""
        count = 0
        parent: Element | None = None
        names: dict[str, str] = {}  # full tag -> local name, for the few tags a sheet has
        for event, element in iterparse(sheet, events=("start", "end"), forbid_dtd=True):
            tag = element.tag
            name = names.get(tag) or names.setdefault(tag, _local(tag))
            if event == "start":
                if name == "sheetData":
                    parent = element
                continue
            if name != "row":
                continue
            count += 1
            number = int(element.get("r") or count)
            count = number
            values: list[Any] = []
            position = 0
            for cell in element:
                if (names.get(cell.tag) or names.setdefault(cell.tag, _local(cell.tag))) != "c":
                    continue
                reference = cell.get("r")
                column = _column(reference) if reference else position
                if column > len(values):
                    values.extend([None] * (column - len(values)))
                values.append(self._value(cell, names))
                position += 1
            yield number, values
            element.clear()
            if parent is not None:
                parent.clear()  # the rows read so far: memory holds one

    def _value(self, cell: Element, names: dict[str, str]) -> Any:
        kind, text = cell.get("t", "n"), None
        for child in cell:
            name = names.get(child.tag) or names.setdefault(child.tag, _local(child.tag))
            if name == "v":
                text = child.text
            elif name == "is":
                return _text(child)
        if text is None:
            return None
        if kind == "s":
            return self.strings[int(text)]
        if kind == "b":
            return text.strip() in ("1", "true")
        if kind == "d":
            return dt.datetime.fromisoformat(text.strip())
        if kind in ("str", "e", "inlineStr"):
            return text
        number: int | float = int(text) if text.lstrip("-").isdigit() else float(text)
        if int(cell.get("s") or 0) in self.dates:
            return self.epoch + dt.timedelta(days=float(number))
        return number


def _text(item: Element) -> str:
    """A string item's text: its own ``t``, or its rich-text runs' (never the phonetic
    ``rPh`` runs)."""
    parts = []
    for child in item:
        name = _local(child.tag)
        if name == "t":
            parts.append(child.text or "")
        elif name == "r":
            parts.extend(t.text or "" for t in child if _local(t.tag) == "t")
    return "".join(parts)


_COLUMNS: dict[str, int] = {}  # column letters -> 0-based index, as met


def _column(reference: str) -> int:
    """The 0-based column of a cell reference such as AB12."""
    letters = reference.rstrip("0123456789").upper()
    found = _COLUMNS.get(letters)
    if found is None:
        found = -1
        for letter in letters if _COLUMN.fullmatch(letters) else "A":
            found = (found + 1) * 26 + ord(letter) - 65
        if len(_COLUMNS) < 20_000:  # Excel has 16,384 columns
            _COLUMNS[letters] = found
    return found


def _records(rows: Iterator[tuple[int, list[Any]]], layout: Layout) -> Iterator[RawRecord]:
    expected = len(layout.fields)
    specs = layout.fields
    first = True
    for row, cells in rows:
        values = [_cell(v, specs[i].type if i < expected else FieldType.CS,
                        specs[i].date_format if i < expected else "CCYYMMDD")
                  for i, v in enumerate(cells)]
        while values and values[-1] == "":
            values.pop()
        if not values:
            continue
        if first and row == 1 and _is_names_row(layout, values):
            first = False
            continue
        first = False
        if len(values) > expected:
            yield RawRecord(row, None, [Issue(
                row=row, field=None, field_name=None, code="field-count",
                severity=Severity.FATAL,
                message=f"Row {row} of the worksheet has values in {len(values)} columns; a "
                        f"{layout.record_type} record has {expected}.")])
            continue
        yield RawRecord(row, values + [""] * (expected - len(values)))
