"""Accepting an upload: preliminary checks, content-addressed storage, the job row, events."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any, BinaryIO

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from shared.catalog.loader import Catalog, default_catalog
from shared.catalog.models import Posting
from shared.db.issue_counts import keep_issues, totals
from shared.db.lifecycle import owe_email, record_event
from shared.db.models import (
    FINAL_STATUSES,
    Email,
    Institution,
    Submission,
    SubmissionEvent,
    SubmissionIssue,
    utcnow,
)
from shared.db.ordering import waiting_for
from shared.events.models import SubmissionStatus
from shared.events.topics import Topic
from shared.filestore import FileStore
from shared.intake import DEFAULT_MAX_UNPACKED, check_upload, email_problem
from shared.issues import Issue
from shared.messaging import outbox
from shared.messaging.runner import Outgoing, submission_key
from shared.reader import file_issue
from shared.redrive import received_event


@dataclass
class Accepted:
    """A stored upload: its job, and the outbox rows to publish once the job is committed."""

    submission: Submission
    outbox_ids: list[int]


class UploadRefused(Exception):  # noqa: N818 - a refusal, not a failure of edcs
    """The upload names something that does not exist; no job is created."""

    def __init__(self, status: int, issue: Issue) -> None:
        super().__init__(issue.message)
        self.status = status
        self.issue = issue


def safe_filename(name: str) -> str:
    """A file name as edcs keeps and shows it: no folders, no control characters (which could
    forge lines in an email), at most 255 characters."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join("_" if unicodedata.category(c)[0] == "C" else c for c in name).strip()
    return name[:255] or "upload"


def in_flight_duplicate(session: Session, institution_id: str, collection: str,
                        sha: str) -> Submission | None:
    """The same file of the same institution and collection, still being processed."""
    return session.scalar(select(Submission).where(
        Submission.institution_id == institution_id, Submission.collection == collection,
        Submission.sha256 == sha, Submission.status.not_in(FINAL_STATUSES),
        Submission.fixes_submission_id.is_(None)).limit(1))


def accept_upload(session: Session, catalog: Catalog, store: FileStore, *, stream: BinaryIO,
                  filename: str, collection: str, institution_id: str, submitted_by: str | None,
                  max_bytes: int, fixes: tuple[int, int] | None = None,
                  resolves: int | None = None,
                  max_unpacked: int = DEFAULT_MAX_UNPACKED) -> Accepted:
    """Run the preliminary checks and create the job (committed by the caller).

    The job's events go to the outbox and its first email is owed, in the same transaction:
    the caller publishes them after the commit (shared.messaging.outbox). The same file sent
    again while the first is in flight (a double click, a retried request) is refused, naming
    the job that has it: uploads of one institution are serialised on its row for that check.
    """
    collection = collection.strip().upper()
    if catalog.collection(collection) is None:
        raise UploadRefused(422, check_upload(catalog, collection, None).issues[0])
    institution = session.get(Institution, institution_id)
    if institution is None:
        raise UploadRefused(404, file_issue(
            "unknown-institution", f"Institution '{institution_id}' is not known to edcs."))
    if submitted_by:
        problem = email_problem(submitted_by)
        if problem is not None:
            raise UploadRefused(422, file_issue(
                "invalid-email", f"The email address for results is not valid: {problem}."))
    try:
        sha, size = store.put(stream, max_bytes)
    except ValueError:
        raise UploadRefused(413, file_issue(
            "file-too-large", f"The file is larger than the limit of {max_bytes} bytes.")
        ) from None
    # Serialise this institution's uploads from here to the commit (a row lock on PostgreSQL,
    # the write lock on SQLite): the duplicate check below cannot race another upload.
    session.execute(update(Institution).where(Institution.id == institution_id)
                    .values(id=Institution.id))
    if fixes is None:
        twin = in_flight_duplicate(session, institution_id, collection, sha)
        if twin is not None:
            raise UploadRefused(409, file_issue(
                "duplicate-upload", f"This file is already being processed as submission "
                                    f"{twin.id}; wait for its result before sending it again."))
    with store.open(sha) as fh:
        intake = check_upload(catalog, collection, fh, filename=safe_filename(filename),
                              institution_id=institution_id, max_unpacked=max_unpacked)
    now = utcnow()
    submission = Submission(
        collection=collection, institution_id=institution_id,
        filename=safe_filename(filename),
        sha256=sha, size_bytes=size, submitted_by=submitted_by or institution.contact_email,
        status="received" if intake.accepted else "rejected", received_at=now,
        progress_at=now,
        fixes_submission_id=fixes[0] if fixes else None, fixes_row=fixes[1] if fixes else None,
        resolves_suggestion_id=resolves, period=intake.period)
    session.add(submission)
    session.flush()
    key = submission_key(submission.id)
    if not intake.accepted or intake.delimiter is None:
        submission.message = " ".join(i.message for i in intake.issues)
        submission.finished_at = submission.received_at
        keep_issues(session, submission.id, [
            (submission.id, i.row, i.field, i.field_name, i.code, i.severity.value, i.message,
             i.rule_id) for i in intake.issues], cap=len(intake.issues))
        record_event(session, submission.id, "rejected", submission.message)
        owe_email(session, submission.id, "rejected")
        status = SubmissionStatus(submission_id=submission.id, milestone="rejected",
                                  status="rejected")
        events = [Outgoing(Topic.SUBMISSIONS_STATUS, key, status.model_dump_json().encode())]
        return Accepted(submission, outbox.put(session, events))
    shown = f" ({intake.format.describe()})" if intake.format is not None else ""
    record_event(session, submission.id, "received",
                 f"Received {size} bytes{shown}; the file passed the preliminary checks.")
    owe_email(session, submission.id, "received")
    status = SubmissionStatus(submission_id=submission.id, milestone="received",
                              status="received")
    events = [received_event(submission, intake.delimiter),
              Outgoing(Topic.SUBMISSIONS_STATUS, key, status.model_dump_json().encode())]
    return Accepted(submission, outbox.put(session, events))


