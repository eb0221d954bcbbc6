"""Post a whole staged submission in one transaction: Delete, then Add/Update, then Replace.

The transaction starts by claiming the submission (a conditional status update), so when two post
workers reach the barrier together only one posts, and a replay of a posted file posts nothing.
Every step is one set-based statement over the staged records (``INSERT … SELECT``,
``UPDATE … FROM``, ``DELETE … WHERE IN``), the same on SQLite and PostgreSQL: the store copies
records from staging to the ODS itself, and no record passes through Python. That is what lets a
500,000-record file post in seconds (CFS §1.3 order; design.md §4 decisions).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    String,
    and_,
    cast,
    delete,
    exists,
    func,
    insert,
    literal,
    null,
    select,
    update,
)
from sqlalchemy.orm import Session

from services.post.planner import ADD, DELETE, REPLACE
from shared.catalog.models import Acceptance, Collection, Layout
from shared.db.issue_counts import add_counts
from shared.db.models import (
    FINAL_STATUSES,
    OdsRecord,
    RecordHistory,
    StagedRecord,
    Submission,
    SubmissionIssue,
)
from shared.db.ordering import earlier_in_flight

STAGED, ODS, HISTORY = StagedRecord, OdsRecord, RecordHistory
HISTORY_COLUMNS = ["record_type", "op_key", "action", "before", "after", "submission_id", "at"]


@dataclass
class Outcome:
    """What posting did, for the job and the email."""

    status: str
    posted: int = 0
    rejected: int = 0
    warnings: int = 0
    message: str = ""


def claim(session: Session, submission_id: int) -> bool:
    """Take the submission for posting if all its records are staged, no earlier file of the
    same institution and collection is still in flight, and nobody else has taken it."""
    result = session.execute(
        update(Submission)
        .where(Submission.id == submission_id,
               Submission.status.in_(("received", "processing")),
               Submission.expected_records.is_not(None),
               Submission.staged_records >= Submission.expected_records,
               ~earlier_in_flight())
        .values(status="posting"))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def _count(result: Any) -> int:
    return int(result.rowcount or 0)


class Poster:
    """Applies one submission's staged records to the store, statement by statement."""

    def __init__(self, session: Session, submission_id: int, layout: Layout,
                 max_issues_per_code: int) -> None:
        self.session = session
        self.cap = max_issues_per_code
        self.sid = submission_id
        self.record_type = layout.record_type
        self.now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        self.warnings = 0

    def _staged(self, action: str) -> ColumnElement[bool]:
        return and_(STAGED.submission_id == self.sid, STAGED.action == action)

    def _stored(self) -> ColumnElement[bool]:
        """Stored records of this record type with the staged record's operational key."""
        return and_(ODS.record_type == self.record_type, ODS.op_key == STAGED.op_key)

    def _history_of_stored(self, action: str, keys: Any, column: Any) -> None:
        """History rows for stored records about to be deleted or replaced."""
        self.session.execute(insert(HISTORY).from_select(
            HISTORY_COLUMNS,
            select(ODS.record_type, ODS.op_key, literal(action), ODS.fields, null(),
                   literal(self.sid), literal(self.now))
            .where(ODS.record_type == self.record_type, column.in_(keys))))

    def _warn(self, where: ColumnElement[bool], *, code: str, says: str) -> None:
        """A warning on every staged record matching ``where``: 'Row N <says>' (rows kept up to
        the cap per code, all counted)."""
        total = self.session.scalar(select(func.count()).select_from(STAGED).where(where)) or 0
        if not total:
            return
        before = add_counts(self.session, self.sid, {code: total}).get(code, 0)
        rows = (select(STAGED.submission_id, STAGED.row, literal(code), literal("warning"),
                       literal("Row ") + cast(STAGED.row, String) + literal(" " + says))
                .where(where).order_by(STAGED.row).limit(max(0, self.cap - before)))
        self.session.execute(insert(SubmissionIssue).from_select(
            ["submission_id", "row", "code", "severity", "message"], rows))
        self.warnings += total

    def deletes(self) -> int:
        """D: delete the stored record with the same key; a missing one is a warning."""
        self._warn(and_(self._staged(DELETE), ~exists().where(self._stored())),
                   code="delete-missing",
                   says="deletes a record the store does not hold; nothing was deleted.")
        keys = select(STAGED.op_key).where(self._staged(DELETE))
        self._history_of_stored("delete", keys, ODS.op_key)
        self.session.execute(delete(ODS).where(ODS.record_type == self.record_type,
                                             ODS.op_key.in_(keys)))
        return self._total(DELETE)

    def adds(self, action: str = ADD) -> int:
        """A (and R after its set is cleared): update the stored record or insert a new one.

        Two records with the same key in one file: the later row wins (the earlier ones are
        marked superseded first, so each key is written once).
        """
        duplicated = (select(STAGED.op_key).where(self._staged(action))
                      .group_by(STAGED.op_key).having(func.count() > 1).limit(1))
        if self.session.scalar(duplicated) is not None:
            ranked = (select(STAGED.row, func.row_number().over(
                partition_by=STAGED.op_key, order_by=STAGED.row.desc()).label("rank"))
                .where(self._staged(action)).subquery())
            self.session.execute(update(STAGED).where(
                STAGED.submission_id == self.sid,
                STAGED.row.in_(select(ranked.c.row).where(ranked.c.rank > 1))
            ).values(action="-"))
        total = self._total(action) + self._total("-")
        self.session.execute(insert(HISTORY).from_select(
            HISTORY_COLUMNS,
            select(ODS.record_type, ODS.op_key, literal("update"), ODS.fields, STAGED.fields,
                   literal(self.sid), literal(self.now))
            .where(self._staged(action), self._stored())))
        self.session.execute(
            update(ODS).where(self._staged(action), self._stored())
            .values(fields=STAGED.fields, set_key=STAGED.set_key, submission_id=self.sid,
                    row=STAGED.row, updated_at=self.now))
        fresh = and_(self._staged(action), ~exists().where(self._stored()))
        self.session.execute(insert(HISTORY).from_select(
            HISTORY_COLUMNS,
            select(literal(self.record_type), STAGED.op_key, literal("add"), null(), STAGED.fields,
                   literal(self.sid), literal(self.now)).where(fresh)))
        self.session.execute(insert(ODS).from_select(
            ["record_type", "op_key", "set_key", "lea", "school", "fields", "submission_id",
             "row", "updated_at"],
            select(literal(self.record_type), STAGED.op_key, STAGED.set_key, STAGED.lea,
                   STAGED.school, STAGED.fields, literal(self.sid), STAGED.row,
                   literal(self.now)).where(fresh)))
        self.session.execute(update(STAGED).where(STAGED.submission_id == self.sid,
                                                  STAGED.action == "-").values(action=action))
        return total

    def replaces(self) -> int:
        """R: every stored record of each submitted replace set goes, then the set is added."""
        sets = select(STAGED.set_key).where(self._staged(REPLACE), STAGED.set_key.is_not(None))
        self._history_of_stored("replace", sets, ODS.set_key)
        self.session.execute(delete(ODS).where(ODS.record_type == self.record_type,
                                             ODS.set_key.in_(sets)))
        return self.adds(REPLACE)

    def _total(self, action: str) -> int:
        return self.session.scalar(select(func.count()).select_from(STAGED).where(
            self._staged(action))) or 0


