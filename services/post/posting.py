"""Post a whole staged submission in one transaction: Delete, then Add/Update, then Replace.

The caller has claimed the submission and holds its transaction (``services.post.decision``:
the claim, the acceptance decision, the final status). Every step is one set-based statement
over the staged records (``INSERT … SELECT``, ``UPDATE … FROM``, ``DELETE … WHERE IN``), the
same on SQLite and PostgreSQL: the store copies records from staging to the ODS itself; only
Effective Date timelines and cross-record effects are computed in Python, a chunk at a time.
That is what lets a 500,000-record file post in seconds (CFS §1.3 order; design.md §4
decisions).
"""

from __future__ import annotations

import datetime as dt
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
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from services.post.decision import Outcome, decide, finish, posted_outcome
from services.post.effective import TimelinePoster
from services.post.effects import apply_effects
from services.post.locks import hold_schools
from services.post.matching import MatchingContext
from services.post.planner import ADD, DELETE, ORDER, REPLACE
from services.post.tables import (
    HISTORY,
    HISTORY_COLUMNS,
    INDEX_ORDER,
    ODS,
    ODS_COLUMNS,
    STAGED,
    by_key,
    file_schools,
    key_holds_school,
    staged_actions,
    stored_at_schools,
    with_action,
)
from shared.catalog.loader import Catalog
from shared.catalog.models import Collection, Layout, Method, Posting
from shared.db.issue_counts import add_counts
from shared.db.models import (
    Submission,
    SubmissionIssue,
)


