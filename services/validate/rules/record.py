"""Record rules compiled from RecordRule data: conditions across fields of one record.

Rules read fields by position (the record as split), so no per-record mapping is built. A rule is
skipped by the engine when a field it reads already failed its own checks; dates reaching a rule
are therefore valid dates of their field's form, or blank.

A conditional kind (``when``) is compiled without its condition: ``RuleSet`` tests conditions
from the values of the condition fields as the engine reads them, so a record runs only the
rules whose condition holds (most conditions name an optional field that is blank).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from services.validate.rules import measures  # noqa: F401 - registers the measuring kinds
from services.validate.rules.registry import COMPILERS, Fields, Holds, Index, compiles, condition
from shared.catalog.base import Condition, in_range
from shared.catalog.models import FieldSpec
from shared.catalog.rule_kinds import (
    AllowedWhen,
    AllowedWhenBoth,
    BlankWhen,
    Conditional,
    CurrentYearWhen,
    DateOrder,
    DateWindow,
    Different,
    ExcludedWhen,
    RangeWhen,
    RecordRule,
    RequiredWhen,
    RequiredWhenBoth,
    YearWindow,
)
from shared.issues import Issue
from shared.windows import academic_year


@compiles(RequiredWhen)
def _required(p: RequiredWhen, index: Index) -> Holds:
    i = index[p.field]
    return lambda f, today: bool(f[i].strip())


@compiles(BlankWhen)
def _blank(p: BlankWhen, index: Index) -> Holds:
    i = index[p.field]
    return lambda f, today: not f[i].strip()


@compiles(AllowedWhen)
def _allowed(p: AllowedWhen, index: Index) -> Holds:
    i, allowed = index[p.field], frozenset(p.values)
    return lambda f, today: f[i].strip() in allowed


@compiles(ExcludedWhen)
def _excluded(p: ExcludedWhen, index: Index) -> Holds:
    i, excluded = index[p.field], frozenset(p.values)
    return lambda f, today: f[i].strip() not in excluded


@compiles(RangeWhen)
def _range(p: RangeWhen, index: Index) -> Holds:
    i, low, high = index[p.field], p.minimum, p.maximum
    return lambda f, today: in_range(f[i], low, high)


@compiles(CurrentYearWhen)
def _current_year(p: CurrentYearWhen, index: Index) -> Holds:
    i, starts = index[p.field], p.year_starts
    return lambda f, today: f[i].strip() == academic_year(today, starts)


@compiles(DateOrder)
def _date_order(p: DateOrder, index: Index) -> Holds:
    first, second, or_equal = index[p.earlier], index[p.later], p.or_equal
    unless = condition(p.unless, index) if p.unless is not None else None

    def ok(f: Fields, today: dt.date) -> bool:
        a, b = f[first].strip(), f[second].strip()
        if len(a) != 8 or len(b) != 8:
            return True  # a blank date is its own field's business
        if unless is not None and unless(f):
            return True
        return b >= a if or_equal else b > a

    return ok


@compiles(DateWindow)
def _date_window(p: DateWindow, index: Index) -> Holds:
    i, days = index[p.field], dt.timedelta(days=p.days)
    limits: dict[dt.date, str] = {}

    def ok(f: Fields, today: dt.date) -> bool:
        value = f[i].strip()
        if len(value) != 8:
            return True
        limit = limits.get(today)
        if limit is None:
            limit = limits[today] = (today + days).strftime("%Y%m%d")
        return value <= limit

    return ok


@compiles(YearWindow)
def _year_window(p: YearWindow, index: Index) -> Holds:
    i, years, starts = index[p.field], p.years, p.year_starts

    def ok(f: Fields, today: dt.date) -> bool:
        value = f[i].strip()
        if len(value) != 9:
            return True  # a malformed year is its own field's business
        return value[:4] <= str(int(academic_year(today, starts)[:4]) + years)

    return ok


@compiles(Different)
def _different(p: Different, index: Index) -> Holds:
    i, j = index[p.field], index[p.other]

    def ok(f: Fields, today: dt.date) -> bool:
        a, b = f[i].strip(), f[j].strip()
        return not a or not b or a != b

    return ok


@compiles(RequiredWhenBoth)
def _required_both(p: RequiredWhenBoth, index: Index) -> Holds:
    i, also = index[p.field], condition(p.also, index)
    return lambda f, today: bool(f[i].strip()) or not also(f)


@compiles(AllowedWhenBoth)
def _allowed_both(p: AllowedWhenBoth, index: Index) -> Holds:
    i, allowed, also = index[p.field], frozenset(p.values), condition(p.also, index)
    return lambda f, today: f[i].strip() in allowed or not also(f)


RuleIssue = Callable[[int], Issue]
"""(row) -> the issue of a record that breaks the rule."""
Compiled = tuple[frozenset[str], Holds, RuleIssue]
"""A rule as the engine runs it: the fields it reads, its test, its issue."""
COMBINATIONS = 4096
"""Combinations of triggered rules a layout keeps the order of (each a tuple of rules)."""


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """A rule as the engine runs it: ``holds`` once ``when`` (if any) holds, else ``issue``."""

    reads: frozenset[str]
    when: Condition | None
    holds: Holds
    issue: RuleIssue


def compile_rule(rule: RecordRule, fields: Mapping[str, FieldSpec],
                 index: Index) -> CompiledRule:
    """The rule's test and the issue it builds; its condition is left to ``RuleSet``."""
    holds = COMPILERS[type(rule.params)](rule.params, index)
    target = fields[rule.about]
    message = rule.text({name: spec.title for name, spec in fields.items()})

    def issue(row: int) -> Issue:
        return Issue(row=row, field=target.id, field_name=target.title, code=rule.code,
                     severity=rule.severity, message=message,
                     rule_id=rule.spec_rule_id or rule.id)

    when = rule.params.when if isinstance(rule.params, Conditional) else None
    return CompiledRule(frozenset(rule.reads()), when, holds, issue)


