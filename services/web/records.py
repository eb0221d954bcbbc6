"""Posted records and their history, as the Production Download and history views show them.

An export is in the collection's own upload layout (same fields, same order, no header where the
upload has none), so a district can fix an export and upload it again (design.md §8). Every cell
is written safe for spreadsheets (services.web.formats); SSNs are in their stored, hashed form,
which an upload of the export keeps as it is (shared.privacy).
"""

from __future__ import annotations

import csv
import datetime as dt
import heapq
import io
import itertools
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Text, and_, cast, func, or_, select, true
from sqlalchemy.orm import Session

from services.web.formats import delimited_json, xml_json, xml_name
from shared.catalog.models import Layout
from shared.db.bulk import driver_rows
from shared.db.history import after_image
from shared.db.models import OdsRecord, RecordHistory, Submission

DELIMITERS = {"csv": ",", "txt": "^"}
PAGE = 5000  # records a query reads: about 1.5 MB of text


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


def export_pages(session: Session, layout: Layout, institution_id: str,
                 where: ColumnElement[bool], changed_since: dt.datetime | None = None,
                 changed_before: dt.datetime | None = None, page: int = PAGE
                 ) -> Iterator[list[str]]:
    """The institution's current records matching ``where``, in key order, as the store holds
    them (JSON text), a page at a time.

    The district's records and the school's are each read in key order from their own index
    (record type, district or school, key), a page a query after the last key read (not an
    OFFSET: no query skips or sorts rows); memory holds a page of each. An institution is
    nearly always one or the other; records that name it as both are merged by key, once.
    """
    lea, school = (_key_pages(session, layout, column == institution_id, and_(
        where, changed(changed_since, changed_before)), page)
        for column in (OdsRecord.lea, OdsRecord.school))
    first, other = next(lea, []), next(school, [])
    if not (first and other):
        for found in itertools.chain([first or other], lea if first else school):
            if found:
                yield [held for _, held in found]
        return
    rows = heapq.merge(itertools.chain(first, itertools.chain.from_iterable(lea)),
                       itertools.chain(other, itertools.chain.from_iterable(school)),
                       key=lambda row: row[0])
    merged = (held for (_, held), _twice in itertools.groupby(rows))
    while chunk := list(itertools.islice(merged, page)):
        yield chunk


def _key_pages(session: Session, layout: Layout, institution: ColumnElement[bool],
               where: ColumnElement[bool], page: int) -> Iterator[Sequence[tuple[str, str]]]:
    """(key, JSON text) of the records, in key order, a query of ``page`` rows at a time."""
    query = (select(OdsRecord.op_key, cast(OdsRecord.fields, Text))
             .where(OdsRecord.record_type == layout.record_type, institution, where)
             .order_by(OdsRecord.op_key).limit(page))
    connection = session.connection()
    after: str | None = None
    while True:
        found = driver_rows(connection, query if after is None else query.where(
            OdsRecord.op_key > after))
        if found:
            yield found
        if len(found) < page:
            return
        after = found[-1][0]


def export_lines(session: Session, layout: Layout, institution_id: str, fmt: str,
                 where: ColumnElement[bool] | None = None,
                 changed_since: dt.datetime | None = None,
                 changed_before: dt.datetime | None = None) -> Iterator[str]:
    """Every current record of the institution matching ``where``, in key order, as csv, txt
    or xml, a page at a time."""
    pages = export_pages(session, layout, institution_id,
                         true() if where is None else where, changed_since, changed_before)
    if fmt == "xml":
        names = [xml_name(f.name) for f in layout.fields]
        yield from xml_json("records", "record", names, pages,
                            {"collection": layout.record_type})
        return
    header = [f.title for f in layout.fields] if layout.framing.header else None
    yield from delimited_json(pages, fmt, header)


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
    query = (select(RecordHistory, Submission.submitted_by, Submission.institution_id,
                    after_image())
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
         "before": h.before, "after": after} for h, by, inst, after in found[:limit]]
    return page, (int(page[-1]["id"]) if more else None)
