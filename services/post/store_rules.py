"""Rules that need what is already in the store, decided at the barrier over the staged rows.

``store_rules.yaml`` says them (``shared.catalog.store_rules``): the student has an enrollment
posted (SPRG, STAS at the school; SINF for the LEA on the record's date), an SENR enrollment
does not overlap another posted at the school, a code is in the CDS directory (a school under
the Reporting LEA, an NPS, a charter, an LEA), an independently reporting charter reports as
itself. Each is one read-only statement
against the store; a record that fails becomes fatal like any other (``fail_rows``), and a
record that already failed is not checked again, so a row gets the first rule it fails.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, false, func, or_, select, text
from sqlalchemy.orm import Session, aliased

from services.post.planner import CODED, DELETE, REPLACE, code_mark, coded_fields
from services.post.prechecks import fail_rows
from services.post.tables import ODS, STAGED, StagedSummary, staged_summary, stored_at_schools
from shared.catalog.base import Condition
from shared.catalog.loader import Catalog
from shared.catalog.models import FieldSpec, Layout
from shared.catalog.store_rules import StoreRule
from shared.db.directory import DirectoryEntry


def _value(fields: Any, position: int) -> ColumnElement[str]:
    return func.trim(func.coalesce(fields[position].as_string(), ""))


class StoreChecks:
    """The store rules of one layout, ready to run on a submission's staged rows."""

    def __init__(self, catalog: Catalog, layout: Layout) -> None:
        self.layout = layout
        self.rules = catalog.store_rules(layout.record_type)
        self.coded = coded_fields(self.rules)  # the code fields staging marks (KeyMaker)
        self.position = {f.name: i for i, f in enumerate(layout.fields)}
        self.spec = {f.name: f for f in layout.fields}
        self.source = catalog.store.enrollments if catalog.store is not None else None
        source = catalog.layouts.get(self.source.record_type) if self.source else None
        self.source_position = {f.name: i for i, f in enumerate(source.fields)} if source else {}
        # A student's posted enrollments at a school are one range of the store's key when
        # the key starts with the school and the SSID (SENR's: school|SSID|start date).
        self.keyed_by_student = bool(
            source is not None and self.source is not None
            and source.framing.header_record is None
            and source.row_key[:2] == (source.school_field, self.source.ssid))
        self.ranges = False  # set per run: the store compares keys byte by byte

    def run(self, session: Session, submission_id: int, received: dt.date, cap: int) -> int:
        """Check every rule in order; returns how many rows failed one."""
        failed = 0
        self.ranges = bytewise(session)
        summary = staged_summary(session, submission_id)
        for number, rule in enumerate(self.rules):
            if not self._may_apply(number, summary) or (
                    rule.kind == "no-overlap"
                    and not self._posted_at_the_schools(session, submission_id)):
                continue
            candidates = select(STAGED.row).where(
                STAGED.submission_id == submission_id, STAGED.fatal.is_(False),
                STAGED.action != DELETE)
            if rule.when is not None:
                candidates = candidates.where(self._holds(rule.when))
            found = self._failing(rule, number, candidates, submission_id, received)
            rows = session.scalars(found.order_by(STAGED.row)).all()
            spec = self._field_of(rule)
            fail_rows(session, submission_id, [(row, {
                "field": spec.id, "field_name": spec.title, "code": rule.code,
                "message": f"Row {row}: {rule.message}",
                "rule_id": rule.spec_rule_id or rule.id}) for row in rows], cap)
            failed += len(rows)
        return failed

    def _may_apply(self, number: int, summary: StagedSummary) -> bool:
        """Whether a record of the file may have the code rule ``number`` looks up: a rule
        whose code field no record fills in (an NPS school in a file of none) is not run."""
        if self.coded[number] is None or not summary.may_have(CODED):
            return True  # no code marks (a record staged without them): the rule reads fields
        return summary.may_have(code_mark(number))

    def _posted_at_the_schools(self, session: Session, submission_id: int) -> bool:
        """Whether an enrollment is posted at a school of the file (none: nothing can overlap;
        a window's first files, a new school)."""
        return self.source is not None and stored_at_schools(
            session, submission_id, self.source.record_type)

    def _field_of(self, rule: StoreRule) -> FieldSpec:
        """The field an issue names: the code not in the directory; the date no enrollment
        includes, or else the student (the SSID field, never its value)."""
        if rule.kind == "no-overlap" and self.source is not None:
            return self.spec[self.source.starts]
        if rule.kind != "enrollment":
            return self.spec[self._code_field(rule)]
        return self.spec[rule.covers or rule.ssid]

    def _holds(self, when: Condition) -> ColumnElement[bool]:
        value = _value(STAGED.fields, self.position[when.field])
        if when.in_ is not None:
            return value.in_(when.in_)
        return (value != "") if when.populated else (value == "")

    def _failing(self, rule: StoreRule, number: int, candidates: Select[Any],
                 submission_id: int, received: dt.date) -> Select[Any]:
        if rule.kind == "in-directory":
            return self._not_in_directory(rule, self._listed(rule, number, candidates),
                                          received)
        if rule.kind == "no-overlap":
            return self._overlapping(rule, candidates, submission_id)
        if rule.kind == "reports-as-itself":
            return self._not_as_itself(rule, self._listed(rule, number, candidates), received)
        return self._not_enrolled(rule, candidates, submission_id)

    def _not_enrolled(self, rule: StoreRule, candidates: Select[Any], submission_id: int
                      ) -> Select[Any]:
        if self.source is None:
            return candidates.where(false())
        # The enrollments of the file's LEAs, read once (MATERIALIZED): the store then builds
        # a transient index on them, instead of reading every enrollment of the LEA for each
        # record (SQLite; PostgreSQL hashes them).
        ods, at = aliased(ODS), self.source_position
        leas = select(STAGED.lea).where(STAGED.submission_id == submission_id).distinct()
        enrollment = select(
            ods.lea, ods.school, _value(ods.fields, at[self.source.ssid]).label("ssid"),
            _value(ods.fields, at[self.source.starts]).label("starts"),
            _value(ods.fields, at[self.source.ends]).label("ends"),
        ).where(ods.record_type == self.source.record_type, ods.lea.in_(leas)).cte(
            f"enrolled_{rule.id.replace('-', '_').lower()}").prefix_with("MATERIALIZED")
        same = [enrollment.c.lea == STAGED.lea,
                enrollment.c.ssid == _value(STAGED.fields, self.position[rule.ssid])]
        if rule.scope == "school":
            same.append(enrollment.c.school == STAGED.school)
        if rule.covers is not None:
            day = _value(STAGED.fields, self.position[rule.covers])
            same += [enrollment.c.starts <= day,
                     or_(enrollment.c.ends == "", enrollment.c.ends >= day)]
        return candidates.where(~exists().where(*same))

    def _code_field(self, rule: StoreRule) -> str:
        name = rule.field or self.layout.school_field
        assert name is not None  # check_store_rules: the layout has a school field
        return name

    def _code(self, rule: StoreRule) -> ColumnElement[Any]:
        """The code a directory rule looks up: the staged school, or the named field."""
        if rule.field is None:
            return STAGED.school.expression
        return _value(STAGED.fields, self.position[rule.field])

    @staticmethod
    def _active(entry: type[DirectoryEntry], received: dt.date) -> list[ColumnElement[bool]]:
        return [entry.status == "active",
                or_(entry.starts.is_(None), entry.starts <= received),
                or_(entry.ends.is_(None), entry.ends >= received)]

    def _listed(self, rule: StoreRule, number: int, candidates: Select[Any]) -> Select[Any]:
        """The records of a Reporting LEA the directory lists, with a code to look up (a code
        field filled in is known from the record's marks, without reading its fields)."""
        lea = aliased(DirectoryEntry)
        code = self._code(rule)
        filled = code != ""
        if self.coded[number] is not None:
            filled = or_(and_(STAGED.marks.op("&")(CODED) != 0,
                              STAGED.marks.op("&")(code_mark(number)) != 0),
                         and_(func.coalesce(STAGED.marks, 0).op("&")(CODED) == 0, filled))
        candidates = candidates.where(filled, exists().where(lea.kind == "lea",
                                                             lea.code == STAGED.lea))
        if rule.exempt:
            candidates = candidates.where(code.not_in(rule.exempt))
        return candidates

    def _not_in_directory(self, rule: StoreRule, candidates: Select[Any],
                          received: dt.date) -> Select[Any]:
        entry = aliased(DirectoryEntry)
        found = [entry.kind == rule.entry, entry.code == self._code(rule),
                 *self._active(entry, received)]
        if rule.reporting and rule.entry == "school":
            found.append(entry.parent == STAGED.lea)
        if rule.category is not None:
            found.append(entry.category == rule.category)
        if rule.not_category is not None:
            found.append(or_(entry.category.is_(None), entry.category != rule.not_category))
        return candidates.where(~exists().where(*found))

    def _not_as_itself(self, rule: StoreRule, candidates: Select[Any],
                       received: dt.date) -> Select[Any]:
        entry, code = aliased(DirectoryEntry), self._code(rule)
        itself = exists().where(entry.kind == "lea", entry.code == code,
                                entry.category == rule.category, *self._active(entry, received))
        return candidates.where(itself, STAGED.lea != code)

    def _overlapping(self, rule: StoreRule, candidates: Select[Any], submission_id: int
                     ) -> Select[Any]:
        """Records whose enrollment overlaps another posted at the school (strictly: sharing
        one boundary day is not an overlap; a blank exit date is open)."""
        if self.source is None:
            return candidates.where(false())
        ods, at, removing = aliased(ODS), self.source_position, aliased(STAGED)
        deleted = select(removing.op_key).where(removing.submission_id == submission_id,
                                                removing.action == DELETE)
        replaced = select(removing.set_key).where(removing.submission_id == submission_id,
                                                  removing.action == REPLACE,
                                                  removing.set_key.is_not(None))
        starts = _value(STAGED.fields, self.position[self.source.starts])
        ends = _open(_value(STAGED.fields, self.position[self.source.ends]))
        ssid = _value(STAGED.fields, self.position[rule.ssid])
        if self.ranges and self.keyed_by_student and rule.record_type == self.source.record_type:
            # Each record's posted enrollments at its school through the key's index (a few
            # seeks), not every enrollment of the LEA: that read cost a file 1.2 s per 20,000
            # records a district had posted, whatever the file's size.
            # A scalar subquery with LIMIT 1, not EXISTS: PostgreSQL turns an EXISTS into a
            # semi-join, and on a store whose statistics lag behind it (a window's first
            # hours) it hashed every SENR record of every LEA for each file (0.6 s a file at
            # 200,000 records, growing with the store); a subquery it cannot pull up runs as
            # the seeks above for each record.
            prefix = STAGED.school.concat("|").concat(ssid)
            return candidates.where(ssid != "", select(ods.id).where(
                ods.record_type == self.source.record_type, ods.school == STAGED.school,
                ods.op_key >= prefix.concat("|"), ods.op_key < prefix.concat("}"),  # } after |
                ods.lea == STAGED.lea, _value(ods.fields, at[self.source.ssid]) == ssid,
                ods.op_key != STAGED.op_key,
                _value(ods.fields, at[self.source.starts]) < ends,
                starts < _open(_value(ods.fields, at[self.source.ends])),
                ods.op_key.not_in(deleted),
                or_(ods.set_key.is_(None), ods.set_key.not_in(replaced)),
            ).limit(1).scalar_subquery().is_not(None))
        leas = select(STAGED.lea).where(STAGED.submission_id == submission_id).distinct()
        posted = select(
            ods.lea, ods.school, ods.op_key, ods.set_key,
            _value(ods.fields, at[self.source.ssid]).label("ssid"),
            _value(ods.fields, at[self.source.starts]).label("starts"),
            _open(_value(ods.fields, at[self.source.ends])).label("ends"),
        ).where(ods.record_type == self.source.record_type, ods.lea.in_(leas)).cte(
            f"posted_{rule.id.replace('-', '_').lower()}").prefix_with("MATERIALIZED")
        return candidates.where(exists().where(
            posted.c.lea == STAGED.lea, posted.c.school == STAGED.school,
            posted.c.ssid == ssid,
            posted.c.ssid != "", posted.c.op_key != STAGED.op_key,
            posted.c.starts < ends, starts < posted.c.ends,
            posted.c.op_key.not_in(deleted),
            or_(posted.c.set_key.is_(None), posted.c.set_key.not_in(replaced))))


def bytewise(session: Session) -> bool:
    """Whether the store orders text byte by byte, so a key's prefix is a range of its index:
    SQLite always; PostgreSQL when the database's collation is C (a linguistic collation may
    sort ``school|ssid|...`` outside ``school|ssid|`` to ``school|ssid}``)."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    collation = session.scalar(text(
        "SELECT datcollate FROM pg_database WHERE datname = current_database()"))
    return collation in ("C", "POSIX")


OPEN_END = "99999999"  # a blank exit date: the enrollment is open (CCYYMMDD compares as text)


def _open(value: ColumnElement[str]) -> ColumnElement[str]:
    return func.coalesce(func.nullif(value, ""), OPEN_END)
