"""Streaming reader for delimited record files: bytes in, located rows out.

Liberal where it is harmless (CRLF, LF or old-Mac CR-only line endings, a UTF-8 BOM, blank
lines, either delimiter the layout allows), strict where meaning would change: a byte that is
not UTF-8 is an error at its row and column, and a row with the wrong number of fields is an
error at that row, never a shifted parse (design.md §4b). The file is read in chunks and never
held whole; a row longer than ``max_row_bytes`` is reported by its length and skipped without
being held, so one enormous value (or a file with no line breaks) costs no more memory than a
chunk.
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
CHUNK = 1 << 20
MAX_ROW_BYTES = 65_536  # far above any layout's widest record; see PipelineSettings


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


def physical_lines(stream: BinaryIO, limit: int = MAX_ROW_BYTES) -> Iterator[bytes | int]:
    """Every physical line without its line ending, or, for a line longer than ``limit``
    bytes, its length (the line itself is never held). LF and CRLF end lines; a file whose
    first chunk has a CR but no LF is read as CR-only."""
    first = stream.read(CHUNK)
    sep = b"\r" if b"\r" in first and b"\n" not in first else b"\n"
    pending = b""
    overflow = 0  # length so far of a line too long to keep
    chunk = first
    while chunk:
        parts = chunk.split(sep)
        for part in parts[:-1]:
            cr = 1 if part.endswith(b"\r") else 0  # CRLF: the length without the line ending
            if overflow:
                yield overflow + len(part) - cr
                overflow = 0
                continue
            line = pending + part if pending else part
            pending = b""
            yield len(line) - cr if len(line) > limit else line.removesuffix(b"\r")
        last = parts[-1]
        if overflow:
            overflow += len(last)
        else:
            pending += last
            if len(pending) > limit:
                overflow, pending = len(pending), b""
        chunk = stream.read(CHUNK)
    if overflow:
        yield overflow
    elif pending:
        yield pending.removesuffix(b"\r")


def read_records(stream: BinaryIO, layout: Layout, delimiter: str,
                 max_row_bytes: int = MAX_ROW_BYTES) -> Iterator[RawRecord]:
    """Yield every non-blank data row of a delimited file with its physical line number (the
    header row of a layout that has one was checked at intake and is skipped)."""
    expected = len(layout.fields)
    header_pending = layout.framing.header
    for row, raw in enumerate(physical_lines(stream, max_row_bytes), 1):
        if isinstance(raw, int):
            header_pending = False
            yield RawRecord(row, None, [Issue(
                row=row, field=None, field_name=None, code="row-too-long",
                severity=Severity.FATAL,
                message=f"Row {row} is {raw:,} bytes long; edcs reads rows of at most "
                        f"{max_row_bytes:,} bytes (a {layout.record_type} record is far "
                        "shorter), so it was not read. Look for a value pasted into a field "
                        "by mistake, or for line breaks missing from the file.")])
            continue
        if row == 1:
            raw = raw.removeprefix(BOM)
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
            hint = (" It has an unbalanced double quote, which makes the rest of the row one "
                    "value." if line.count('"') % 2 else "")
            yield RawRecord(row, None, [Issue(
                row=row, field=None, field_name=None, code="field-count",
                severity=Severity.FATAL,
                message=f"Row {row} has {len(fields)} fields separated by '{delimiter}'; a "
                        f"{layout.record_type} record has {expected}.{hint}")])
            continue
        yield RawRecord(row, fields)
