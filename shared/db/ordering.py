"""Files of one institution and collection post in the order they were received.

The later file's data wins, whatever order the records of in-flight files finish validating in.
Post uses these to decide what may post next; the web app to say what a job waits for.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, exists, func, select
from sqlalchemy.orm import Session, aliased

from shared.db.models import FINAL_STATUSES, Submission


def earlier_in_flight() -> ColumnElement[bool]:
    """For a statement on Submission: an earlier, not yet final file of the same institution
    and collection exists (correlated to the outer Submission row)."""
    prior = aliased(Submission)
    return exists().where(prior.institution_id == Submission.institution_id,
                          prior.collection == Submission.collection,
                          prior.id < Submission.id,
                          prior.status.not_in(FINAL_STATUSES))


def _neighbour(session: Session, submission: Submission, *, before: bool) -> int | None:
    side = Submission.id < submission.id if before else Submission.id > submission.id
    pick = func.min(Submission.id)
    return session.scalar(select(pick).where(
        Submission.institution_id == submission.institution_id,
        Submission.collection == submission.collection, side,
        Submission.status.not_in(FINAL_STATUSES)))


def waiting_for(session: Session, submission: Submission) -> int | None:
    """The earliest file this one must wait for, if any."""
    if submission.status in FINAL_STATUSES:
        return None
    return _neighbour(session, submission, before=True)


def next_in_line(session: Session, submission_id: int) -> int | None:
    """The next file of the same institution and collection that is not final yet."""
    current = session.get(Submission, submission_id)
    return _neighbour(session, current, before=False) if current is not None else None
