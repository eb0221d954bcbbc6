"""What a state operator does when something went wrong: replay, dead letters, failing a job.

- **Replay a submission** sends it through the pipeline again from its stored bytes. A file that
  failed, or was rejected by rules since corrected, starts a new round (its errors are cleared,
  it posts once, its submitter is emailed again); a file still in flight is sent through again
  as it is. A posted file is refused: replaying it would re-apply old data over any later file,
  and its records are in the store already.
- **Replay a topic** from a time re-reads what the topic received since then and publishes it
  again (see services.web.topic_replay); every stage is idempotent, so nothing posts twice.
- **Dead letters** (``dead_letters``) are listed without their values (which may hold student
  data) and replayed: the event is published again, or, when its submission failed because of
  it, the whole submission is replayed.
- **Fail a job**: an operator gives up on a file with a reason; the files behind it move on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, exists, select, update
from sqlalchemy.orm import Session

from shared.catalog.loader import Catalog
from shared.db.lifecycle import fail, record_event
from shared.db.models import (
    FINAL_STATUSES,
    DeadLetter,
    IssueCount,
    StagedRecord,
    Submission,
    SubmissionIssue,
    utcnow,
)
from shared.errors import PermanentError
from shared.filestore import FileStore
from shared.messaging import outbox
from shared.messaging.runner import Outgoing
from shared.redrive import redrive_event


class Refused(Exception):  # noqa: N818 - an answer to the operator, not a failure of edcs
    """The operation cannot be done; the message says why and what to do instead."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _submission(session: Session, submission_id: int) -> Submission:
    submission = session.get(Submission, submission_id)
    if submission is None:
        raise Refused(404, f"no submission {submission_id}")
    return submission


def replay_submission(session: Session, catalog: Catalog, store: FileStore,
                      submission_id: int, by: str = "an operator", force: bool = False
                      ) -> list[int]:
    """Send a submission through the pipeline again; returns the outbox ids to publish.

    ``force`` replays a failed or rejected file even though a later file of its institution
    and collection has posted since (its data then goes over the later file's)."""
    submission = _submission(session, submission_id)
    if submission.status == "posted":
        raise Refused(409, f"Submission {submission_id} is posted: its records are in the "
                           "store, and replaying it could put its data back over a later "
                           "file's. To send the same data again, submit the file again.")
    if submission.status == "rejected" and submission.expected_records is None:
        raise Refused(409, f"Submission {submission_id} was rejected at its preliminary checks "
                           f"({submission.message}); submit a corrected file.")
    later = session.scalar(select(exists().where(
        Submission.institution_id == submission.institution_id,
        Submission.collection == submission.collection, Submission.id > submission.id,
        Submission.status == "posted")))
    if submission.status in FINAL_STATUSES and later and not force:
        raise Refused(409, f"A later file of institution {submission.institution_id} for "
                           f"{submission.collection} has posted since submission "
                           f"{submission_id}; replaying it would put its older data over the "
                           "later file's where they share records. Replay it with --force if "
                           "that is what is wanted.")
    try:
        event = redrive_event(catalog, store, submission)
    except PermanentError as exc:
        raise Refused(409, f"Submission {submission_id} cannot be replayed: {exc.reason}. "
                           f"{exc.advice or ''}".strip()) from exc
    now = utcnow()
    if submission.status in FINAL_STATUSES:
        for table in (StagedRecord, SubmissionIssue, IssueCount):
            session.execute(delete(table).where(table.submission_id == submission_id))
        session.execute(update(Submission).where(Submission.id == submission_id).values(
            status="received", replays=Submission.replays + 1, redrives=0,
            expected_records=None, staged_records=0, staged_marks=0, marked_records=0,
            records=0, posted=0, rejected=0, warnings=0, held=0, message=None, finished_at=None,
            progress_at=now))
        record_event(session, submission_id, "replayed",
                     f"Replayed by {by} from the stored file (it was {submission.status}); "
                     "it is checked and posted again from the start.")
    else:
        session.execute(update(Submission).where(Submission.id == submission_id).values(
            progress_at=now))
        record_event(session, submission_id, "replayed",
                     f"Sent through again by {by} from the stored file; records already "
                     "processed are not processed twice.")
    return outbox.put(session, [event])


def fail_submission(session: Session, submission_id: int, reason: str) -> None:
    """An operator gives up on a submission that is not final."""
    submission = _submission(session, submission_id)
    if not reason.strip():
        raise Refused(422, "Say why the submission is failed (--fail REASON).")
    if not fail(session, submission_id, f"Failed by an operator: {reason.strip()}."):
        raise Refused(409, f"Submission {submission_id} is already {submission.status}.")


def letter_json(letter: DeadLetter, with_value: bool = False) -> dict[str, Any]:
    """A dead letter as the API shows it; the value only when asked (it may hold student
    data)."""
    found: dict[str, Any] = {
        "id": letter.id, "at": letter.at.isoformat(timespec="seconds") + "Z",
        "stage": letter.stage, "topic": letter.topic, "partition": letter.partition,
        "offset": letter.offset, "submission": letter.submission_id, "reason": letter.reason,
        "bytes": len(letter.value or b""),
        "replayed_at": letter.replayed_at.isoformat(timespec="seconds") + "Z"
        if letter.replayed_at else None}
    if with_value:
        found["key"] = (letter.key or b"").decode("utf-8", "replace")
        found["value"] = (letter.value or b"").decode("utf-8", "replace")
    return found


def dead_letters(session: Session, limit: int = 200) -> list[DeadLetter]:
    """The newest dead letters first."""
    return list(session.scalars(select(DeadLetter).order_by(DeadLetter.id.desc())
                                .limit(limit)))


@dataclass
class LetterReplay:
    """What replaying a dead letter did."""

    outbox_ids: list[int]
    replayed_submission: int | None


def replay_letter(session: Session, catalog: Catalog, store: FileStore,
                  letter_id: int, force: bool = False) -> LetterReplay:
    """Publish a dead letter again, or replay the submission it failed."""
    letter = session.get(DeadLetter, letter_id)
    if letter is None:
        raise Refused(404, f"no dead letter {letter_id}")
    submission = (session.get(Submission, letter.submission_id)
                  if letter.submission_id is not None else None)
    now = utcnow()
    if submission is not None and submission.status == "failed":
        ids = replay_submission(session, catalog, store, submission.id,
                                by=f"an operator (dead letter {letter_id})", force=force)
        session.execute(update(DeadLetter).where(
            DeadLetter.submission_id == submission.id, DeadLetter.replayed_at.is_(None))
            .values(replayed_at=now))
        return LetterReplay(ids, submission.id)
    if letter.replayed_at is not None:
        raise Refused(409, f"Dead letter {letter_id} was replayed already.")
    if letter.value is None:
        raise Refused(409, f"Dead letter {letter_id} has no value to publish.")
    ids = outbox.put(session, [Outgoing(letter.topic, letter.key or b"", letter.value)])
    letter.replayed_at = now
    return LetterReplay(ids, None)
