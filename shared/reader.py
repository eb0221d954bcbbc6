"""Streaming reader for delimited record files: bytes in, located rows out.

Liberal where it is harmless (CRLF, LF or old-Mac CR-only line endings, a UTF-8 BOM, blank
lines, either delimiter the layout allows), strict where meaning would change: a byte that is
not UTF-8 is an error at its row and column, and a row with the wrong number of fields is an
error at that row, never a shifted parse (design.md §4b). The file is read in chunks and never
held whole; a row longer than ``max_row_bytes`` is reported by its length and skipped without
being held, so one enormous value (or a file with no line breaks) costs no more memory than a
chunk. Fixed-width records (``delimiter`` None) are cut at the layout's field widths, counted in
characters. A control character other than the delimiter is an error at its row and field.
"""

from __future__ import annotations

import csv
import itertools
import re
from collections.abc import Callable, Iterator
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


def first_line(lines: list[bytes]) -> tuple[int, bytes]:
    """The first non-blank line and its index (0 and b"" when there is none): the one place
    that finds where a file's records start."""
    return next(((i, ln) for i, ln in enumerate(lines) if ln.strip()), (0, b""))


def looks_binary(head: bytes) -> bool:
    """NUL bytes in more than a stray place, or bytes that are mostly not text: a binary file.
    A text file with a NUL or two is read, and the rows holding them are errors."""
    nuls = head.count(b"\x00")
    if not nuls:
        return False
    text = head.replace(b"\x00", b"").decode("utf-8", "replace")
    return nuls > len(head) // 100 or text.count("\ufffd") > len(text) // 20


def sniff(head: bytes, layout: Layout) -> tuple[str | None, list[Issue]]:
    """Look at the first bytes of a file: is it text, and which delimiter does it use.

    Returns the delimiter (None when the file cannot be read as this layout) and file issues.
    """
    body = head.removeprefix(BOM)
    if not body.strip():
        return None, [file_issue("empty-file", "The file has no records.")]
    if looks_binary(body):
        return None, [file_issue(
            "binary-file",
            "The file is not a text file (it contains NUL bytes); upload the CSV or caret-"
            "delimited export, not a spreadsheet or archive.")]
    first = first_line(body.splitlines())[1]
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
            message=f"Row {row} has a byte that is not UTF-8 at character {column} (byte "
                    f"{exc.start + 1} of the row, 0x{raw[exc.start]:02X}); save the file as "
                    "UTF-8 (or UTF-16 with its byte order mark).")


# C0 controls and DEL other than tab; a tab is checked where it is not the delimiter.
_CONTROL = re.compile("[\x01-\x08\x0b-\x1f\x7f]")
_CONTROL_OR_TAB = re.compile("[\x01-\x1f\x7f]")


def control_issue(layout: Layout, fields: list[str], row: int,
                  pattern: re.Pattern[str]) -> Issue | None:
    """The first field holding a control character, located by row and field (never quoted:
    the field may be private)."""
    for spec, value in zip(layout.fields, fields, strict=False):
        found = pattern.search(value)
        if found:
            return Issue(row=row, field=spec.id, field_name=spec.title,
                         code="control-character", severity=Severity.FATAL,
                         message=f"{spec.title} ({spec.id}) on row {row} contains the control "
                                 f"character U+{ord(found.group()):04X} at character "
                                 f"{found.start() + 1}; remove it.")
    return None


def fixed_widths(layout: Layout) -> tuple[tuple[int, int], ...]:
    """(start, end) of each field of a fixed-width record, 0-based, end exclusive."""
    spans, start = [], 0
    for spec in layout.fields:
        spans.append((start, start + spec.max_length))
        start += spec.max_length
    return tuple(spans)


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


HeaderSink = Callable[[int, str], None]


