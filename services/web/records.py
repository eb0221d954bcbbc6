"""Posted records and their history, as the Production Download and history views show them.

An export is in the collection's own upload layout (same fields, same order, no header where the
upload has none), so a district can fix an export and upload it again (design.md §8).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.catalog.models import Layout
from shared.db.models import OdsRecord, RecordHistory, Submission

DELIMITERS = {"csv": ",", "txt": "^"}
CHUNK = 2000


def export_lines(session: Session, layout: Layout, institution_id: str, fmt: str,
                 changed_since: dt.date | None = None) -> Iterator[str]:
    """Every current record of the institution, one CRLF-ended line each, in key order."""
    query = (select(OdsRecord.fields)
             .where(OdsRecord.record_type == layout.record_type,
                    OdsRecord.lea == institution_id)
             .order_by(OdsRecord.op_key))
    if changed_since is not None:
        query = query.where(OdsRecord.updated_at >= dt.datetime.combine(changed_since,
                                                                        dt.time()))
    out = io.StringIO()
    writer = csv.writer(out, delimiter=DELIMITERS[fmt], lineterminator="\r\n")
    if layout.framing.header:
        yield upload_text(layout, [], fmt)
    # Lines go out a chunk at a time: one HTTP chunk per line cost more than the query.
    for rows in session.execute(query.execution_options(yield_per=CHUNK)).scalars().partitions():
        writer.writerows(rows)
        yield out.getvalue()
        out.seek(0)
        out.truncate()


def upload_text(layout: Layout, rows: list[list[str]], fmt: str = "csv") -> str:
    """Records as an upload file of the layout (with its header row where it has one)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=DELIMITERS[fmt], lineterminator="\r\n")
    if layout.framing.header:
        writer.writerow([f.title for f in layout.fields])
    writer.writerows(rows)
    return out.getvalue()


def history_of(session: Session, layout: Layout, institution_id: str, *, key: str | None,
               submission_id: int | None) -> list[dict[str, Any]]:
    """Changes to the institution's records, oldest first, by key or by submission."""
    query = (select(RecordHistory, Submission.submitted_by, Submission.institution_id)
             .join(Submission, Submission.id == RecordHistory.submission_id)
             .where(RecordHistory.record_type == layout.record_type,
                    Submission.institution_id == institution_id)
             .order_by(RecordHistory.at, RecordHistory.id))
    if key is not None:
        query = query.where(RecordHistory.op_key == key)
    if submission_id is not None:
        query = query.where(RecordHistory.submission_id == submission_id)
    return [{"key": h.op_key, "action": h.action, "submission": h.submission_id,
             "by": by, "institution": inst, "at": h.at.isoformat(timespec="seconds") + "Z",
             "before": h.before, "after": h.after}
            for h, by, inst in session.execute(query.limit(10_000))]
