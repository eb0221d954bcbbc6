"""Keep a submission's issues up to a cap per code, and count all of them (design.md §4b).

A hostile or badly broken file can have an issue on every field of every row; the store keeps the
first ``cap`` of each code (in the order they are staged) and the true total of every code, which
is what the job, its page and its email report.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from shared.db.bulk import insert_rows
from shared.db.models import IssueCount, SubmissionIssue

ISSUE_COLUMNS = ("submission_id", "row", "field", "field_name", "code", "severity", "message",
                 "rule_id")
CODE = ISSUE_COLUMNS.index("code")


def add_counts(session: Session, submission_id: int, counts: Mapping[str, int]
               ) -> dict[str, int]:
    """Add to the submission's totals; returns the totals as they were before."""
    if not counts:
        return {}
    before = dict(session.execute(select(IssueCount.code, IssueCount.total).where(
        IssueCount.submission_id == submission_id, IssueCount.code.in_(counts))).all())
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(IssueCount).values(
        [{"submission_id": submission_id, "code": c, "total": n} for c, n in counts.items()])
    session.execute(statement.on_conflict_do_update(
        index_elements=["submission_id", "code"],
        set_={"total": IssueCount.total + statement.excluded.total}))
    return before


def keep_issues(session: Session, submission_id: int, rows: Sequence[Sequence[object]],
                cap: int) -> None:
    """Count every issue row and store those still under the cap of their code."""
    counts = Counter(str(r[CODE]) for r in rows)
    before = add_counts(session, submission_id, counts)
    room = {code: max(0, cap - before.get(code, 0)) for code in counts}
    kept = []
    for r in rows:
        code = str(r[CODE])
        if room[code] > 0:
            room[code] -= 1
            kept.append(r)
    insert_rows(session, SubmissionIssue, ISSUE_COLUMNS, kept)


def totals(session: Session, submission_id: int) -> dict[str, int]:
    """Every issue code of the submission with its true count."""
    return dict(session.execute(select(IssueCount.code, IssueCount.total).where(
        IssueCount.submission_id == submission_id)).all())