def _too_long(row: int, length: int, limit: int, layout: Layout) -> Issue:
    return Issue(
        row=row, field=None, field_name=None, code="row-too-long", severity=Severity.FATAL,
        message=f"Row {row} is {length:,} bytes long; edcs reads rows of at most {limit:,} "
                f"bytes (a {layout.record_type} record is far shorter), so it was not read. "
                "Look for a value pasted into a field by mistake, or for line breaks missing "
                "from the file.")


def _frame(line: str, row: int, layout: Layout, delimiter: str | None,
           spans: tuple[tuple[int, int], ...], width: int) -> tuple[list[str] | None,
                                                                    Issue | None]:
    """The fields of one decoded line, or the issue that keeps it from being split."""
    if delimiter is None:
        if len(line) > width:
            return None, Issue(
                row=row, field=None, field_name=None, code="record-length",
                severity=Severity.FATAL,
                message=f"Row {row} is {len(line)} characters long; a fixed-width "
                        f"{layout.record_type} record is {width} characters (then the line "
                        "ending).")
        return [line[a:b].strip() for a, b in spans], None
    fields = _split(line, delimiter)
    if len(fields) == len(layout.fields):
        return fields, None
    hint = (" It has an unbalanced double quote, which makes the rest of the row one value."
            if line.count('"') % 2 else "")
    shown = "tab" if delimiter == "\t" else f"'{delimiter}'"
    return None, Issue(
        row=row, field=None, field_name=None, code="field-count", severity=Severity.FATAL,
        message=f"Row {row} has {len(fields)} fields separated by {shown}; a "
                f"{layout.record_type} record has {len(layout.fields)}.{hint}")


def read_records(stream: BinaryIO, layout: Layout, delimiter: str | None,
                 max_row_bytes: int = MAX_ROW_BYTES, *, skip_lines: int = 0,
                 on_header: HeaderSink | None = None) -> Iterator[RawRecord]:
    """Yield every non-blank data row with its physical line number.

    ``delimiter`` None reads fixed-width records (``layout.framing.fixed_width``). The first
    ``skip_lines`` physical lines (an Oregon Type A header) are not data; the header row of a
    layout that has one (checked at intake) is skipped, or handed to ``on_header`` (the EDFacts
    header record, whose record count the caller checks).
    """
    # A header row names delimited columns; a fixed-width file has none (its widths are its
    # fields'), but an EDFacts file starts with its header record in every format.
    header_pending = ((layout.framing.header and delimiter is not None)
                      or layout.framing.header_record is not None)
    spans = fixed_widths(layout) if delimiter is None else ()
    width = layout.framing.fixed_width or sum(s.max_length for s in layout.fields)
    control = _CONTROL if delimiter == "\t" else _CONTROL_OR_TAB
    lines = enumerate(physical_lines(stream, max_row_bytes), 1)
    for row, raw in itertools.islice(lines, skip_lines, None):
        if isinstance(raw, int):
            header_pending = False
            yield RawRecord(row, None, [_too_long(row, raw, max_row_bytes, layout)])
            continue
        if row == 1:
            raw = raw.removeprefix(BOM)
        if not raw.strip():
            continue
        if b"\x00" in raw:
            header_pending = False
            yield RawRecord(row, None, [Issue(
                row=row, field=None, field_name=None, code="binary-content",
                severity=Severity.FATAL, message=f"Row {row} contains a NUL byte.")])
            continue
        line, problem = _decode(raw, row)
        if header_pending:
            header_pending = False
            if on_header is not None and line is not None:
                on_header(row, line)
            continue
        if line is None:
            yield RawRecord(row, None, [problem] if problem else [])
            continue
        fields, problem = _frame(line, row, layout, delimiter, spans, width)
        if fields is None:
            yield RawRecord(row, None, [problem] if problem else [])
            continue
        if not (line.isascii() and line.isprintable()) and control.search(line):
            found = control_issue(layout, fields, row, control)
            if found is not None:
                yield RawRecord(row, fields, [found])
                continue
        yield RawRecord(row, fields)
