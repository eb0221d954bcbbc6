"""How a submission moves towards its final state, and what is owed when it gets there.

Every submission ends posted, rejected or failed. This module is the one place that fails a
submission, writes its history (``submission_events``), owes its emails (a row in ``emails``
written in the same transaction as the milestone, sent later by notify) and keeps dead letters.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from shared.db.models import (
    FINAL_STATUSES,
    DeadLetter,
    Email,
    PostedSchool,
    StagedRecord,
    Submission,
    SubmissionEvent,
    utcnow,
)

MILESTONES = ("received", "rejected", "processed", "suggestions")


def record_event(session: Session, submission_id: int, kind: str, message: str) -> None:
    """Add a line to the submission's history."""
    session.add(SubmissionEvent(submission_id=submission_id, kind=kind, message=message))


def owe_email(session: Session, submission_id: int, milestone: str) -> None:
    """Owe the submitter the email of a milestone (once per round; notify sends it)."""
    found = session.execute(select(Submission.submitted_by, Submission.replays).where(
        Submission.id == submission_id)).first()
    if found is None:
        return
    recipient, round_ = found
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(dialect.insert(Email).values(
        submission_id=submission_id, milestone=milestone, round=round_, recipient=recipient,
        subject="", body="", status="pending", attempts=0, created_at=utcnow(),
        next_attempt_at=utcnow()).on_conflict_do_nothing())


def finished(session: Session, submission_id: int, status: str, message: str) -> None:
    """What every final status owes: a history line and the 'processed' email."""
    record_event(session, submission_id, status, message)
    owe_email(session, submission_id, "processed")


def fail(session: Session, submission_id: int, message: str) -> bool:
    """Mark a submission failed unless it is final already; returns whether it was failed now.

    A failed submission is final: it never blocks the files of its institution and collection
    behind it, its staged records go, and its submitter is emailed why.
    """
    now = utcnow()
    schools = session.scalar(select(func.count()).select_from(PostedSchool).where(
        PostedSchool.submission_id == submission_id)) or 0
    message += (f" {schools} schools of this large file had been posted, each whole, before "
                "the failure; the others were not." if schools else " Nothing of it was posted.")
    done = session.execute(update(Submission).where(
        Submission.id == submission_id, Submission.status.not_in(FINAL_STATUSES)).values(
        status="failed", message=message, finished_at=now, progress_at=now))
    if not done.rowcount:  # type: ignore[attr-defined]
        return False
    session.execute(delete(StagedRecord).where(StagedRecord.submission_id == submission_id))
    finished(session, submission_id, "failed", message)
    return True


def keep_dead_letter(session: Session, *, stage: str, topic: str, partition: int, offset: int,
                     key: bytes | None, value: bytes | None, submission_id: int | None,
                     reason: str, fail_submission: bool = True) -> int:
    """Keep an event a stage could not process and (unless told not to) fail its submission.
    Returns the letter's id."""
    letter = DeadLetter(stage=stage, topic=topic, partition=partition, offset=offset, key=key,
                        value=value, submission_id=submission_id, reason=reason)
    session.add(letter)
    session.flush()
    if (fail_submission and submission_id is not None
            and session.get(Submission, submission_id) is not None):
        fail(session, submission_id, (
            f"edcs could not process this file: the {stage} stage failed on it ({reason}). "
            f"The state's operators can see it as dead letter {letter.id}; once they have "
            "fixed the cause they can replay the file, or you can submit it again."))
    return letter.id


def to_redrive(session: Session) -> list[Submission]:
    """Submissions to send through the pipeline again after the broker lost its events: every
    one not final (half-posted large files are finished by the post stage instead)."""
    return list(session.scalars(select(Submission).where(
        Submission.status.not_in(FINAL_STATUSES), Submission.status != "posting")
        .order_by(Submission.id)))


def not_final_since(session: Session, before: dt.datetime) -> list[Submission]:
    """Submissions not final whose last progress is older than ``before``."""
    return list(session.scalars(select(Submission).where(
        Submission.status.not_in(FINAL_STATUSES),
        (Submission.progress_at.is_(None) & (Submission.received_at < before))
        | (Submission.progress_at < before)).order_by(Submission.id)))
