"""Record rules compiled from RecordRule data: conditions across fields of one record.

Rules read fields by position (the record as split), so no per-record mapping is built. A rule is
skipped by the engine when a field it reads already failed its own checks; dates reaching a rule
are therefore valid CCYYMMDD strings or blank, and compare correctly as strings.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping

from shared.catalog.models import Condition, FieldSpec, RecordRule, in_range
from shared.issues import Issue
from shared.windows import academic_year

Fields = list[str]
RecordChecker = Callable[[Fields, int, dt.date], Issue | None]
"""(fields in layout order, row, submission date) -> an issue, or None when the rule holds."""
Holds = Callable[[Fields, dt.date], bool]


def _condition(condition: Condition, index: Mapping[str, int]) -> Callable[[Fields], bool]:
    i = index[condition.field]
    if condition.in_ is not None:
        values = frozenset(condition.in_)
        return lambda f: f[i] in values or f[i].strip() in values
    if condition.between is not None:
        low, high = condition.between
        return lambda f: in_range(f[i], low, high)
    if condition.populated:
        return lambda f: bool(f[i].strip())
    return lambda f: not f[i].strip()


def _required(rule: RecordRule, index: Mapping[str, int]) -> Holds:
    assert rule.field is not None
    assert rule.when is not None
    i, when = index[rule.field], _condition(rule.when, index)
    return lambda f, today: bool(f[i].strip()) or not when(f)


def _blank(rule: RecordRule, index: Mapping[str, int]) -> Holds:
    assert rule.field is not None
    assert rule.when is not None
    i, when = index[rule.field], _condition(rule.when, index)
    return lambda f, today: not f[i].strip() or not when(f)


def _allowed(rule: RecordRule, index: Mapping[str, int]) -> Holds:
    assert rule.field is not None
    assert rule.when is not None
    i, when, allowed = index[rule.field], _condition(rule.when, index), frozenset(rule.values or ())
    return lambda f, today: f[i].strip() in allowed or not when(f)


def _date_order(rule: RecordRule, index: Mapping[str, int]) -> Holds:
    assert rule.earlier is not None
    assert rule.later is not None
    first, second, or_equal = index[rule.earlier], index[rule.later], rule.or_equal

    def ok(f: Fields, today: dt.date) -> bool:
        a, b = f[first].strip(), f[second].strip()
        if len(a) != 8 or len(b) != 8:
            return True  # a blank date is its own field's business
        return b >= a if or_equal else b > a

    return ok


def _date_window(rule: RecordRule, index: Mapping[str, int]) -> Holds:
    assert rule.field is not None
    i, days = index[rule.field], dt.timedelta(days=rule.days or 0)
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


def _current_year(rule: RecordRule, index: Mapping[str, int]) -> Holds:
    assert rule.field is not None and rule.when is not None
    i, when, starts = index[rule.field], _condition(rule.when, index), rule.year_starts

    def ok(f: Fields, today: dt.date) -> bool:
        return not when(f) or f[i].strip() == academic_year(today, starts)

    return ok


def _year_window(rule: RecordRule, index: Mapping[str, int]) -> Holds:
    assert rule.field is not None and rule.years is not None
    i, years, starts = index[rule.field], rule.years, rule.year_starts

    def ok(f: Fields, today: dt.date) -> bool:
        value = f[i].strip()
        if len(value) != 9:
            return True  # a malformed year is its own field's business
        return value[:4] <= str(int(academic_year(today, starts)[:4]) + years)

    return ok


def _range(rule: RecordRule, index: Mapping[str, int]) -> Holds:
    assert rule.field is not None and rule.when is not None
    assert rule.minimum is not None and rule.maximum is not None
    i, when, low, high = index[rule.field], _condition(rule.when, index), rule.minimum, rule.maximum
    return lambda f, today: in_range(f[i], low, high) or not when(f)


def _excluded(rule: RecordRule, index: Mapping[str, int]) -> Holds:
    assert rule.field is not None and rule.when is not None
    i, when = index[rule.field], _condition(rule.when, index)
    excluded = frozenset(rule.values or ())
    return lambda f, today: f[i].strip() not in excluded or not when(f)


def _different(rule: RecordRule, index: Mapping[str, int]) -> Holds:
    assert rule.field is not None and rule.other is not None
    i, j = index[rule.field], index[rule.other]

    def ok(f: Fields, today: dt.date) -> bool:
        a, b = f[i].strip(), f[j].strip()
        return not a or not b or a != b

    return ok


RECORD_RULE_KINDS: dict[str, Callable[[RecordRule, Mapping[str, int]], Holds]] = {
    "required-when": _required,
    "blank-when": _blank,
    "allowed-when": _allowed,
    "date-order": _date_order,
    "date-window": _date_window,
    "current-year-when": _current_year,
    "year-window": _year_window,
    "range-when": _range,
    "excluded-when": _excluded,
    "different": _different,
}


def compile_rule(rule: RecordRule, fields: Mapping[str, FieldSpec],
                 index: Mapping[str, int]) -> RecordChecker:
    """One function that applies the rule and builds its issue."""
    holds = RECORD_RULE_KINDS[rule.kind](rule, index)
    target = fields[rule.field or rule.later or rule.reads()[0]]

    def check(values: Fields, row: int, today: dt.date) -> Issue | None:
        if holds(values, today):
            return None
        return Issue(row=row, field=target.id, field_name=target.title, code=rule.code,
                     severity=rule.severity, message=rule.message,
                     rule_id=rule.spec_rule_id or rule.id)

    return check
