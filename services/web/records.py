"""Posted records and their history, as the Production Download and history views show them.

An export is in the collection's own upload layout (same fields, same order, no header where the
upload has none), so a district can fix an export and upload it again (design.md §8). Every cell
is written safe for spreadsheets (services.web.formats); SSNs are in their stored, hashed form,
which an upload of the export keeps as it is (shared.privacy).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, true
from sqlalchemy.orm import Session

from services.web.formats import delimited, xml_document, xml_name
from shared.catalog.models import Layout
from shared.db.models import OdsRecord, RecordHistory, Submission

DELIMITERS = {"csv": ",", "txt": "^"}
CHUNK = 2000


def institution_records(layout: Layout, institution_id: str) -> ColumnElement[bool]:
    """The posted records of one institution: its district's, or its school's."""
    return (OdsRecord.record_type == layout.record_type) & or_(
        OdsRecord.lea == institution_id, OdsRecord.school == institution_id)


def changed(since: dt.datetime | None, before: dt.datetime | None) -> ColumnElement[bool]:
    """Records whose activity date (their last posting) is in the range."""
    return and_(true(), *([OdsRecord.updated_at >= since] if since else []),
                *([OdsRecord.updated_at < before] if before else []))


def count_records(session: Session, layout: Layout, where: ColumnElement[bool]) -> int:
    """How many current records match ``where``."""
    return session.scalar(select(func.count()).select_from(OdsRecord).where(
        OdsRecord.record_type == layout.record_type, where)) or 0


def export_lines(session: Session, layout: Layout, where: ColumnElement[bool], fmt: str,
                 changed_since: dt.datetime | None = None,
                 changed_before: dt.datetime | None = None) -> Iterator[str]:
    """Every current record matching ``where``, in key order, as csv, txt or xml."""
    query = (select(OdsRecord.fields).where(OdsRecord.record_type == layout.record_type, where,
                                            changed(changed_since, changed_before))
             .order_by(OdsRecord.op_key))
    rows = session.execute(query.execution_options(yield_per=CHUNK)).scalars()
    if fmt == "xml":
        names = [xml_name(f.name) for f in layout.fields]
        yield from xml_document("records", "record", names, rows,
                                {"collection": layout.record_type})
        return
    header = [f.title for f in layout.fields] if layout.framing.header else None
    yield from delimited(rows, fmt, header, chunk=CHUNK)


def upload_text(layout: Layout, rows: list[list[str]], fmt: str = "csv") -> str:
    """Records as an upload file of the layout (with its header row where it has one), as they
    are: this is a file edcs reads, not one a spreadsheet opens."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=DELIMITERS[fmt], lineterminator="\r\n")
    if layout.framing.header:
        writer.writerow([f.title for f in layout.fields])
    writer.writerows(rows)
    return out.getvalue()


def key_form(layout: Layout) -> str:
    """How a record's key is written: its key fields joined with '|'."""
    return "|".join(layout.row_key)


def key_problem(layout: Layout, key: str) -> str | None:
    """Why a key cannot be one of this layout's, or None."""
    parts = key.split("|")
    if len(parts) != len(layout.row_key) or not all(p.strip() for p in parts):
        return (f"A {layout.record_type} record's key is {key_form(layout)}: "
                f"{len(layout.row_key)} values joined with '|'.")
    return None


def history_page(session: Session, layout: Layout, where: ColumnElement[bool], *,
                 key: str | None, submission_id: int | None, after: int = 0,
                 limit: int = 1000) -> tuple[list[dict[str, Any]], int | None]:
    """Changes to records, oldest first, from after the change ``after`` on; returns the page
    and the id to continue after (None at the end)."""
    query = (select(RecordHistory, Submission.submitted_by, Submission.institution_id)
             .join(Submission, Submission.id == RecordHistory.submission_id)
             .where(RecordHistory.record_type == layout.record_type, where,
                    RecordHistory.id > after)
             .order_by(RecordHistory.id).limit(limit + 1))
    if key is not None:
        query = query.where(RecordHistory.op_key == key)
    if submission_id is not None:
        query = query.where(RecordHistory.submission_id == submission_id)
    found = list(session.execute(query))
    more = len(found) > limit
    page: list[dict[str, Any]] = [
        {"id": h.id, "key": h.op_key, "action": h.action, "submission": h.submission_id,
         "by": by, "institution": inst, "at": h.at.isoformat(timespec="seconds") + "Z",
         "before": h.before, "after": h.after} for h, by, inst in found[:limit]]
    return page, (int(page[-1]["id"]) if more else None)
