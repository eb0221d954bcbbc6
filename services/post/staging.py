"""Stage validated records per submission until the whole file is there (the barrier).

Staging is idempotent: a batch delivered twice (a replay, a worker restart) stages each row once,
so the count that opens the barrier is the number of distinct rows, whatever the redeliveries.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Table, insert, select, update
from sqlalchemy.orm import Session

from services.post.planner import KeyMaker
from shared.db.models import Base, StagedRecord, Submission, SubmissionIssue
from shared.events.models import EndOfFile, Record, RecordBatch


def _table(model: type[Base]) -> Table:
    """The Core table of a model: inserting into it skips the ORM's per-row bookkeeping."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


def _issue_rows(submission_id: int, records: Sequence[Record]) -> list[dict[str, object]]:
    return [{"submission_id": submission_id, "row": i.row, "field": i.field,
             "field_name": i.field_name, "code": i.code, "severity": i.severity.value,
             "message": i.message, "rule_id": i.rule_id}
            for r in records for i in r.issues]


def stage_batches(session: Session, submission_id: int, batches: Sequence[RecordBatch],
                  keys: KeyMaker) -> int:
    """Stage the records of these batches not staged yet; returns how many were new."""
    rows = [r.row for b in batches for r in b.records]
    existing: set[int] = set()
    for start in range(0, len(rows), 900):
        chunk = rows[start:start + 900]
        existing.update(session.scalars(select(StagedRecord.row).where(
            StagedRecord.submission_id == submission_id, StagedRecord.row.in_(chunk))))
    new = [r for b in batches for r in b.records if r.row not in existing]
    unique: dict[int, Record] = {r.row: r for r in new}  # the same row twice in one fetch
    if not unique:
        return 0
    staged = []
    for r in unique.values():
        fields = r.fields
        fatal = fields is None or any(i.fatal for i in r.issues)
        action = keys.action(fields) if fields is not None and not fatal else None
        row: dict[str, object] = {
            "submission_id": submission_id, "row": r.row, "fields": fields, "fatal": fatal,
            "action": action, "op_key": None, "set_key": None, "lea": None, "school": None,
            "warnings": sum(1 for i in r.issues if not i.fatal)}
        if fields is not None and action is not None:
            row.update(op_key=keys.op_key(fields), set_key=keys.set_key(fields),
                       lea=keys.lea(fields), school=keys.school(fields))
        staged.append(row)
    # Core inserts (not the ORM's bulk path): this runs for every record of every file.
    session.execute(insert(_table(StagedRecord)), staged)
    issues = _issue_rows(submission_id, list(unique.values()))
    if issues:
        session.execute(insert(_table(SubmissionIssue)), issues)
    session.execute(update(Submission).where(Submission.id == submission_id).values(
        staged_records=Submission.staged_records + len(staged),
        status="processing").where(Submission.status.in_(("received", "processing"))))
    return len(staged)


def record_end_of_file(session: Session, event: EndOfFile) -> None:
    """Remember how many records the file has: the barrier opens when that many are staged."""
    session.execute(update(Submission).where(Submission.id == event.submission_id).values(
        expected_records=event.records))
