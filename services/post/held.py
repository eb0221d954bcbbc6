"""Records with errors of a valid-records-post file (ODE-SSID), kept to be fixed (Oregon
Review Errors), and what a correction of one does to it."""

from __future__ import annotations

from sqlalchemy import and_, cast, delete, func, insert, literal, select, update
from sqlalchemy.orm import Session

from services.post.tables import STAGED
from shared.db.models import HeldRecord, Submission


def hold_fatal(session: Session, submission: Submission) -> None:
    """valid-records-post: keep the records with errors, with all their issues, to be fixed.

    A correction of a held record that still has errors is not held again under its own job:
    the held record it corrects takes its values and errors, and stays where it was (same
    submission and row), to be fixed again."""
    sid = submission.id
    if submission.fixes_submission_id is not None:
        staged = session.execute(select(STAGED.fields, STAGED.issues).where(
            STAGED.submission_id == sid, STAGED.fatal.is_(True)).order_by(STAGED.row)
            .limit(1)).first()
        if staged is not None:
            session.execute(update(HeldRecord).where(
                HeldRecord.submission_id == submission.fixes_submission_id,
                HeldRecord.row == submission.fixes_row).values(
                fields=staged.fields, issues=staged.issues or [],
                fixing_submission_id=None))
        return
    session.execute(insert(HeldRecord).from_select(
        ["submission_id", "row", "institution_id", "collection", "fields", "issues"],
        select(STAGED.submission_id, STAGED.row, literal(submission.institution_id),
               literal(submission.collection), STAGED.fields,
               func.coalesce(STAGED.issues, cast(literal("[]"), STAGED.issues.type)))
        .where(STAGED.submission_id == sid, STAGED.fatal.is_(True))))


def settle_fix(session: Session, fix: Submission, posted: bool) -> None:
    """A correction that posted takes its held record off the list (and off its file's count
    of held records); one that did not leaves it there, free to be fixed again."""
    held = and_(HeldRecord.submission_id == fix.fixes_submission_id,
                HeldRecord.row == fix.fixes_row)
    if not posted:
        session.execute(update(HeldRecord).where(
            held, HeldRecord.fixing_submission_id == fix.id).values(fixing_submission_id=None))
        return
    gone = session.execute(delete(HeldRecord).where(held))
    if gone.rowcount:  # type: ignore[attr-defined]
        session.execute(update(Submission).where(
            Submission.id == fix.fixes_submission_id, Submission.held > 0).values(
            held=Submission.held - 1))
