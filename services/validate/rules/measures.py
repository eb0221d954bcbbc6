"""Compilers of the kinds that measure: ages, dates within an academic year or near another
date, days of the year, and numbers compared with other fields (``rule_kinds.py``). Like every
compiler, each treats a blank or malformed value as its own field's business."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from services.validate.rules.registry import Fields, Holds, Index, compiles, condition
from shared.catalog.rule_kinds import (
    AgeOn,
    AgeOnWhen,
    AtMost,
    AtMostDifference,
    CurrentYearDateWhen,
    DateInYear,
    DateNearWhen,
    MonthDayWhen,
    OpenRange,
)
from shared.windows import academic_year


def _first_year(date: str, starts: str) -> int:
    """The first calendar year of the academic year a CCYYMMDD date falls in."""
    return int(date[:4]) - (date[4:8] < starts.replace("-", ""))


def _number(value: str) -> Decimal | None:
    """The number in a field (digits with a decimal point, as the NU type check allows), or
    None when it is blank or not a number; decimals, so 10.3 - 10.1 is 0.2 exactly."""
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


@compiles(AgeOn)
def _age_on(p: AgeOn, index: Index) -> Holds:
    return _age_between(index[p.born], index[p.at], p.minimum, p.maximum)


def _age_between(born: int, at: int, low: int | None, high: int | None) -> Holds:
    """The age test of ``age-on`` and ``age-on-when``: whole years from the date at ``born``
    to the date at ``at``."""

    def ok(f: Fields, today: dt.date) -> bool:
        b, d = f[born].strip(), f[at].strip()
        if len(b) != 8 or len(d) != 8:
            return True  # a blank date is its own field's business
        age = int(d[:4]) - int(b[:4]) - (d[4:] < b[4:])
        return (low is None or age >= low) and (high is None or age <= high)

    return ok


@compiles(DateInYear)
def _date_in_year(p: DateInYear, index: Index) -> Holds:
    i, j, starts = index[p.field], index[p.year], p.year_starts

    def ok(f: Fields, today: dt.date) -> bool:
        date, year = f[i].strip(), f[j].strip()
        if len(date) != 8 or len(year) != 9:
            return True  # blank (or malformed) is the fields' own business
        return str(_first_year(date, starts)) == year[:4]

    return ok


@compiles(CurrentYearDateWhen)
def _current_year_date(p: CurrentYearDateWhen, index: Index) -> Holds:
    i, starts = index[p.field], p.year_starts

    def ok(f: Fields, today: dt.date) -> bool:
        date = f[i].strip()
        if len(date) != 8:
            return True
        return str(_first_year(date, starts)) == academic_year(today, starts)[:4]

    return ok


@compiles(AtMost)
def _at_most(p: AtMost, index: Index) -> Holds:
    i, j = index[p.field], index[p.other]

    def ok(f: Fields, today: dt.date) -> bool:
        value, most = _number(f[i]), _number(f[j])
        return value is None or most is None or value <= most  # blank: the fields' business

    return ok


def _day(value: str) -> dt.date | None:
    try:
        return dt.date(int(value[:4]), int(value[4:6]), int(value[6:8]))
    except ValueError:
        return None


@compiles(DateNearWhen)
def _date_near(p: DateNearWhen, index: Index) -> Holds:
    i, j = index[p.field], index[p.other]
    before, after = dt.timedelta(days=p.days_before), dt.timedelta(days=p.days_after)

    def ok(f: Fields, today: dt.date) -> bool:
        a, b = f[i].strip(), f[j].strip()
        if len(a) != 8 or len(b) != 8:
            return True
        date, other = _day(a), _day(b)
        if date is None or other is None:
            return True
        return other - before <= date <= other + after

    return ok

@compiles(AtMostDifference)
def _at_most_difference(p: AtMostDifference, index: Index) -> Holds:
    i, j, k = index[p.field], index[p.other], index[p.less]

    def ok(f: Fields, today: dt.date) -> bool:
        value, most, less = _number(f[i]), _number(f[j]), _number(f[k])
        if value is None or most is None or less is None:
            return True  # a blank is the required rules' business
        return value <= most - less

    return ok


@compiles(OpenRange)
def _open_range(p: OpenRange, index: Index) -> Holds:
    i, above, below = index[p.field], Decimal(str(p.above)), Decimal(str(p.below))

    def ok(f: Fields, today: dt.date) -> bool:
        value = _number(f[i])
        return value is None or above < value < below

    return ok


@compiles(MonthDayWhen)
def _month_day(p: MonthDayWhen, index: Index) -> Holds:
    i = index[p.field]
    starts, ends = p.starts.replace("-", ""), p.ends.replace("-", "")

    def ok(f: Fields, today: dt.date) -> bool:
        value = f[i].strip()
        if len(value) != 8:
            return True  # a blank date is its own field's business
        day = value[4:]
        return starts <= day <= ends if starts <= ends else (day >= starts or day <= ends)

    return ok


@compiles(AgeOnWhen)
def _age_on_when(p: AgeOnWhen, index: Index) -> Holds:
    age = _age_between(index[p.born], index[p.field], p.minimum, p.maximum)
    if p.also is None:
        return age
    also = condition(p.also, index)
    return lambda f, today: not also(f) or age(f, today)
