"""Housekeeping (Oregon seed): the files that still have records not posted (held with errors),
and deleting them: "Deleting a file mass-deletes its non-posted records and clears its errors
from Review Errors"; its records must then be submitted again."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select, update

from services.web.context import WebContext
from services.web.scoping import submission_of, within
from services.web.security import require
from shared.accounts import Principal
from shared.db.models import HeldRecord, Submission


def delete_held(web: WebContext, principal: Principal, submission_id: int) -> int:
    """Delete the file's held records; returns how many went."""
    require(principal, "submit")
    with web.sessions.begin() as session:
        submission_of(session, principal, submission_id)
        gone = session.execute(delete(HeldRecord).where(
            HeldRecord.submission_id == submission_id))
        session.execute(update(Submission).where(Submission.id == submission_id)
                        .values(held=0))
    return int(gone.rowcount or 0)  # type: ignore[attr-defined]


def files_with_held(web: WebContext, principal: Principal) -> list[dict[str, Any]]:
    """The user's files that still hold records with errors, newest first."""
    query = (select(Submission, func.count(HeldRecord.row))
             .join(HeldRecord, HeldRecord.submission_id == Submission.id)
             .where(within(Submission.institution_id, principal))
             .group_by(Submission.id).order_by(Submission.id.desc()).limit(500))
    with web.sessions() as session:
        return [{"id": s.id, "collection": s.collection, "institution": s.institution_id,
                 "filename": s.filename, "received_at": s.received_at, "held": n}
                for s, n in session.execute(query)]