Trigger = Callable[[str], Sequence[int]]
"""(a condition field's value, not blank-failed) -> positions of the rules it makes apply."""


class RuleSet:
    """Rules of a layout, arranged so a record runs only the rules that apply to it.

    A condition that can hold for a blank value (``populated: false``, ``in`` with "") is tested
    for every record (``always``); any other is tested by its field's ``trigger`` when the engine
    reads a value there that passed the field's checks.
    """

    def __init__(self, rules: Sequence[CompiledRule], names: Sequence[str]) -> None:
        index = {name: i for i, name in enumerate(names)}
        self.rules: tuple[Compiled, ...] = tuple(
            (r.reads, r.holds if r.when is None or not r.when.holds("")
             else _guarded(condition(r.when, index), r.holds), r.issue) for r in rules)
        self.always = tuple(pos for pos, r in enumerate(rules)
                            if r.when is None or r.when.holds(""))
        triggered: dict[int, list[tuple[Condition, int]]] = {}
        for pos, r in enumerate(rules):
            if r.when is not None and not r.when.holds(""):
                triggered.setdefault(index[r.when.field], []).append((r.when, pos))
        self.triggers: tuple[Trigger | None, ...] = tuple(
            _trigger(triggered[i]) if i in triggered else None for i in range(len(names)))
        self._always = tuple(self.rules[pos] for pos in self.always)
        self._applying: dict[tuple[int, ...], tuple[Compiled, ...]] = {}

    def applying(self, triggered: list[int]) -> tuple[Compiled, ...]:
        """The rules a record runs, in rule order: those always tested and those its values
        triggered (the few combinations a layout's records make are kept, at most
        ``COMBINATIONS``)."""
        if not triggered:
            return self._always
        key = tuple(triggered)
        found = self._applying.get(key)
        if found is None:
            found = tuple(self.rules[pos] for pos in sorted({*self.always, *triggered}))
            if len(self._applying) < COMBINATIONS:
                self._applying[key] = found
        return found


def _guarded(when: Callable[[Fields], bool], holds: Holds) -> Holds:
    return lambda f, today: not when(f) or holds(f, today)


def _trigger(conditions: list[tuple[Condition, int]]) -> Trigger:
    """The rules a value of one field makes apply, by the conditions on that field."""
    by_value: dict[str, list[int]] = {}
    populated, ranges = [], []
    for when, pos in conditions:
        if when.in_ is not None:
            for value in when.in_:
                by_value.setdefault(value, []).append(pos)
        elif when.between is not None:
            ranges.append((*when.between, pos))
        else:
            populated.append(pos)  # populated: true (false holds on blank: always tested)
    values = {value: tuple(p) for value, p in by_value.items()}
    also = tuple(populated)
    none: tuple[int, ...] = ()
    if not ranges:
        if not values:
            return lambda v: also if v.strip() else none
        if not also:
            return lambda v: values.get(v) or values.get(v.strip(), none)

    def fire(value: str) -> Sequence[int]:
        stripped = value.strip()
        found = [*values.get(stripped, none)]
        if stripped != value:
            found += values.get(value, none)
        if stripped:
            found += also
            found += [pos for low, high, pos in ranges if in_range(stripped, low, high)]
        return found

    return fire