def standing(session: Session, submission: Submission) -> str | None:
    """Full-replacement collections (SSCE; EDFacts per reporting period): the institution's
    latest posted file (of the period) is the active submission, earlier ones are archived;
    None for other collections and unposted files."""
    collection = default_catalog().collection(submission.collection)
    if (collection is None or collection.posting is not Posting.FULL_REPLACEMENT
            or submission.status != "posted"):
        return None
    latest = session.scalar(select(func.max(Submission.id)).where(
        Submission.institution_id == submission.institution_id,
        Submission.collection == submission.collection, Submission.status == "posted",
        Submission.period.is_not_distinct_from(submission.period)))
    return "active" if latest == submission.id else "archived"


def job_json(session: Session, submission: Submission, base_url: str) -> dict[str, Any]:
    """The job as the API and ``edcs job`` show it."""
    counts = totals(session, submission.id)
    link = f"{base_url.rstrip('/')}"
    api = f"{link}/api/v1/submissions/{submission.id}"
    fixes = ({"submission": submission.fixes_submission_id, "row": submission.fixes_row}
             if submission.fixes_submission_id is not None else None)
    return {
        "id": submission.id, "collection": submission.collection,
        "institution": submission.institution_id, "filename": submission.filename,
        "status": submission.status, "final": submission.status in FINAL_STATUSES,
        "records": submission.expected_records if submission.expected_records is not None
        else submission.records if submission.status in FINAL_STATUSES else None,
        "staged": submission.staged_records, "posted": submission.posted,
        "rejected": submission.rejected, "warnings": submission.warnings,
        "held": submission.held, "standing": standing(session, submission), "fixes": fixes,
        "suggested": submission.suggested, "resolves": submission.resolves_suggestion_id,
        "issues": sum(counts.values()), "issue_counts": counts,
        "message": submission.message,
        "waiting_for": waiting_for(session, submission),
        "redrives": submission.redrives, "replays": submission.replays,
        "history": history_of(session, submission.id),
        "emails": [{"milestone": e.milestone, "round": e.round, "status": e.status,
                    "attempts": e.attempts, "error": e.error} for e in session.scalars(
                        select(Email).where(Email.submission_id == submission.id)
                        .order_by(Email.id))],
        "received_at": submission.received_at.isoformat(timespec="seconds") + "Z",
        "finished_at": submission.finished_at.isoformat(timespec="seconds") + "Z"
        if submission.finished_at else None,
        "links": {"page": f"{link}/jobs/{submission.id}",
                  "errors_page": f"{link}/jobs/{submission.id}/errors",
                  "issues_csv": f"{api}/issues.csv", "issues": f"{api}/issues",
                  "held": f"{api}/held", "file": f"{api}/file"},
    }


def history_of(session: Session, submission_id: int) -> list[dict[str, str]]:
    """What happened to the submission, oldest first."""
    return [{"at": e.at.isoformat(timespec="seconds") + "Z", "kind": e.kind,
             "message": e.message} for e in session.scalars(
                 select(SubmissionEvent).where(SubmissionEvent.submission_id == submission_id)
                 .order_by(SubmissionEvent.id))]


def issues_of(session: Session, submission_id: int, limit: int | None = None,
              offset: int = 0, code: str | None = None) -> list[SubmissionIssue]:
    """The submission's issues in file order (file-level first)."""
    query = (select(SubmissionIssue).where(SubmissionIssue.submission_id == submission_id)
             .order_by(SubmissionIssue.row.is_not(None), SubmissionIssue.row, SubmissionIssue.id)
             .offset(offset))
    if code is not None:
        query = query.where(SubmissionIssue.code == code)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))
