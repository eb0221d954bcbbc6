"""Preliminary checks of an upload, before any record is read (design.md §3 ingest).

The web upload, the API and the offline ``edcs validate`` run the same checks, so a file that
the CLI accepts is not rejected at upload for a reason the CLI did not show.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.catalog.loader import Catalog
from shared.catalog.models import Collection, Layout, Severity
from shared.issues import Issue
from shared.reader import BOM, file_issue, sniff


@dataclass(frozen=True)
class Intake:
    """The outcome of the preliminary checks."""

    collection: Collection | None
    layout: Layout | None
    delimiter: str | None
    issues: list[Issue]

    @property
    def accepted(self) -> bool:
        """Whether the file goes on to record-by-record processing."""
        return self.delimiter is not None and not self.issues


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


def check_upload(catalog: Catalog, collection_code: str, head: bytes) -> Intake:
    """Check the collection code and the first bytes of the file."""
    collection = catalog.collection(collection_code)
    if collection is None:
        known = ", ".join(sorted(catalog.collections))
        return Intake(None, None, None, [file_issue(
            "unknown-collection", f"'{collection_code}' is not a collection code; use one of "
                                  f"{known}.")])
    layout = catalog.layout_of(collection)
    delimiter, issues = sniff(head, layout)
    if delimiter is None:
        return Intake(collection, layout, None, issues)
    wrong = _wrong_record_type(catalog, layout, head, delimiter)
    if wrong:
        return Intake(collection, layout, None, [wrong])
    if layout.framing.header:
        bad_header = _header_problem(layout, head, delimiter)
        if bad_header:
            return Intake(collection, layout, None, [bad_header])
    return Intake(collection, layout, delimiter, [])


def _header_problem(layout: Layout, head: bytes, delimiter: str) -> Issue | None:
    """A layout with a header row: the file's first row must name its columns, in order.

    The row's values are never quoted back: a file without its header starts with a student.
    """
    first_line = next((ln for ln in head.removeprefix(BOM).splitlines() if ln.strip()), b"")
    names = [f.title for f in layout.fields]
    given = [c.strip().strip('"').strip().lower()
             for c in first_line.decode("utf-8", "replace").split(delimiter)]
    wanted = ", ".join(names)
    if len(given) != len(names):
        return Issue(row=1, field=None, field_name=None, code="header", severity=Severity.FATAL,
                     message=f"Row 1 must be the header row naming the {len(names)} columns "
                             f"{wanted} in this order; it has {len(given)} columns.")
    for position, (name, value) in enumerate(zip(names, given, strict=True), 1):
        if value != name.lower():
            return Issue(row=1, field=None, field_name=None, code="header",
                         severity=Severity.FATAL,
                         message=f"Row 1 must be the header row naming the columns {wanted} "
                                 f"in this order; column {position} should be '{name}'.")
    return None


def _wrong_record_type(catalog: Catalog, layout: Layout, head: bytes,
                       delimiter: str) -> Issue | None:
    """A file whose first record is another known record type was sent to the wrong collection."""
    first_line = next((ln for ln in head.removeprefix(BOM).splitlines() if ln.strip()), b"")
    first_field = (first_line.split(delimiter.encode(), 1)[0].strip().strip(b'"')
                   .decode("utf-8", "replace"))
    if first_field == layout.record_type or first_field not in catalog.all_record_types:
        return None  # unknown first fields are reported per row by the record type field's rule
    return file_issue(
        "wrong-collection",
        f"The file holds {first_field} records, but it was submitted to the "
        f"{layout.record_type} collection; submit it to {first_field}.")
