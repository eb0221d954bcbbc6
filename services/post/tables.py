"""The tables posting reads and writes, and the column lists every posting step shares."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from shared.catalog.models import Layout
from shared.db.models import OdsRecord, RecordHistory, StagedRecord, Submission

T = TypeVar("T")
STAGED, ODS, HISTORY = StagedRecord, OdsRecord, RecordHistory
ODS_COLUMNS = ("record_type", "op_key", "set_key", "lea", "school", "fields", "submission_id",
               "row", "updated_at")
HISTORY_COLUMNS = ("record_type", "op_key", "action", "before", "after", "submission_id", "at")


def marked(mark: int, unmarked: ColumnElement[bool]) -> ColumnElement[bool]:
    """Staged records with this mark (``services.post.planner``); for records staged before
    marks existed, ``unmarked`` decides (it reads their fields)."""
    return or_(STAGED.marks.op("&")(mark) != 0, and_(STAGED.marks.is_(None), unmarked))


@dataclass(frozen=True)
class StagedSummary:
    """What staging learnt of a file's records as they came: the OR of their marks
    (``services.post.planner``; ``WITH_ERRORS`` too), or None when it does not cover every
    staged record (a submission of an earlier version, or records staged by one during an
    upgrade). The barrier skips a read for a mark no record has: each such read scans every
    staged row of the file to find nothing (500,000 records: about 0.1 s each on SQLite,
    0.5 s on PostgreSQL)."""

    marks: int | None

    def may_have(self, mark: int) -> bool:
        """Whether a record of the file may have this mark (unknown: it may)."""
        return self.marks is None or bool(self.marks & mark)


def staged_summary(session: Session, submission_id: int) -> StagedSummary:
    """The summary of a file's staged records (``Submission.staged_marks``)."""
    marks, covered, staged = session.execute(
        select(Submission.staged_marks, Submission.marked_records, Submission.staged_records)
        .where(Submission.id == submission_id)).one()
    return StagedSummary(marks if marks is not None and covered == staged else None)


# The order of the staging index (submission, school, action, op_key): a file's records read in
# it need no sort, and for a layout whose key starts with the school (SENR's school|SSID|date)
# it is the key's own order, so the store's key indexes are written in order too.
INDEX_ORDER: tuple[InstrumentedAttribute[Any], ...] = (STAGED.school, STAGED.action,
                                                       STAGED.op_key)


def with_action(action: str) -> ColumnElement[bool]:
    """Staged records of one action, said as a range of one value: SQLite (3.40) reads an
    equality on ``action`` as a constant that breaks the index's order for the columns after
    it, and sorts what the index already orders (500,000 records: a sort of every key to group
    them, one per school to post them in key order)."""
    return and_(STAGED.action >= action, STAGED.action <= action)


def key_holds_school(layout: Layout) -> bool:
    """Whether the layout's key holds the school: equal keys then have equal schools."""
    return layout.school_field is not None and layout.school_field in layout.row_key


def by_key(layout: Layout) -> tuple[InstrumentedAttribute[Any], ...]:
    """The columns that group the staged records of one action by operational key: in the
    index's order when the key holds the school, else the key alone (the store sorts)."""
    return INDEX_ORDER if key_holds_school(layout) else (STAGED.op_key,)


SCHOOLS = 500  # schools looked up at a time (``stored_at_schools``)


def in_transaction(session: Session, name: str, key: Hashable, read: Callable[[], T]) -> T:
    """What ``read`` returns, read once per transaction for this key: a barrier asks some
    questions of its file's staged rows more than once, and the rows do not change between
    (or the caller drops the answer: ``actions_changed``); the next transaction reads again."""
    cache: dict[Hashable, tuple[Any, Any]] = session.info.setdefault(name, {})
    session.connection()  # the transaction begins here if none has yet
    transaction = session.get_transaction()
    found = cache.get(key)
    if found is None or found[0] is not transaction:
        found = (transaction, read())
        cache[key] = found
    return cast(T, found[1])


def file_schools(session: Session, submission_id: int) -> list[str]:
    """The schools of a file's staged records, listed once per transaction: a barrier asks
    twice (the overlap rule, then the Add/Updates), and on PostgreSQL each listing read every
    staged row's index entry (500,000 records: 0.2 s). A complete file's staged rows do not
    change during its barrier; a later transaction lists them again."""
    return list(in_transaction(session, "file_schools", submission_id, lambda: [
        s for s in session.scalars(select(STAGED.school).where(
            STAGED.submission_id == submission_id).distinct()) if s is not None]))


def stored_at_schools(session: Session, submission_id: int, record_type: str,
                      schools: tuple[str, ...] | None = None) -> bool:
    """Whether the store holds a record of this type at a school of the file (or of
    ``schools``). The schools are listed first, then looked up by the store's school index a
    part at a time: a join could read every stored record of the type."""
    listed = list(schools) if schools is not None else file_schools(session, submission_id)
    return any(session.scalar(select(ODS.id).where(
        ODS.record_type == record_type, ODS.school.in_(listed[start:start + SCHOOLS]))
        .limit(1)) is not None for start in range(0, len(listed), SCHOOLS))


def staged_actions(session: Session, submission_id: int,
                   schools: tuple[str, ...] | None = None) -> dict[str, int]:
    """How many of the file's staged records (of these schools) have each action, in one read
    (posting skips the steps of the others and reports these counts: on PostgreSQL each count
    visits every staged row's heap tuple, 0.14-0.4 s at 500,000). Read once per transaction
    until a record is failed (``actions_changed``): the barrier's checks ask, then posting."""
    query = select(STAGED.action, func.count()).where(
        STAGED.submission_id == submission_id, STAGED.action.is_not(None))
    if schools is not None:
        query = query.where(STAGED.school.in_(schools))
    return dict(in_transaction(session, "staged_actions", (submission_id, schools), lambda: {
        str(a): int(n) for a, n in session.execute(query.group_by(STAGED.action))}))


def actions_changed(session: Session, submission_id: int) -> None:
    """Records of the file were failed (their action is gone): ``staged_actions`` reads again."""
    cache = session.info.get("staged_actions", {})
    for key in [k for k in cache if k[0] == submission_id]:
        del cache[key]
