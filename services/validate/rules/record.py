"""Record rules compiled from RecordRule data: conditions across fields of one record."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping

from services.validate.rules.field import parse_date
from shared.catalog.models import Condition, FieldSpec, RecordRule
from shared.issues import Issue

Values = Mapping[str, str]
RecordChecker = Callable[[Values, int, dt.date], Issue | None]
"""(values by field name, row, submission date) -> an issue, or None when the rule holds."""


def _holds(condition: Condition, values: Values) -> bool:
    value = values[condition.field]
    if condition.in_ is not None:
        return value.strip() in condition.in_ or value in condition.in_
    return bool(value.strip()) is condition.populated


def _required(rule: RecordRule) -> Callable[[Values, dt.date], bool]:
    field, when = rule.field, rule.when
    assert field is not None
    assert when is not None
    return lambda v, today: not _holds(when, v) or bool(v[field].strip())


def _blank(rule: RecordRule) -> Callable[[Values, dt.date], bool]:
    field, when = rule.field, rule.when
    assert field is not None
    assert when is not None
    return lambda v, today: not _holds(when, v) or not v[field].strip()


def _allowed(rule: RecordRule) -> Callable[[Values, dt.date], bool]:
    field, when, allowed = rule.field, rule.when, frozenset(rule.values or ())
    assert field is not None
    assert when is not None
    return lambda v, today: not _holds(when, v) or v[field].strip() in allowed


def _date_order(rule: RecordRule) -> Callable[[Values, dt.date], bool]:
    earlier, later, or_equal = rule.earlier, rule.later, rule.or_equal
    assert earlier is not None
    assert later is not None

    def ok(v: Values, today: dt.date) -> bool:
        first, second = parse_date(v[earlier]), parse_date(v[later])
        if first is None or second is None:
            return True  # a blank or invalid date is its own field's issue
        return second >= first if or_equal else second > first

    return ok


def _date_window(rule: RecordRule) -> Callable[[Values, dt.date], bool]:
    field, days = rule.field, dt.timedelta(days=rule.days or 0)
    assert field is not None

    def ok(v: Values, today: dt.date) -> bool:
        date = parse_date(v[field])
        return date is None or date <= today + days

    return ok


RECORD_RULE_KINDS: dict[str, Callable[[RecordRule], Callable[[Values, dt.date], bool]]] = {
    "required-when": _required,
    "blank-when": _blank,
    "allowed-when": _allowed,
    "date-order": _date_order,
    "date-window": _date_window,
}


def rule_fields(rule: RecordRule) -> tuple[str, ...]:
    """Names of the fields a rule reads (it is skipped when one of them already failed)."""
    names = (rule.field, rule.earlier, rule.later, rule.when.field if rule.when else None)
    return tuple(n for n in names if n is not None)


def compile_rule(rule: RecordRule, fields: Mapping[str, FieldSpec]) -> RecordChecker:
    """One function that applies the rule and builds its issue."""
    holds = RECORD_RULE_KINDS[rule.kind](rule)
    target = fields[rule.field or rule.later or rule_fields(rule)[0]]

    def check(values: Values, row: int, today: dt.date) -> Issue | None:
        if holds(values, today):
            return None
        return Issue(row=row, field=target.id, field_name=target.title, code=rule.code,
                     severity=rule.severity, message=rule.message,
                     rule_id=rule.spec_rule_id or rule.id)

    return check
