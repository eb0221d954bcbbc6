"""Post a whole staged submission in one transaction: Delete, then Add/Update, then Replace.

The transaction starts by claiming the submission (a conditional status update), so when two post
workers reach the barrier together only one posts, and a replay of a posted file posts nothing.
Staged records are streamed in chunks in file order; nothing holds the whole file in memory.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from services.post.planner import ADD, DELETE, REPLACE, KeyMaker
from shared.catalog.models import Acceptance, Collection, Layout
from shared.db.models import OdsRecord, RecordHistory, StagedRecord, Submission, SubmissionIssue
from shared.db.models import utcnow as now

CHUNK = 2000


@dataclass
class Outcome:
    """What posting did, for the job and the email."""

    status: str
    posted: int = 0
    rejected: int = 0
    warnings: int = 0
    message: str = ""
    notes: list[dict[str, Any]] = field(default_factory=list)


def claim(session: Session, submission_id: int) -> bool:
    """Take the submission for posting if all its records are staged and nobody else has."""
    result = session.execute(
        update(Submission)
        .where(Submission.id == submission_id,
               Submission.status.in_(("received", "processing")),
               Submission.expected_records.is_not(None),
               Submission.staged_records >= Submission.expected_records)
        .values(status="posting"))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def _staged(session: Session, submission_id: int, action: str) -> Iterator[list[StagedRecord]]:
    last = 0
    while True:
        chunk = list(session.scalars(
            select(StagedRecord)
            .where(StagedRecord.submission_id == submission_id, StagedRecord.action == action,
                   StagedRecord.row > last)
            .order_by(StagedRecord.row).limit(CHUNK)))
        if not chunk:
            return
        last = chunk[-1].row
        yield chunk


def _current(session: Session, record_type: str, keys: list[str]) -> dict[str, OdsRecord]:
    rows = session.scalars(select(OdsRecord).where(OdsRecord.record_type == record_type,
                                                   OdsRecord.op_key.in_(keys)))
    return {r.op_key: r for r in rows}


class Poster:
    """Applies one submission's staged records to the store."""

    def __init__(self, session: Session, submission: Submission, layout: Layout) -> None:
        self.session = session
        self.submission = submission
        self.layout = layout
        self.keys = KeyMaker(layout)
        self.outcome = Outcome(status="posted")
        self.history: list[dict[str, Any]] = []

    def _history(self, op_key: str, action: str, before: list[str] | None,
                 after: list[str] | None) -> None:
        self.history.append({"record_type": self.layout.record_type, "op_key": op_key,
                             "action": action, "before": before, "after": after,
                             "submission_id": self.submission.id, "at": now()})
        if len(self.history) >= CHUNK:
            self.flush()

    def flush(self) -> None:
        """Write buffered history rows."""
        if self.history:
            self.session.execute(insert(RecordHistory), self.history)
            self.history = []

    def _note(self, row: int, code: str, message: str) -> None:
        self.outcome.notes.append({
            "submission_id": self.submission.id, "row": row, "field": None,
            "field_name": None, "code": code, "severity": "warning", "message": message,
            "rule_id": None})
        self.outcome.warnings += 1

    def deletes(self) -> None:
        """D records: delete the stored record with the same operational key, if any."""
        for chunk in _staged(self.session, self.submission.id, DELETE):
            current = _current(self.session, self.layout.record_type,
                               [s.op_key for s in chunk if s.op_key])
            gone = []
            for staged in chunk:
                found = current.pop(staged.op_key or "", None)
                if found is None:
                    self._note(staged.row, "delete-missing",
                               f"Row {staged.row} deletes a record the store does not hold; "
                               "nothing was deleted.")
                    continue
                gone.append(found.id)
                self._history(found.op_key, "delete", found.fields, None)
            if gone:
                self.session.execute(delete(OdsRecord).where(OdsRecord.id.in_(gone)))
            self.outcome.posted += len(chunk)

    def adds(self, action: str = ADD) -> None:
        """A records (and members of a replace set after its first): insert or update by key."""
        for chunk in _staged(self.session, self.submission.id, action):
            latest: dict[str, StagedRecord] = {}
            for staged in chunk:  # the same key twice in a chunk: the later row wins
                latest[staged.op_key or ""] = staged
            current = _current(self.session, self.layout.record_type, list(latest))
            inserts, updates = [], []
            for key, staged in latest.items():
                fields = staged.fields or []
                values = {"fields": fields, "submission_id": self.submission.id,
                          "row": staged.row, "updated_at": now()}
                if key in current:
                    updates.append({"id": current[key].id, **values})
                    self._history(key, "update", current[key].fields, fields)
                else:
                    inserts.append({"record_type": self.layout.record_type, "op_key": key,
                                    "lea": self.keys.lea(fields),
                                    "school": self.keys.school(fields), **values})
                    self._history(key, "add", None, fields)
            if inserts:
                self.session.execute(insert(OdsRecord), inserts)
            if updates:
                self.session.execute(update(OdsRecord), updates)
            self.outcome.posted += len(chunk)

    def replaces(self) -> None:
        """R records: the first R of a replace set deletes the set's records, then all add."""
        seen: set[tuple[str, str | None]] = set()
        year_index = next((i for i, f in enumerate(self.layout.fields)
                           if f.name == "academic_year_id"), None)
        for chunk in _staged(self.session, self.submission.id, REPLACE):
            for staged in chunk:
                fields = staged.fields or []
                prefix = self.keys.set_prefix(fields)
                year = fields[year_index].strip() if year_index is not None else None
                if (prefix, year) not in seen:
                    seen.add((prefix, year))
                    self._clear_set(prefix, year, year_index)
        self.adds(REPLACE)

    def _clear_set(self, prefix: str, year: str | None, year_index: int | None) -> None:
        rows = self.session.scalars(select(OdsRecord).where(
            OdsRecord.record_type == self.layout.record_type,
            OdsRecord.op_key >= prefix, OdsRecord.op_key < prefix + "\uffff"))
        gone = [r for r in rows
                if year is None or year_index is None or r.fields[year_index].strip() == year]
        for r in gone:
            self._history(r.op_key, "replace", r.fields, None)
        if gone:
            self.session.execute(delete(OdsRecord).where(OdsRecord.id.in_([r.id for r in gone])))