class Poster:
    """Applies one submission's staged records to the store, statement by statement.

    Transaction: Deletes and Add/Updates find one stored record by its key; the first R of a
    replace set clears the set. Replacement: Deletes and Replaces find every stored record under
    their replacement key. Effective Date: timeline by timeline (``services.post.effective``).
    """

    def __init__(self, session: Session, submission_id: int, layout: Layout,
                 max_issues_per_code: int, schools: tuple[str, ...] | None = None,
                 keys_unique: bool = False) -> None:
        self.session = session
        # The barrier's checks found no key twice among the file's records (``Decision``):
        # the Add/Updates need not look for the later row of a repeated key.
        self.keys_unique = keys_unique
        self._counts: dict[str, int] | None = None
        self._fresh: bool | None = None  # ``_all_fresh``, asked once
        self._held = False  # ``_hold``: the posting locks of the schools written
        self.schools = schools  # post only these schools' records (very large files)
        self.cap = max_issues_per_code
        self.sid = submission_id
        self.layout = layout
        self.record_type = layout.record_type
        self.by_group = layout.method is Method.REPLACEMENT
        self.now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        self.warnings = 0

    def post(self) -> int:
        """Every staged record in method order; returns how many were applied."""
        self._hold()
        if self.layout.method is Method.EFFECTIVE_DATE:
            timelines = TimelinePoster(self.session, self.sid, self.layout, self.now)
            applied = timelines.post()
            for start in range(0, len(timelines.missing), 500):
                rows = timelines.missing[start:start + 500]
                self._warn(and_(STAGED.submission_id == self.sid, STAGED.row.in_(rows)),
                           code="delete-missing",
                           says="deletes an effective start date the store does not hold; "
                                "nothing was deleted.")
            return applied
        steps = {DELETE: self.deletes, ADD: self.adds, REPLACE: self.replaces}
        return sum(steps[action]() for action in ORDER if self._total(action))

    def _hold(self) -> None:
        """Before the first write to the store: the posting locks of the schools this
        barrier writes at (``services.post.locks``), held until it commits."""
        if not self._held:
            self._held = True
            hold_schools(self.session, self.record_type,
                         self._schools if key_holds_school(self.layout) else None)

    def _schools(self) -> tuple[str, ...]:
        """The schools this barrier posts (all the file's, unless posting school by school)."""
        return self.schools if self.schools is not None else tuple(
            file_schools(self.session, self.sid))

    def _staged(self, action: str) -> ColumnElement[bool]:
        mine = and_(STAGED.submission_id == self.sid, with_action(action))
        return mine if self.schools is None else and_(mine, STAGED.school.in_(self.schools))

    def _stored(self) -> ColumnElement[bool]:
        """Stored records of this record type with the staged record's operational key."""
        return and_(ODS.record_type == self.record_type, ODS.op_key == STAGED.op_key)

    def _in_group(self) -> ColumnElement[bool]:
        """Stored records in the staged record's group (replace set or replacement key)."""
        return and_(ODS.record_type == self.record_type, ODS.set_key == STAGED.set_key)

    def _history_of_stored(self, action: str, where: ColumnElement[bool]) -> None:
        """History rows for stored records about to be deleted or replaced."""
        self.session.execute(insert(HISTORY).from_select(
            HISTORY_COLUMNS,
            select(ODS.record_type, ODS.op_key, literal(action), ODS.fields, null(),
                   literal(self.sid), literal(self.now))
            .where(ODS.record_type == self.record_type, where)))

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

    def clear_institution(self, institution_id: str, period: str | None = None) -> int:
        """Full replacement: every stored record of the institution that the file does not
        send again goes (history kept); returns how many the institution held. The records
        sent again are updated by the method's own steps, only where they changed.
        ``period``: an EDFacts file replaces the records of its reporting period only (their
        keys start with it: ``KeyMaker``)."""
        self._hold()
        mine = ODS.lea == institution_id
        if period is not None:
            # The key starts with the period: compared exactly, as text. (A range on the key's
            # index would depend on PostgreSQL's collation, whose order of '|' and '}' is the
            # locale's, not the characters'.)
            prefix = f"{period}|"
            mine = and_(mine, func.substr(ODS.op_key, 1, len(prefix)) == prefix)
        held = self.session.scalar(select(func.count()).select_from(ODS).where(
            ODS.record_type == self.record_type, mine)) or 0
        sent = select(STAGED.op_key).where(STAGED.submission_id == self.sid,
                                           STAGED.op_key.is_not(None))
        gone = and_(mine, ODS.op_key.not_in(sent))
        self._history_of_stored("replace", gone)
        self.session.execute(delete(ODS).where(ODS.record_type == self.record_type, gone))
        return int(held)

    def deletes(self) -> int:
        """D: delete the stored record with the same key (Replacement: every stored record
        under the key); a key the store does not hold is a warning."""
        found = self._in_group() if self.by_group else self._stored()
        self._warn(and_(self._staged(DELETE), ~exists().where(found)),
                   code="delete-missing",
                   says="deletes a record the store does not hold; nothing was deleted.")
        column, stored = ((STAGED.set_key, ODS.set_key) if self.by_group
                          else (STAGED.op_key, ODS.op_key))
        keys = select(column).where(self._staged(DELETE))
        self._history_of_stored("delete", stored.in_(keys))
        self.session.execute(delete(ODS).where(ODS.record_type == self.record_type,
                                             stored.in_(keys)))
        return self._total(DELETE)

    def adds(self, action: str = ADD) -> int:
        """A (and R after its set is cleared): update the stored record or insert a new one.

        Two records with the same key in one file: the later row wins (the earlier ones are
        marked superseded first, so each key is written once).
        """
        # Grouped in the staging index's order where the key holds the school (always, school
        # by school: ``can_post_by_school``), so the store reads the index, not every record
        # of the file sorted.
        total = self._total(action)
        duplicated = (select(STAGED.op_key).where(self._staged(action))
                      .group_by(*by_key(self.layout)).having(func.count() > 1).limit(1))
        if not self.keys_unique and self.session.scalar(duplicated) is not None:
            ranked = (select(STAGED.row, func.row_number().over(
                partition_by=STAGED.op_key, order_by=STAGED.row.desc()).label("rank"))
                .where(self._staged(action)).subquery())
            self.session.execute(update(STAGED).where(
                STAGED.submission_id == self.sid,
                STAGED.row.in_(select(ranked.c.row).where(ranked.c.rank > 1))
            ).values(action="-"))
        if self._all_fresh():
            self._insert_new(action, stored=False)
        else:
            self._update_changed(action)
            self._insert_new(action)
        self._fresh = False  # the store now holds this step's records (a later R step's too)
        self.session.execute(update(STAGED).where(STAGED.submission_id == self.sid,
                                                  STAGED.action == "-").values(action=action))
        return total

    def _update_changed(self, action: str) -> None:
        """Rewrite the stored records the staged ones of ``action`` change, each with its
        'update' history row. Only records that change are rewritten: resubmitting an
        unchanged file changes nothing in the store."""
        changes = or_(self._json_differs(ODS.fields, STAGED.fields),
                      ODS.set_key.is_distinct_from(STAGED.set_key))
        self.session.execute(insert(HISTORY).from_select(
            HISTORY_COLUMNS,
            select(ODS.record_type, ODS.op_key, literal("update"), ODS.fields,
                   STAGED.fields, literal(self.sid), literal(self.now))
            .where(self._staged(action), self._stored(), changes)))
        self.session.execute(
            update(ODS).where(self._staged(action), self._stored(), changes)
            .values(fields=STAGED.fields, set_key=STAGED.set_key, submission_id=self.sid,
                    row=STAGED.row, updated_at=self.now))

    def _all_fresh(self) -> bool:
        """Whether no staged key can be stored yet: the layout's key holds the school (equal
        keys, equal schools) and the store has no record of the type at any school of the
        file (a window's first file, a new school), so the updates and their history, each a
        join of every staged record with the store, are not run."""
        if self._fresh is None:
            self._fresh = key_holds_school(self.layout) and not stored_at_schools(
                self.session, self.sid, self.record_type, self._schools())
        return self._fresh

    def _insert_new(self, action: str, stored: bool = True) -> None:
        """Store the staged records of ``action`` whose key is not stored yet, each with its
        'add' history row (no images: ``shared.db.history``).

        ``stored=False``: the barrier found nothing stored at the file's schools
        (``_all_fresh``), so every key is new. On PostgreSQL the records then go in as a plain
        insert (500,000 records: 4.7 -> 4.1 s with their history; ``ON CONFLICT`` checks the
        key's index once more per row). No other post worker can store one of the keys since
        the check: barriers at a common school post one after the other (``_hold``).

        ``stored=True``: every staged key is stored by now but the fresh ones, which the
        unique key lets through. (A NOT EXISTS on the table being inserted into made
        PostgreSQL scan the growing heap once per row on a new store: 40,000 records took two
        minutes.) On PostgreSQL the history rows are the insert's own RETURNING: a NOT
        EXISTS against the store, planned on statistics from before the window's first files
        (the store "empty"), became a nested loop reading every stored record for each staged
        one (one 50,000-record file ran for over 15 minutes with 300,000 stored).
        """
        def history(keys: Any) -> Any:
            return select(literal(self.record_type), keys, literal("add"), null(), null(),
                          literal(self.sid), literal(self.now))

        postgres = self.session.get_bind().dialect.name == "postgresql"
        dialect = postgresql if postgres else sqlite
        store = dialect.insert(ODS).from_select(
            ODS_COLUMNS,
            select(literal(self.record_type), STAGED.op_key, STAGED.set_key, STAGED.lea,
                   STAGED.school, STAGED.fields, literal(self.sid), STAGED.row,
                   literal(self.now)).where(self._staged(action)).order_by(*INDEX_ORDER))
        if postgres:
            if stored:
                store = store.on_conflict_do_nothing(index_elements=["record_type", "op_key"])
            added = store.returning(ODS.op_key).cte("added")
            self.session.execute(insert(HISTORY).add_cte(added).from_select(
                HISTORY_COLUMNS, history(added.c.op_key)))
            return
        # SQLite: one writer at a time, so a key found unstored stays so; a plain insert is
        # no faster there.
        new = self._staged(action) if not stored else and_(self._staged(action),
                                                            ~exists().where(self._stored()))
        self.session.execute(insert(HISTORY).from_select(
            HISTORY_COLUMNS, history(STAGED.op_key).where(new)))
        self.session.execute(store.on_conflict_do_nothing(
            index_elements=["record_type", "op_key"]))

    def replaces(self) -> int:
        """R: every stored record of each submitted group goes, then the group is added.

        Replacement method: a key with nothing stored is a warning on its first row (CFS
        §1.3.3 "a warning message is generated"); Transaction R inserts silently (§1.3.1).
        """
        if self.by_group:
            first = aliased(STAGED)
            self._warn(and_(
                self._staged(REPLACE), ~exists().where(self._in_group()),
                STAGED.row == select(func.min(first.row)).where(
                    first.submission_id == self.sid, first.action == REPLACE,
                    first.set_key == STAGED.set_key).scalar_subquery()),
                code="replace-missing",
                says="starts records of a key the store holds nothing for; nothing was "
                     "replaced and they were added.")
        # The set's stored records that the file does not send again go; the ones it sends
        # again are updated in place by adds() (only if they changed), which leaves the same
        # records as clearing the set and adding the file's, without rewriting what is equal.
        sets = select(STAGED.set_key).where(self._staged(REPLACE), STAGED.set_key.is_not(None))
        kept = select(STAGED.op_key).where(self._staged(REPLACE))
        gone = and_(ODS.set_key.in_(sets), ODS.op_key.not_in(kept))
        self._history_of_stored("replace", gone)
        self.session.execute(delete(ODS).where(ODS.record_type == self.record_type, gone))
        return self.adds(REPLACE)

    def _json_differs(self, left: Any, right: Any) -> ColumnElement[bool]:
        """Two JSON values differ, however each was written (spacing, escapes): stored rows
        come from several writers (staging's compact JSON, SQLAlchemy's, older versions')."""
        if self.session.get_bind().dialect.name == "postgresql":
            return cast(left, postgresql.JSONB) != cast(right, postgresql.JSONB)
        return func.json(left) != func.json(right)

    def _total(self, action: str) -> int:
        """How many staged records (of the schools posted) have this action, counted once
        before any is posted (the steps do not change a record's action for good)."""
        if self._counts is None:
            self._counts = staged_actions(self.session, self.sid, self.schools)
        return self._counts.get(action, 0)


def post_submission(session: Session, catalog: Catalog, submission: Submission,
                    collection: Collection, layout: Layout, max_issues_per_code: int = 1000,
                    matching: MatchingContext | None = None) -> Outcome:
    """Check, decide and post the whole file in the caller's transaction (the caller has
    claimed the submission and will commit)."""
    decision = decide(session, submission, collection, layout, max_issues_per_code, matching,
                      catalog)
    outcome = decision.rejected
    if outcome is None:
        poster = Poster(session, submission.id, layout, max_issues_per_code,
                        keys_unique=decision.keys_unique)
        replaced = 0
        if collection.posting is Posting.FULL_REPLACEMENT:
            replaced = poster.clear_institution(
                submission.institution_id,
                # a file without a period (none before migration 0013) replaces only the
                # records without one, never every period's
                (submission.period or "") if layout.framing.header_record is not None
                else None)
        posted = poster.post()
        effects = apply_effects(session, catalog, submission.id, layout, poster.now)
        outcome = posted_outcome(decision, collection, posted, poster.warnings, effects,
                                 replaced, period=submission.period)
    finish(session, submission, outcome, decision)
    return outcome
