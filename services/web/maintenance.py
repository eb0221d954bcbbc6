"""Record Maintenance: a posted record, its change history, and editing it.

An edit is sent through the pipeline as a file of one record (the Oregon seed: submissions
"are validated and processed in the same way as files"), so it is checked by the same rules and
its change is written to the record's history like any other. Only collections whose records
are posted one by one (the Transaction method, not a full replacement) can be edited this way: a
one-record file of a Replacement or full-replacement collection would replace its whole group.
"""

from __future__ import annotations

import io
from typing import Any

from fastapi.concurrency import run_in_threadpool
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.web.context import WebContext
from services.web.fixes import layout_of
from services.web.problems import Problem
from services.web.records import upload_text
from services.web.security import require, require_institution
from services.web.submissions import UploadRefused, accept_upload
from shared.accounts import Principal
from shared.catalog.models import Layout, Method, Posting
from shared.db.history import after_image
from shared.db.models import OdsRecord, RecordHistory, Submission

_FORBIDDEN = ("\r", "\n", "\0")


def record_of(session: Session, web: WebContext, principal: Principal, collection: str,
              record_id: int) -> tuple[Layout, OdsRecord]:
    """A posted record the principal may see (another district's answers as not found)."""
    layout = layout_of(web, collection)
    record = session.get(OdsRecord, record_id)
    if record is None or record.record_type != layout.record_type or not (
            principal.covers(record.lea) or principal.covers(record.school)):
        raise Problem(404, f"There is no {layout.record_type} record {record_id} (of an "
                           "institution you act for).")
    return layout, record


def history_of(session: Session, record: OdsRecord) -> list[dict[str, Any]]:
    """Every change to the record, oldest first."""
    query = (select(RecordHistory, Submission.submitted_by, after_image())
             .join(Submission, Submission.id == RecordHistory.submission_id)
             .where(RecordHistory.record_type == record.record_type,
                    RecordHistory.op_key == record.op_key)
             .order_by(RecordHistory.id).limit(1000))
    return [{"action": h.action, "submission": h.submission_id, "by": by,
             "at": h.at.isoformat(timespec="seconds") + "Z", "before": h.before,
             "after": after} for h, by, after in session.execute(query)]


def record_json(layout: Layout, record: OdsRecord, history: bool = False,
                session: Session | None = None) -> dict[str, Any]:
    """A posted record as the API shows it (fields by name; SSNs hashed)."""
    found: dict[str, Any] = {
        "id": record.id, "key": record.op_key, "district": record.lea,
        "school": record.school, "submission": record.submission_id,
        "activity_date": record.updated_at.isoformat(timespec="seconds") + "Z",
        "fields": dict(zip([f.name for f in layout.fields], record.fields, strict=False))}
    if history and session is not None:
        found["history"] = history_of(session, record)
    return found


def editable(web: WebContext, layout: Layout) -> bool:
    """Whether records of the layout can be changed one at a time."""
    collection = next((c for c in web.catalog.collections.values()
                       if c.layout == layout.record_type), None)
    return (layout.method is Method.TRANSACTION and collection is not None
            and collection.posting is Posting.BY_METHOD)


async def edit_record(web: WebContext, principal: Principal, collection: str, record_id: int,
                      changes: dict[str, str], email: str | None) -> Submission:
    """Send the changed record through the pipeline; returns the job that carries it."""
    require(principal, "submit")
    with web.sessions() as session:
        layout, record = record_of(session, web, principal, collection, record_id)
        values = list(record.fields)
        lea = record.lea
    if not editable(web, layout):
        raise Problem(409, f"{layout.record_type} records are posted as a whole group; change "
                           "them by submitting the group's file again.")
    require_institution(principal, lea, submitting=True)
    names = [f.name for f in layout.fields]
    unknown = sorted(set(changes) - set(names))
    if unknown:
        raise Problem(422, f"{layout.record_type} has no field named "
                           f"{', '.join(repr(u[:40]) for u in unknown[:5])}.")
    if any(c in v for v in changes.values() for c in _FORBIDDEN):
        raise Problem(422, "A value cannot contain a line break.")
    for name, value in changes.items():
        values[names.index(name)] = value
    text = upload_text(layout, [values])
    code = next(c.code for c in web.catalog.collections.values()
                if c.layout == layout.record_type)
    recipient = (email or "").strip() or (principal.label if principal.kind == "user" else None)

    def work() -> tuple[Submission, list[int]]:
        with web.sessions.begin() as session:
            try:
                accepted = accept_upload(
                    session, web.catalog, web.store, stream=io.BytesIO(text.encode()),
                    filename=f"maintenance-{layout.record_type}-{record_id}.csv",
                    collection=code, institution_id=lea, submitted_by=recipient,
                    max_bytes=web.settings.pipeline.max_upload_bytes)
            except UploadRefused as refused:
                raise Problem(refused.status, refused.issue.message) from None
            return accepted.submission, accepted.outbox_ids

    submission, ids = await run_in_threadpool(work)
    await web.publish(ids)
    return submission