def post_submission(session: Session, submission: Submission, collection: Collection,
                    layout: Layout) -> Outcome:
    """Apply the acceptance mode and post; the caller has claimed and will commit."""
    sid = submission.id
    fatal = session.scalar(select(func.count()).select_from(StagedRecord).where(
        StagedRecord.submission_id == sid, StagedRecord.fatal.is_(True))) or 0
    warnings = session.scalar(select(func.coalesce(func.sum(StagedRecord.warnings), 0)).where(
        StagedRecord.submission_id == sid)) or 0
    total = submission.expected_records or 0
    if fatal and collection.acceptance is Acceptance.ALL_OR_NOTHING:
        verb = "has" if fatal == 1 else "have"
        outcome = Outcome(status="rejected", rejected=fatal, warnings=warnings, message=(
            f"{fatal} of {total} records {verb} errors; nothing was posted. Fix the errors and "
            "submit the whole file again."))
    else:
        poster = Poster(session, submission, layout)
        poster.deletes()
        poster.adds()
        poster.replaces()
        poster.flush()
        outcome = poster.outcome
        outcome.rejected = fatal
        outcome.warnings += warnings
        outcome.message = f"{outcome.posted} of {total} records posted."
        if outcome.notes:
            session.execute(insert(SubmissionIssue), outcome.notes)
    session.execute(delete(StagedRecord).where(StagedRecord.submission_id == sid))
    session.execute(update(Submission).where(Submission.id == sid).values(
        status=outcome.status, records=total, posted=outcome.posted,
        rejected=outcome.rejected, warnings=outcome.warnings, message=outcome.message,
        finished_at=dt.datetime.now(dt.UTC).replace(tzinfo=None)))
    return outcome
