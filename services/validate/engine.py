"""The validation engine: runs a layout's field checks and record rules over one record.

Never raises on data: every problem is an Issue. The same engine runs in the validate worker and
in the offline ``edcs validate`` command, so both give the same answer for the same file.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from services.validate.codegen import Source
from services.validate.rules.field import FieldChecker, compile_field, passes
from services.validate.rules.record import RuleSet, Trigger, compile_rule
from shared.catalog.loader import Catalog
from shared.catalog.models import Layout, Severity
from shared.issues import Issue
from shared.windows import CollectionYear
from shared.within_file import is_delete


@dataclass(frozen=True, slots=True)
class Context:
    """What a record is checked against besides itself."""

    institution_id: str | None  # the submitter; None offline (the check is skipped)
    submitted_on: dt.date
    # The collection's academic year on that day (shared.windows.collection_year), which a
    # layout's window_year_field must carry; None: not checked.
    collection_year: CollectionYear | None = None


FieldLoop = Callable[[list[str], int, list[Issue], set[str], list[int]], None]
"""(fields, row, issues, failed, applies): checks every field of a record, adding its issues,
the names of the fields that failed and the positions of the rules that apply."""


class Validator:
    """A layout compiled into check functions, reused for every record of every file."""

    def __init__(self, layout: Layout, catalog: Catalog) -> None:
        self.layout = layout
        self.names = tuple(f.name for f in layout.fields)
        fields = tuple(compile_field(f, catalog.codesets) for f in layout.fields)
        # A Delete needs only what finds the record: "other fields can be left blank"
        # (CFS §1.3.1 Scenario 2), so their required checks are off for D records.
        keep = frozenset({*layout.operational_key, layout.lea_field, layout.operation_field,
                          layout.fields[0].name} - {None})
        delete_fields = tuple(
            compile_field(f if f.name in keep else f.model_copy(update={"required": False}),
                          catalog.codesets) for f in layout.fields)
        self._op_index = (self.names.index(layout.operation_field)
                          if layout.operation_field else None)
        by_name = {f.name: f for f in layout.fields}
        index = {name: i for i, name in enumerate(self.names)}
        rules = [compile_rule(r, by_name, index) for r in layout.record_rules]
        self._rules = RuleSet(rules, self.names)
        # On a Delete only the rules about the fields that find the record apply.
        self._delete_rules = RuleSet([r for r in rules if r.reads <= keep], self.names)
        # Values of a field that passed its checks (which read only the value): most fields
        # repeat few values (codes, dates, schools), so a set lookup replaces the check. Never
        # kept for personal data (pii), and at most PASSED_LIMIT values a field.
        passed: tuple[set[str] | None, ...] = tuple(
            None if f.pii else set() for f in layout.fields)
        self._fields = _field_loop(layout, catalog, fields, passed, self._rules.triggers)
        self._delete_fields = _field_loop(layout, catalog, delete_fields, passed,
                                          self._delete_rules.triggers)
        self._lea = None
        if layout.lea_field is not None:
            self._lea = (self.names.index(layout.lea_field), by_name[layout.lea_field])
        self._lea_length = layout.lea_length
        self._year = None
        if layout.window_year_field is not None:
            self._year = (self.names.index(layout.window_year_field),
                          by_name[layout.window_year_field])
        self._in_context = self._lea is not None or self._year is not None

    def validate(self, fields: list[str], row: int, context: Context) -> list[Issue]:
        """Every issue of one record (fields in layout order, already split)."""
        if len(fields) != len(self.names):  # never from our reader; a foreign producer's
            return [Issue(row=row, field=None, field_name=None, code="field-count",
                          severity=Severity.FATAL,
                          message=f"Row {row} has {len(fields)} fields; a "
                                  f"{self.layout.record_type} record has {len(self.names)}.")]
        issues: list[Issue] = []
        failed: set[str] = set()
        applies: list[int] = []  # rules whose condition holds, from the values read
        check, rules = self._fields, self._rules
        if self._op_index is not None and is_delete(fields[self._op_index]):
            check, rules = self._delete_fields, self._delete_rules
        check(fields, row, issues, failed, applies)
        today = context.submitted_on
        for reads, holds, issue in rules.applying(applies):
            if failed and not reads.isdisjoint(failed):
                continue
            if not holds(fields, today):
                issues.append(issue(row))
        if self._in_context:
            issues += self._context_issues(fields, row, context, failed)
        return issues

    def _context_issues(self, fields: list[str], row: int, context: Context,
                        failed: set[str]) -> list[Issue]:
        """What the record must be for the submission: the submitter's LEA, the collection's
        academic year (a field that already failed its own checks is not compared)."""
        issues: list[Issue] = []
        if self._lea is not None and context.institution_id is not None:
            index, spec = self._lea
            value = fields[index].strip()[:self._lea_length]
            if value and spec.name not in failed and value != context.institution_id:
                part = "" if self._lea_length is None else f"first {self._lea_length} of "
                issues.append(Issue(
                    row=row, field=spec.id, field_name=spec.title,
                    code="reporting-lea-mismatch", severity=Severity.FATAL,
                    message=f"The {part}{spec.title} ({spec.id}) '{value}' is not the "
                            f"submitting institution '{context.institution_id}'."))
        year = context.collection_year
        if self._year is not None and year is not None:
            index, spec = self._year
            value = fields[index].strip()
            if value and spec.name not in failed and value not in year.years:
                issues.append(Issue(
                    row=row, field=spec.id, field_name=spec.title,
                    code="not-collection-year", severity=Severity.FATAL,
                    message=f"The {spec.title} ({spec.id}) '{value}' is not the collection's "
                            f"academic year: it must be {' or '.join(year.years)} "
                            f"({year.said})."))
        return issues


PASSED_LIMIT = 1024  # a field; bounds a long-running worker's memory (24 layouts)


def _field_loop(layout: Layout, catalog: Catalog, checks: Sequence[FieldChecker],
                passed: Sequence[set[str] | None], triggers: Sequence[Trigger | None]
                ) -> FieldLoop:
    """The engine's pass over a record's fields, written out field by field.

    For each field: an empty optional field is skipped; a value that passed before, or passes
    the field's checks as one expression (``rules.field.passes``), is remembered and its
    trigger run; any other value gets its issue from the field's full check (which may find
    none: a blank optional value, say) and, with an issue, the field is failed.
    """
    source = Source()

    def block(depth: int, *lines: str | None) -> None:
        for line in [line for line in lines if line] or ["pass"]:
            source.add(depth, line)

    for i, (spec, check, seen, trigger) in enumerate(
            zip(layout.fields, checks, passed, triggers, strict=True)):
        fire = None if trigger is None else f"applies += {source.ref(trigger, 'trigger')}(v)"
        keep = keep_checked = None
        depth = 1
        source.add(depth, f"v = f[{i}]")
        if not spec.required:
            source.add(depth, "if v:")
            depth += 1
        test = passes(spec, catalog.codesets, source)
        if seen is None:
            source.add(depth, f"if {test}:")
        else:
            remembered = source.ref(seen, "passed")
            room = f"len({remembered}) < {PASSED_LIMIT}"
            keep = f"if {room}: {remembered}.add(v)"
            # Not remembered when blank: a Delete's checks pass a blank required field.
            keep_checked = f"if v.strip() and {room}: {remembered}.add(v)"
            source.add(depth, f"if v in {remembered}:")
            block(depth + 1, fire)
            source.add(depth, f"elif {test}:")
        block(depth + 1, keep, fire)
        source.add(depth, "else:")
        source.add(depth + 1, f"problem = {source.ref(check, 'check')}(v, row)")
        source.add(depth + 1, "if problem is None:")
        block(depth + 2, keep_checked, fire)
        source.add(depth + 1, "else:")
        block(depth + 2, "issues.append(problem)",
              f"failed.add({source.ref(spec.name, 'name')})")
    loop: FieldLoop = source.function("check_fields", "f, row, issues, failed, applies")
    return loop


_validators: dict[str, Validator] = {}


def validator_for(layout: Layout, catalog: Catalog) -> Validator:
    """The compiled validator of a layout, built once per process."""
    key = f"{layout.record_type}/{layout.layout_version}"
    if key not in _validators:
        _validators[key] = Validator(layout, catalog)
    return _validators[key]