def clear_staging(session: Session, submission_ids: list[int] | None = None) -> int:
    """Remove staged records of submissions that reached a final status (after they post, and
    at worker start for any a crash left behind); returns how many rows went."""
    finished = select(Submission.id).where(Submission.status.in_(FINAL_STATUSES))
    if submission_ids is not None:
        finished = finished.where(Submission.id.in_(submission_ids))
    return _count(session.execute(delete(STAGED).where(STAGED.submission_id.in_(finished))))


def post_submission(session: Session, submission: Submission, collection: Collection,
                    layout: Layout, max_issues_per_code: int = 1000) -> Outcome:
    """Apply the acceptance mode and post; the caller has claimed and will commit."""
    sid = submission.id
    fatal = session.scalar(select(func.count()).select_from(STAGED).where(
        STAGED.submission_id == sid, STAGED.fatal.is_(True))) or 0
    warnings = session.scalar(select(func.coalesce(func.sum(STAGED.warnings), 0)).where(
        STAGED.submission_id == sid)) or 0
    total = submission.expected_records or 0
    if fatal and collection.acceptance is Acceptance.ALL_OR_NOTHING:
        verb = "has" if fatal == 1 else "have"
        outcome = Outcome(status="rejected", rejected=fatal, warnings=warnings, message=(
            f"{fatal} of {total} records {verb} errors; nothing was posted. Fix the errors and "
            "submit the whole file again."))
    else:
        poster = Poster(session, sid, layout, max_issues_per_code)
        posted = poster.deletes() + poster.adds() + poster.replaces()
        outcome = Outcome(status="posted", posted=posted, rejected=fatal,
                          warnings=warnings + poster.warnings,
                          message=f"{posted} of {total} records posted.")
    session.execute(update(Submission).where(Submission.id == sid).values(
        status=outcome.status, records=total, posted=outcome.posted,
        rejected=outcome.rejected, warnings=outcome.warnings, message=outcome.message,
        finished_at=dt.datetime.now(dt.UTC).replace(tzinfo=None)))
    return outcome
