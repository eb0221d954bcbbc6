"""Student Lookup and Record Maintenance searches (Oregon seed, Appendix F).

The search forms: by SSID; by institution (a district or school the user acts for); by
demographics (last name, first name, birth date, gender, grade, district student id). Names
match by prefix, case-insensitively ("Johnston" finds "Johnston-Smith"), and a trailing
bracket range matches a range of letters (``[a-d]`` finds every name starting a to d,
``Sm[a-i]`` Smart and Smith). Forms combine. The population is one of:

- ``current``: an activity date (the last time a file posted the record) on or after July 1 of
  the current school year;
- ``last-year``: an activity date from July 1 to June 30 of the previous school year;
- ``all``: every current record (ended or replaced records are not current records).

Every search is limited to ``web.max_search_results`` (5,000) results except the Production
Download. Unlike Appendix F, a search by SSID or name never reaches beyond the institutions the
user acts for: a district sees only its own students (design.md §6; docs/decisions.md).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, fields

from sqlalchemy import ColumnElement, and_, func, or_, true

from services.web.problems import Problem
from shared.catalog.models import FieldType, Layout
from shared.db.models import OdsRecord

ROLES: dict[str, tuple[str, ...]] = {
    "ssid": ("ssid",),
    "last": ("legal_last", "student_legal_last_name"),
    "first": ("legal_first", "student_legal_first_name"),
    "dob": ("dob", "student_birth_date"),
    "gender": ("gender", "student_gender_code"),
    "grade": ("enrolled_grade", "grade_level_code"),
    "student_id": ("district_student_id", "local_student_id"),
}
POPULATIONS = ("current", "last-year", "all")
_NAME = re.compile(r"([^\[\]]*)(?:\[([a-z])-([a-z])\])?", re.IGNORECASE)


@dataclass(frozen=True)
class Search:
    """What the search forms ask for (blank: any)."""

    ssid: str = ""
    institution: str = ""
    last: str = ""
    first: str = ""
    dob: str = ""  # YYYY-MM-DD
    gender: str = ""
    grade: str = ""
    student_id: str = ""
    population: str = "all"

    def given(self) -> dict[str, str]:
        """The criteria that were filled in."""
        return {f.name: getattr(self, f.name).strip() for f in fields(self)
                if f.name != "population" and getattr(self, f.name).strip()}


def field_index(layout: Layout, role: str) -> int | None:
    """Where the layout keeps the field a search criterion reads, if it has one."""
    names = [f.name for f in layout.fields]
    return next((names.index(n) for n in ROLES[role] if n in names), None)


def searchable(layout: Layout) -> list[str]:
    """The criteria this layout's records can be searched by."""
    return ["institution", *(r for r in ROLES if field_index(layout, r) is not None)]


def school_year_start(today: dt.date) -> dt.date:
    """July 1 of the school year ``today`` is in."""
    return dt.date(today.year if today.month >= 7 else today.year - 1, 7, 1)


def _value(index: int) -> ColumnElement[str]:
    value: ColumnElement[str] = OdsRecord.fields[index].as_string()
    return value


def _name(index: int, pattern: str) -> ColumnElement[bool]:
    match = _NAME.fullmatch(pattern.strip())
    if match is None:
        raise Problem(422, "A name is matched by its first letters, optionally ending with a "
                           "range of letters in brackets such as Sm[a-i].")
    prefix, low, high = match.group(1).lower(), match.group(2), match.group(3)
    column = func.lower(_value(index))
    if low is None or high is None:
        return column.startswith(prefix, autoescape=True)
    low, high = low.lower(), high.lower()
    if low > high:
        raise Problem(422, "A letter range goes from the earlier letter to the later one, "
                           "such as [a-d].")
    return and_(column >= prefix + low, column < prefix + chr(ord(high) + 1))


def _date(layout: Layout, index: int, value: str) -> str:
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise Problem(422, "A birth date is written YYYY-MM-DD.") from None
    spec = layout.fields[index]
    if spec.type is FieldType.DT and spec.date_format == "MMDDCCYY":
        return day.strftime("%m%d%Y")
    return day.strftime("%Y%m%d")


def criteria(layout: Layout, search: Search, today: dt.date) -> ColumnElement[bool]:
    """The condition on posted records of the layout that the search describes."""
    parts: list[ColumnElement[bool]] = [OdsRecord.record_type == layout.record_type]
    for role, value in search.given().items():
        if role == "institution":
            parts.append(or_(OdsRecord.lea == value, OdsRecord.school == value))
            continue
        index = field_index(layout, role)
        if index is None:
            raise Problem(422, f"{layout.record_type} records cannot be searched by {role}.")
        if role in ("last", "first"):
            parts.append(_name(index, value))
        elif role == "dob":
            parts.append(_value(index) == _date(layout, index, value))
        else:
            parts.append(func.upper(_value(index)) == value.upper())
    if search.population not in POPULATIONS:
        raise Problem(422, f"The population is one of {', '.join(POPULATIONS)}.")
    start = dt.datetime.combine(school_year_start(today), dt.time())
    if search.population == "current":
        parts.append(OdsRecord.updated_at >= start)
    elif search.population == "last-year":
        parts.append(and_(OdsRecord.updated_at >= start.replace(year=start.year - 1),
                          OdsRecord.updated_at < start))
    return and_(true(), *parts)
