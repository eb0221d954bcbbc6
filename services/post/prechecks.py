"""Checks that need the whole file, run at the barrier before the acceptance decision.

Records of one file are validated on several workers, so a rule across records (the same student
twice, a delete that would empty a timeline) can only be decided once every record is staged. A
record that fails such a check becomes fatal like any other: its issue is kept (up to the cap per
code), and the acceptance mode decides what that means for the file.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, and_, case, exists, func, select, update
from sqlalchemy.orm import Session, aliased

from services.post.planner import ADD, DELETE, MATCH, WITH_ERRORS
from services.post.tables import (
    ODS,
    STAGED,
    actions_changed,
    by_key,
    marked,
    staged_actions,
    staged_summary,
    with_action,
)
from shared.catalog.models import Layout, Method
from shared.db.issue_counts import keep_issues
from shared.within_file import key_groups, key_issue, repeat_issue, required_issue


def fail_rows(session: Session, submission_id: int, failures: list[tuple[int, dict[str, str]]],
              cap: int) -> None:
    """Make these staged rows fatal, each with its issue (field, field_name, code, message and
    the rule's id when a rule says it)."""
    if not failures:
        return
    keep_issues(session, submission_id, [
        (submission_id, row, i.get("field"), i.get("field_name"), i["code"], "fatal",
         i["message"], i.get("rule_id")) for row, i in failures], cap)
    session.execute(update(STAGED), [
        {"submission_id": submission_id, "row": row, "fatal": True, "action": None,
         "issues": [{**issue, "severity": "fatal"}]} for row, issue in failures])
    actions_changed(session, submission_id)


def _compared(session: Session, ids: tuple[str, ...], with_errors: bool
              ) -> ColumnElement[bool]:
    """The staged rows a whole-file rule over the fields ``ids`` compares: the valid ones, and
    ``with_errors`` (an all-or-nothing file, rejected by any error, that has rows with errors:
    all its problems are said in one round) also the rows with errors whose own issues are not
    on those fields (a malformed value cannot be compared). ``shared.within_file.Repeats`` is
    the same offline."""
    valid = STAGED.fatal.is_(False)
    if not with_errors:
        return valid
    if session.get_bind().dialect.name == "postgresql":
        issue = func.json_array_elements(STAGED.issues).table_valued("value").alias("issue")
        field: ColumnElement[Any] = issue.c.value.op("->>")("field")
    else:
        issue = func.json_each(STAGED.issues).table_valued("value").alias("issue")
        field = func.json_extract(issue.c.value, "$.field")
    own = exists().select_from(issue).where(field.in_(ids))
    return valid | and_(STAGED.fields.is_not(None), ~own)


class Duplicates(NamedTuple):
    """What ``duplicates_in_file`` found."""

    failed: int  # rows that failed
    keys_unique: bool  # no operational key is staged twice (False: not known)


def duplicates_in_file(session: Session, submission_id: int, layout: Layout, cap: int,
                       every_row: bool = False) -> Duplicates:
    """Rows repeating an earlier row's values of a ``unique_in_file`` group, both rows of a
    repeated operational key (``key_unique_in_file``), and the rows of a repeated group whose
    field is blank (``required_when_repeated``); blank values never repeat;
    ``shared.within_file`` is the same rule offline. ``every_row``: rows with errors are
    compared too (``_compared``)."""
    by_name = layout.positioned()
    failures: list[tuple[int, dict[str, str]]] = []
    # Asked once (each asking reads every staged row of a clean file): the rows' errors do not
    # change until the failures are written at the end.
    with_errors = every_row and _has_errors(session, submission_id)
    keys_unique = False
    for group, both in key_groups(layout):
        compared = _compared(session, tuple(by_name[n][1].id for n in group), with_errors)
        # The narrowing by valid rows' keys cannot see a row with errors: then the full window.
        narrow = ([] if with_errors
                  else _repeated_keys(session, submission_id, layout, group))
        if narrow is None:  # the group's key repeats nowhere
            keys_unique = True  # (only the row key's group is narrowed)
            continue
        values = [func.trim(STAGED.fields[by_name[n][0]].as_string()) for n in group]
        partition: list[ColumnElement[Any]] = list(values)
        if both and layout.operation_field:  # a Delete and an Add of one key are a pair
            operation = func.upper(func.trim(
                STAGED.fields[by_name[layout.operation_field][0]].as_string()))
            partition.append(case((operation == "D", "D"), else_=""))
        ranked = (select(STAGED.row,
                         func.row_number().over(partition_by=partition, order_by=STAGED.row)
                         .label("rank"),
                         func.min(STAGED.row).over(partition_by=partition).label("first"),
                         func.lead(STAGED.row).over(partition_by=partition, order_by=STAGED.row)
                         .label("next"))
                  .where(STAGED.submission_id == submission_id, compared,
                         *narrow, *[func.coalesce(v, "") != "" for v in values]).subquery())
        specs = tuple(by_name[n][1] for n in group)
        wanted = ((ranked.c.rank > 1) | ranked.c.next.is_not(None)) if both else ranked.c.rank > 1
        for row, rank, earlier, later in session.execute(
                select(ranked.c.row, ranked.c.rank, ranked.c.first, ranked.c.next)
                .where(wanted).order_by(ranked.c.row)):
            if not both:
                failures.append((row, repeat_issue(row, earlier, specs)))
            else:
                failures.append((row, key_issue(row, later if rank == 1 else earlier, specs)))
    failures += _blank_in_repeats(session, submission_id, layout, with_errors)
    fail_rows(session, submission_id, failures, cap)
    return Duplicates(len(failures), keys_unique)


def _has_errors(session: Session, submission_id: int) -> bool:
    """Whether a framed row of the file (one with fields) has errors of its own (asked before
    the barrier's checks fail rows: the summary says what staging found)."""
    if not staged_summary(session, submission_id).may_have(WITH_ERRORS):
        return False
    return bool(session.execute(select(exists().where(
        STAGED.submission_id == submission_id, STAGED.fatal.is_(True),
        STAGED.fields.is_not(None)))).scalar())


def _repeated_keys(session: Session, submission_id: int, layout: Layout,
                   group: tuple[str, ...]) -> list[ColumnElement[bool]] | None:
    """A cheap first pass for a group that is the layout's row key: the staged ``op_key``
    column already holds those values (stripped, joined), indexed, so repeated keys are found
    without reading every row's fields (200,000 rows: 3 s -> 0.2 s). Equal trimmed values give
    equal ``op_key``s, so the exact check below, narrowed to these keys, finds the same rows.
    Returns None when no key repeats, the narrowing condition when some do, and [] (no
    narrowing) for any other group."""
    if tuple(group) != layout.row_key:
        return []
    mine = [STAGED.submission_id == submission_id, STAGED.fatal.is_(False),
            STAGED.op_key.is_not(None)]
    keys: tuple[Any, ...] = (STAGED.op_key,)
    # A file of one action (most are) is grouped in the order of the staging index where the
    # key holds the school, read alone: no sort of every key (500,000 rows: 0.9 -> 0.3 s).
    # (A staged row has an action only if it is not fatal, and then a key.)
    actions = list(staged_actions(session, submission_id))
    if len(actions) == 1:
        mine = [STAGED.submission_id == submission_id, with_action(actions[0])]
        keys = by_key(layout)
    repeated = select(STAGED.op_key).where(*mine).group_by(*keys).having(func.count() > 1)
    unkeyed = exists().where(STAGED.submission_id == submission_id, STAGED.fatal.is_(False),
                             STAGED.op_key.is_(None))
    if session.execute(select(exists(repeated.subquery().select()) | unkeyed)).scalar():
        return [STAGED.op_key.in_(repeated) | STAGED.op_key.is_(None)]
    return None


def _blank_in_repeats(session: Session, submission_id: int, layout: Layout,
                      with_errors: bool = False) -> list[tuple[int, dict[str, str]]]:
    """``required_when_repeated``: the rows whose field is blank among two or more rows with
    the same group values; the first row names the second, the others the first."""
    by_name = layout.positioned()
    failures: list[tuple[int, dict[str, str]]] = []
    for rule in layout.required_when_repeated:
        values = [func.trim(STAGED.fields[by_name[n][0]].as_string()) for n in rule.group]
        field = func.coalesce(func.trim(STAGED.fields[by_name[rule.field][0]].as_string()), "")
        compared = _compared(session, tuple(
            by_name[n][1].id for n in (*rule.group, rule.field)), with_errors)
        if not _any_blank(session, submission_id, layout, rule.field, field, compared):
            continue  # the common case (every record gives it): no window over the file
        ranked = (select(STAGED.row, (field == "").label("blank"),
                         func.count().over(partition_by=values).label("rows"),
                         func.min(STAGED.row).over(partition_by=values).label("first"),
                         func.lead(STAGED.row).over(partition_by=values, order_by=STAGED.row)
                         .label("next"))
                  .where(STAGED.submission_id == submission_id, compared,
                         *[func.coalesce(v, "") != "" for v in values]).subquery())
        specs = tuple(by_name[n][1] for n in rule.group)
        spec = by_name[rule.field][1]
        for row, first, later in session.execute(
                select(ranked.c.row, ranked.c.first, ranked.c.next)
                .where(ranked.c.blank, ranked.c.rows > 1).order_by(ranked.c.row)):
            failures.append((row, required_issue(row, later if row == first else first,
                                                 specs, spec)))
    return failures


def _any_blank(session: Session, submission_id: int, layout: Layout, name: str,
               value: ColumnElement[str], compared: ColumnElement[bool]) -> bool:
    """Whether a record of the file leaves the field blank; for the field SSID matching reads,
    the planner's ``MATCH`` mark says it without reading the records' fields."""
    blank = value == ""
    if name == layout.match_field and layout.matching and not layout.matching.every_record:
        if not staged_summary(session, submission_id).may_have(MATCH):
            return False
        blank = marked(MATCH, blank)
    return bool(session.execute(select(exists().where(
        STAGED.submission_id == submission_id, compared, blank))).scalar())


def emptying_deletes(session: Session, submission_id: int, layout: Layout, cap: int) -> int:
    """Effective Date: Deletes that would leave a timeline that has records with none (CFS
    §1.3.2: "will not permit a 'D' (Delete) transaction if there is only one record")."""
    if layout.method is not Method.EFFECTIVE_DATE:
        return 0
    adds, deletes, others = aliased(STAGED), aliased(STAGED), aliased(ODS)
    rows = session.scalars(select(STAGED.row).where(
        STAGED.submission_id == submission_id, STAGED.action == DELETE,
        exists().where(ODS.record_type == layout.record_type, ODS.op_key == STAGED.op_key),
        ~exists().where(adds.submission_id == submission_id, adds.action == ADD,
                        adds.set_key == STAGED.set_key),
        ~exists().where(and_(
            others.record_type == layout.record_type, others.set_key == STAGED.set_key,
            others.op_key.not_in(select(deletes.op_key).where(
                deletes.submission_id == submission_id, deletes.action == DELETE,
                deletes.set_key == STAGED.set_key)))),
    ).order_by(STAGED.row)).all()
    start = next(f for f in layout.fields if f.name == layout.effective_start_field)
    fail_rows(session, submission_id, [(row, {
        "field": start.id, "field_name": start.title, "code": "delete-last-record",
        "message": f"Row {row} would delete the last record of this timeline; a timeline keeps "
                   "at least one record (CFS §1.3.2). Submit the new record in the same file, "
                   "or leave this one."}) for row in rows], cap)
    return len(rows)
