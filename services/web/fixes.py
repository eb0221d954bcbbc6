"""Correcting a held record (Oregon Review Errors, "Error Information" form).

The corrected record goes through the pipeline as a file of one record, so it is validated and
posted exactly like a file. The held row stays where it is (same submission, same row) until
the correction posts: a correction that still has errors updates the held row's values and
errors, and the row can be fixed again. While a correction of a row is in flight, the same
correction sent again (a double click, a retried request) answers with that job; another one is
refused until the first has finished.
"""

from __future__ import annotations

import hashlib
import io

from fastapi.concurrency import run_in_threadpool
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from services.web.context import WebContext
from services.web.problems import Problem
from services.web.records import upload_text
from services.web.scoping import submission_of
from services.web.security import require
from services.web.submissions import UploadRefused, accept_upload
from shared.accounts import Principal
from shared.catalog.models import Layout
from shared.db.models import FINAL_STATUSES, HeldRecord, Submission

_FORBIDDEN = ("\r", "\n", "\0")


def held_of(session: Session, web: WebContext, principal: Principal, submission_id: int,
            row: int) -> tuple[Submission, Layout, HeldRecord]:
    """The held record, if the principal may see it."""
    submission = submission_of(session, principal, submission_id)
    held = session.get(HeldRecord, (submission_id, row))
    if held is None:
        raise Problem(404, f"Submission {submission_id} holds no record with errors at row "
                           f"{row} (it may have been fixed, or deleted in Housekeeping).")
    return submission, layout_of(web, submission.collection), held


def layout_of(web: WebContext, code: str) -> Layout:
    """The layout of a collection code."""
    collection = web.catalog.collection(code)
    if collection is None:
        raise Problem(404, "There is no such collection.")
    return web.catalog.layout_of(collection)


def fixed_values(layout: Layout, held: HeldRecord, changes: dict[str, str]) -> list[str]:
    """The held record's values with the changes applied; refuses unknown fields and values
    that would break the one-record file."""
    names = [f.name for f in layout.fields]
    unknown = sorted(set(changes) - set(names))
    if unknown:
        raise Problem(422, f"{layout.record_type} has no field named "
                           f"{', '.join(repr(u[:40]) for u in unknown[:5])}; its fields are "
                           f"{', '.join(names)}.")
    broken = sorted(n for n, v in changes.items() if any(c in v for c in _FORBIDDEN))
    if broken:
        raise Problem(422, f"A value cannot contain a line break: {', '.join(broken)}.")
    current = held.fields or [""] * len(names)
    return [changes.get(n, current[i]) for i, n in enumerate(names)]


async def fix(web: WebContext, principal: Principal, submission_id: int, row: int,
              changes: dict[str, str], email: str | None) -> Submission:
    """Send the corrected record through the pipeline; returns the job that carries it."""
    require(principal, "submit")
    recipient = (email or "").strip() or (principal.label if principal.kind == "user" else None)

    def work() -> tuple[Submission, list[int]]:
        with web.sessions.begin() as session:
            # Take the held row (a row lock; the write lock on SQLite) before deciding.
            session.execute(update(HeldRecord).where(
                HeldRecord.submission_id == submission_id, HeldRecord.row == row)
                .values(fixing_submission_id=HeldRecord.fixing_submission_id))
            original, layout, held = held_of(session, web, principal, submission_id, row)
            text = upload_text(layout, [fixed_values(layout, held, changes)])
            sha = hashlib.sha256(text.encode()).hexdigest()
            if held.fixing_submission_id is not None:
                running = session.get(Submission, held.fixing_submission_id)
                if running is not None and running.status not in FINAL_STATUSES:
                    if running.sha256 == sha:
                        return running, []
                    raise Problem(409, f"Row {row} is being corrected by submission "
                                       f"{running.id}; wait for its result, then fix the row "
                                       "again if it still has errors.")
            try:
                accepted = accept_upload(
                    session, web.catalog, web.store, stream=io.BytesIO(text.encode()),
                    filename=f"fix-{submission_id}-{row}.csv", collection=original.collection,
                    institution_id=original.institution_id, submitted_by=recipient,
                    max_bytes=web.settings.pipeline.max_upload_bytes,
                    fixes=(submission_id, row))
            except UploadRefused as refused:
                raise Problem(refused.status, refused.issue.message) from None
            held.fixing_submission_id = accepted.submission.id
            return accepted.submission, accepted.outbox_ids

    submission, ids = await run_in_threadpool(work)
    await web.publish(ids)
    return submission


def held_rows(session: Session, submission_id: int, code: str | None = None,
              limit: int | None = None, after: int = 0) -> list[HeldRecord]:
    """The submission's held records in row order (only those with an error of ``code``)."""
    query = (select(HeldRecord).where(HeldRecord.submission_id == submission_id,
                                      HeldRecord.row > after).order_by(HeldRecord.row))
    rows = list(session.scalars(query))
    if code is not None:
        rows = [h for h in rows if any(i.get("code") == code for i in h.issues)]
    return rows[:limit] if limit is not None else rows
