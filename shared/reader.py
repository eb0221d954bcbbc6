"""Streaming reader for delimited record files: bytes in, located rows out.

Liberal where it is harmless (CRLF or LF, a UTF-8 BOM, blank lines, either delimiter the layout
allows), strict where meaning would change: a byte that is not UTF-8 is an error at its row and
column, and a row with the wrong number of fields is an error at that row, never a shifted parse
(design.md §4b). The file is read line by line and never held whole.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from shared.catalog.models import Layout, Severity
from shared.issues import Issue

BOM = b"\xef\xbb\xbf"
SNIFF_BYTES = 8192


@dataclass(slots=True)
class RawRecord:
    """One physical row: its line number, its fields (None if it could not be split), issues."""

    row: int
    fields: list[str] | None
    issues: list[Issue] = field(default_factory=list)


def file_issue(code: str, message: str, severity: Severity = Severity.FATAL) -> Issue:
    """An issue about the file as a whole (no row, no field)."""
    return Issue(row=None, field=None, field_name=None, code=code, severity=severity,
                 message=message)


def sniff(head: bytes, layout: Layout) -> tuple[str | None, list[Issue]]:
    """Look at the first bytes of a file: is it text, and which delimiter does it use.

    Returns the delimiter (None when the file cannot be read as this layout) and file issues.
    """
    body = head.removeprefix(BOM)
    if not body.strip():
        return None, [file_issue("empty-file", "The file has no records.")]
    if b"\x00" in body:
        return None, [file_issue(
            "binary-file",
            "The file is not a text file (it contains NUL bytes); upload the CSV or caret-"
            "delimited export, not a spreadsheet or archive.")]
    first = next((ln for ln in body.splitlines() if ln.strip()), b"")
    expected = len(layout.fields)
    counts = {d: first.count(d.encode()) + 1 for d in layout.framing.delimiters}
    exact = [d for d, n in counts.items() if n == expected]
    delimiter = exact[0] if exact else max(counts, key=lambda d: counts[d])
    return delimiter, []


def _decode(raw: bytes, row: int) -> tuple[str | None, Issue | None]:
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        column = len(raw[: exc.start].decode("utf-8", "replace")) + 1
        return None, Issue(
            row=row, field=None, field_name=None, code="encoding", severity=Severity.FATAL,
            message=f"Row {row} has a byte that is not UTF-8 at character {column} "
                    f"(byte 0x{raw[exc.start]:02X}); save the file as UTF-8.")


def _split(line: str, delimiter: str) -> list[str]:
    if '"' not in line:
        return line.split(delimiter)
    return next(csv.reader([line], delimiter=delimiter))


def read_records(stream: BinaryIO, layout: Layout, delimiter: str) -> Iterator[RawRecord]:
    """Yield every non-blank data row of a delimited file with its physical line number (the
    header row of a layout that has one was checked at intake and is skipped)."""
    expected = len(layout.fields)
    header_pending = layout.framing.header
    for row, raw in enumerate(stream, 1):
        if row == 1:
            raw = raw.removeprefix(BOM)
        raw = raw.rstrip(b"\r\n")
        if not raw.strip():
            continue
        if header_pending:
            header_pending = False
            continue
        if b"\x00" in raw:
            yield RawRecord(row, None, [Issue(
                row=row, field=None, field_name=None, code="binary-content",
                severity=Severity.FATAL, message=f"Row {row} contains a NUL byte.")])
            continue
        line, problem = _decode(raw, row)
        if line is None:
            yield RawRecord(row, None, [problem] if problem else [])
            continue
        fields = _split(line, delimiter)
        if len(fields) != expected:
            yield RawRecord(row, None, [Issue(
                row=row, field=None, field_name=None, code="field-count",
                severity=Severity.FATAL,
                message=f"Row {row} has {len(fields)} fields separated by '{delimiter}'; a "
                        f"{layout.record_type} record has {expected}.")])
            continue
        yield RawRecord(row, fields)
