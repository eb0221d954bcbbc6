"""Preliminary checks of an upload, before any record is read (design.md §3 ingest).

The web upload, the API and the offline ``edcs validate`` run the same checks, so a file that
the CLI accepts is not rejected at upload for a reason the CLI did not show.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO

from shared.catalog.loader import Catalog
from shared.catalog.models import Collection, Layout, Severity
from shared.formats import edfacts
from shared.formats.detect import Format, detect
from shared.issues import Issue
from shared.reader import file_issue, first_line

DEFAULT_MAX_UNPACKED = 2_000_000_000


@dataclass(frozen=True)
class Intake:
    """The outcome of the preliminary checks."""

    collection: Collection | None
    layout: Layout | None
    format: Format | None
    issues: list[Issue]
    # An EDFacts file's reporting period from its header record (CCYY-CCYY), else None.
    period: str | None = None

    @property
    def accepted(self) -> bool:
        """Whether the file goes on to record-by-record processing."""
        return self.format is not None and not self.issues

    @property
    def delimiter(self) -> str | None:
        """The delimiter of an accepted file ("" for fixed width, XML and workbooks), or None."""
        if not self.accepted or self.format is None:
            return None
        return self.format.delimiter or ""


def email_problem(address: str) -> str | None:
    """Why an address cannot receive edcs's emails, or None. Line breaks would inject mail
    headers; anything without exactly one @ and a dotted domain cannot be a mailbox."""
    if len(address) > 254 or any(c in address for c in "\r\n\t\0 ,;<>\"()[]\\"):
        return "it contains a character an email address cannot hold"
    local, at, domain = address.partition("@")
    if not at or "@" in domain or not local or "." not in domain.strip(".") or (
            domain.startswith(".") or domain.endswith(".") or ".." in domain):
        return "it is not of the form name@example.org"
    return None


def check_upload(catalog: Catalog, collection_code: str, stream: BinaryIO | None, *,
                 filename: str | None = None, institution_id: str | None = None,
                 max_unpacked: int = DEFAULT_MAX_UNPACKED) -> Intake:
    """Check the collection code and the file: its format, name and first records.

    ``stream`` is the whole stored file (seekable; an archive's directory is at its end);
    ``filename`` and ``institution_id`` are checked where they are known (the file-name rule of
    EDFacts, the allowed extensions, a Type A header's InstID).
    """
    collection = catalog.collection(collection_code)
    if collection is None:
        known = ", ".join(sorted(catalog.collections))
        return Intake(None, None, None, [file_issue(
            "unknown-collection", f"'{collection_code}' is not a collection code; use one of "
                                  f"{known}.")])
    layout = catalog.layout_of(collection)
    if stream is None:
        return Intake(collection, layout, None, [])
    found = detect(stream, layout, collection, filename=filename,
                   institution_id=institution_id, max_unpacked=max_unpacked)
    stream.seek(0)
    fmt = found.format
    if fmt is None:
        return Intake(collection, layout, None, found.issues)
    issues = edfacts.check_file_name(layout, found.data_name, fmt.delimiter)
    period = None
    if fmt.kind in ("delimited", "fixed"):
        issues += _head_problems(catalog, layout, fmt, found.head, found.head_row,
                                 found.data_name)
        if not issues and found.complete and _header_only(layout, fmt, found.head):
            issues = [file_issue("empty-file", "The file has its header row but no records; "
                                               "nothing was read.")]
        if layout.framing.header_record is not None:
            first = first_line(found.head.splitlines())[1]
            period = edfacts.reporting_period(layout, first.decode("utf-8", "replace"),
                                              fmt.delimiter)
    return Intake(collection, layout, fmt, issues, period)


def _head_problems(catalog: Catalog, layout: Layout, fmt: Format, head: bytes, first_row: int,
                   filename: str | None) -> list[Issue]:
    """The first record of a text file: the EDFacts header record, the header row, the type."""
    index, first = first_line(head.splitlines())
    row = first_row + index
    if layout.framing.header_record is not None:
        return edfacts.check_header(layout, row, first.decode("utf-8", "replace"),
                                    fmt.delimiter, filename)
    if fmt.delimiter is None:
        return []
    wrong = _wrong_record_type(catalog, layout, first, fmt.delimiter)
    if wrong:
        return [wrong]
    if layout.framing.header:
        bad = _header_problem(layout, first, fmt.delimiter, row)
        if bad:
            return [bad]
    return []


def _header_only(layout: Layout, fmt: Format, head: bytes) -> bool:
    """A delimited file of a layout with a header row, holding nothing after it: no records.
    (A file with no header and no records is already empty; a fixed-width file has no header
    row.)"""
    if not layout.framing.header or fmt.kind != "delimited":
        return False
    lines = head.splitlines()
    index = first_line(lines)[0]
    return not any(line.strip() for line in lines[index + 1:])


def _header_problem(layout: Layout, first_line: bytes, delimiter: str,
                    row: int) -> Issue | None:
    """A layout with a header row: the file's first row must name its columns, in order.

    The row's values are never quoted back: a file without its header starts with a student.
    """
    names = [f.title for f in layout.fields]
    given = [c.strip().strip('"').strip().lower()
             for c in first_line.decode("utf-8", "replace").split(delimiter)]
    wanted = ", ".join(names)
    if len(given) != len(names):
        return Issue(row=row, field=None, field_name=None, code="header",
                     severity=Severity.FATAL,
                     message=f"Row {row} must be the header row naming the {len(names)} columns "
                             f"{wanted} in this order; it has {len(given)} columns.")
    for position, (name, value) in enumerate(zip(names, given, strict=True), 1):
        if value != name.lower():
            return Issue(row=row, field=None, field_name=None, code="header",
                         severity=Severity.FATAL,
                         message=f"Row {row} must be the header row naming the columns {wanted} "
                                 f"in this order; column {position} should be '{name}'.")
    return None


def _wrong_record_type(catalog: Catalog, layout: Layout, first_line: bytes,
                       delimiter: str) -> Issue | None:
    """A file whose first record is another known record type was sent to the wrong collection."""
    first_field = (first_line.split(delimiter.encode(), 1)[0].strip().strip(b'"')
                   .decode("utf-8", "replace"))
    if first_field == layout.record_type or first_field not in catalog.all_record_types:
        return None  # unknown first fields are reported per row by the record type field's rule
    return file_issue(
        "wrong-collection",
        f"The file holds {first_field} records, but it was submitted to the "
        f"{layout.record_type} collection; submit it to {first_field}.")
