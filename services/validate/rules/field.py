"""Single-field checks compiled from a FieldSpec: required, length, type, code, characters."""

from __future__ import annotations

import datetime as dt
import re
import string
import unicodedata
from collections.abc import Callable

from shared.catalog.models import Charset, CodeSet, FieldCheck, FieldSpec, FieldType, Severity
from shared.issues import Issue
from shared.matching.ssid import ssid_problem
from shared.privacy import is_hashed

FieldChecker = Callable[[str, int], Issue | None]
"""(value, row) -> the first issue of the value, or None when it passes."""

_CHARSETS = {
    # letters (accented included), digits, period, hyphen, apostrophes, slash, space (IVR0009)
    Charset.NAME: re.compile(r"(?:[^\W_]|[.\-'\u2018\u2019/ ])*"),
    Charset.NAME_NARROW: re.compile(r"(?:[^\W_]|[.\-'\u2018\u2019])*"),
}
# The same sets for an ASCII value, as characters: ``not value.strip(chars)`` holds when every
# character is one of them, several times faster than the pattern (names are never cached).
_ASCII_CHARSETS = {
    Charset.NAME: string.ascii_letters + string.digits + ".-'/ ",
    Charset.NAME_NARROW: string.ascii_letters + string.digits + ".-'",
}
_ACADEMIC_YEAR = re.compile(r"(\d{4})-(\d{4})")


# Every month and day of a leap year as MMDD: a date is checked with a set lookup, not by
# building a datetime.date (this runs for every date of every record).
_MONTH_DAYS = frozenset((dt.date(2024, 1, 1) + dt.timedelta(days=d)).strftime("%m%d")
                        for d in range(366))


def is_date(value: str, form: str = "CCYYMMDD") -> bool:
    """Whether the value is a real calendar date in the form CCYYMMDD (or MMDDCCYY)."""
    if len(value) != 8 or not value.isascii() or not value.isdigit():
        return False
    year, month_day = (value[:4], value[4:]) if form != "MMDDCCYY" else (value[4:], value[:4])
    if month_day not in _MONTH_DAYS or year == "0000":
        return False
    if month_day == "0229":
        number = int(year)
        return number % 4 == 0 and (number % 100 != 0 or number % 400 == 0)
    return True


def _allowed_values(spec: FieldSpec, codesets: dict[str, CodeSet]
                    ) -> tuple[frozenset[str] | None, str]:
    """The values a field may take (None: any) and the name of its code set."""
    if spec.codeset is not None:
        codeset = codesets[spec.codeset]
        return (frozenset(codeset.values) if codeset.enforce else None), codeset.title
    return (frozenset(spec.allowed) if spec.allowed is not None else None), "allowed"


def compile_field(spec: FieldSpec, codesets: dict[str, CodeSet]) -> FieldChecker:  # noqa: C901
    """One function that applies every check of the field, in the order users expect."""
    label = f"{spec.title} ({spec.id})"
    allowed, code_label = _allowed_values(spec, codesets)
    charset = _CHARSETS[spec.charset] if spec.charset is not None else None
    ascii_chars = _ASCII_CHARSETS[spec.charset] if spec.charset is not None else ""
    pattern = re.compile(spec.pattern) if spec.pattern else None

    # Everything read per call is a closure local: this runs for every field of every record.
    required, max_length, pii, checks = spec.required, spec.max_length, spec.pii, spec.checks
    dated, is_number = spec.type is FieldType.DT, spec.type is FieldType.NU
    date_format = spec.date_format
    charset_text = ("apostrophes, slashes and spaces." if spec.charset is Charset.NAME
                    else "and apostrophes.")

    def shown(value: str) -> str:
        return "" if pii else f" '{value}'"

    def issue(row: int, code: str, message: str) -> Issue:
        return Issue(row=row, field=spec.id, field_name=spec.title, code=code,
                     severity=Severity.FATAL, message=message)

    def check(value: str, row: int) -> Issue | None:
        if not value.strip():  # blank, or only spaces: harmless in an optional field
            return issue(row, "required", f"{label} is required.") if required else None
        if dated and not is_date(value, date_format):
            return issue(row, "invalid-date",
                         f"{label}{shown(value)} is not a valid date in the form "
                         f"{date_format}.")
        if len(value) > max_length:
            return issue(row, "max-length", f"{label} is {len(value)} characters; the maximum "
                                            f"is {max_length}.")
        if is_number and not value.replace(".", "", 1).isdigit():
            return issue(row, "invalid-number", f"{label}{shown(value)} is not a number.")
        if allowed is not None and value not in allowed:
            return issue(row, "invalid-code",
                         f"{label}{shown(value)} is not a valid {code_label} code.")
        if charset is not None and (value.strip(ascii_chars) if value.isascii() else
                                    not charset.fullmatch(unicodedata.normalize("NFC", value))):
            return issue(row, "invalid-characters",
                         f"{label} may contain only letters, digits, periods, hyphens, "
                         + charset_text)
        if pattern is not None and not pattern.fullmatch(value):
            return issue(row, "invalid-format", f"{label}{shown(value)} has the wrong format.")
        for extra in checks:
            problem = _named_check(extra, value)
            if problem is not None:
                return issue(row, problem[0], f"{label}{shown(value)} {problem[1]}")
        return None

    if spec.hashed:  # a value in the stored form (from an export, a held record) is kept
        def check_hashed(value: str, row: int) -> Issue | None:
            return None if is_hashed(value.strip()) else check(value, row)

        return check_hashed
    return check


def _named_check(check: FieldCheck, value: str) -> tuple[str, str] | None:
    if check is FieldCheck.SSID:
        code = ssid_problem(value)
        if code == "ssid-format":
            return code, "must be 10 digits and must not start with 0."
        if code == "ssid-check-digit":
            return code, "has a wrong check digit; check the SSID for a typing error."
        return None
    match = _ACADEMIC_YEAR.fullmatch(value)
    if match is None or int(match[2]) != int(match[1]) + 1:
        return "invalid-academic-year", "must be an academic year such as 2025-2026."
    return None
