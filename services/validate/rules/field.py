"""Single-field checks compiled from a FieldSpec: required, length, type, code, characters.

A field's checks are data first (``field_tests``): for each, the expression that holds when a
value passes and the issue when it does not. ``compile_field`` writes them out as one function
that returns a value's first issue; the engine reads the same expressions as one test of a value
that passes them all (``passes``), and calls the function only for a value that does not.
"""

from __future__ import annotations

import datetime as dt
import re
import string
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from services.validate.codegen import Source
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


def is_name(value: str, charset: Charset) -> bool:
    """Whether every character of the value is one of the charset's (IVR0009)."""
    if value.isascii():
        return not value.strip(_ASCII_CHARSETS[charset])
    return _CHARSETS[charset].fullmatch(unicodedata.normalize("NFC", value)) is not None


def is_academic_year(value: str) -> bool:
    """Whether the value is an academic year such as 2025-2026."""
    match = _ACADEMIC_YEAR.fullmatch(value)
    return match is not None and int(match[2]) == int(match[1]) + 1


@dataclass(frozen=True, slots=True)
class FieldTest:
    """One check of a non-blank value: ``passes`` is a Python expression over the value ``v``
    (names from the Source it was made with) that holds when the value passes; ``failure`` gives
    the issue's code and message for a value that does not."""

    passes: str
    failure: Callable[[str], tuple[str, str]]


def _allowed_values(spec: FieldSpec, codesets: dict[str, CodeSet]
                    ) -> tuple[frozenset[str] | None, str]:
    """The values a field may take (None: any) and the name of its code set."""
    if spec.codeset is not None:
        codeset = codesets[spec.codeset]
        return (frozenset(codeset.values) if codeset.enforce else None), codeset.title
    return (frozenset(spec.allowed) if spec.allowed is not None else None), "allowed"


_SSID_MESSAGES = {
    "ssid-format": "must be 10 digits and must not start with 0.",
    "ssid-check-digit": "has a wrong check digit; check the SSID for a typing error.",
}


@dataclass(frozen=True, slots=True)
class _Said:
    """How a field's issues name it and its value (a pii value is never shown)."""

    label: str
    pii: bool

    def shown(self, value: str) -> str:
        return "" if self.pii else f" '{value}'"


def field_tests(spec: FieldSpec, codesets: dict[str, CodeSet],
                source: Source) -> list[FieldTest]:
    """The checks of a non-blank value of the field, in the order users expect (the first
    that fails is the value's issue)."""
    said = _Said(f"{spec.title} ({spec.id})", spec.pii)
    return [*_form_tests(spec, source, said), *_value_tests(spec, codesets, source, said),
            *_named_tests(spec, source, said)]


def _form_tests(spec: FieldSpec, source: Source, said: _Said) -> list[FieldTest]:
    """The value's type and length."""
    label, shown, tests = said.label, said.shown, []
    if spec.type is FieldType.DT:
        form = spec.date_format

        def bad_date(v: str) -> tuple[str, str]:
            return "invalid-date", f"{label}{shown(v)} is not a valid date in the form {form}."

        tests.append(FieldTest(f"{source.ref(is_date, 'is_date')}(v, {source.ref(form, 'form')})",
                               bad_date))
    limit = spec.max_length

    def too_long(v: str) -> tuple[str, str]:
        return "max-length", f"{label} is {len(v)} characters; the maximum is {limit}."

    tests.append(FieldTest(f"len(v) <= {source.ref(limit, 'limit')}", too_long))
    if spec.type is FieldType.NU:
        def not_number(v: str) -> tuple[str, str]:
            return "invalid-number", f"{label}{shown(v)} is not a number."

        tests.append(FieldTest('v.replace(".", "", 1).isdigit()', not_number))
    return tests


def _value_tests(spec: FieldSpec, codesets: dict[str, CodeSet], source: Source,
                 said: _Said) -> list[FieldTest]:
    """The values and characters the field allows."""
    label, shown, tests = said.label, said.shown, []
    allowed, code_label = _allowed_values(spec, codesets)
    if allowed is not None:
        def not_code(v: str) -> tuple[str, str]:
            return "invalid-code", f"{label}{shown(v)} is not a valid {code_label} code."

        tests.append(FieldTest(f"v in {source.ref(allowed, 'allowed')}", not_code))
    if spec.charset is not None:
        charset = spec.charset
        allowed_text = ("apostrophes, slashes and spaces." if charset is Charset.NAME
                        else "and apostrophes.")

        def bad_characters(v: str) -> tuple[str, str]:
            return "invalid-characters", (f"{label} may contain only letters, digits, periods, "
                                          f"hyphens, {allowed_text}")

        # An ASCII name is tested inline (every value of a name field is tested: pii is never
        # remembered); any other goes through is_name's pattern.
        tests.append(FieldTest(
            f"(not v.strip({source.ref(_ASCII_CHARSETS[charset], 'chars')}) if v.isascii() "
            f"else {source.ref(is_name, 'is_name')}(v, {source.ref(charset, 'charset')}))",
            bad_characters))
    if spec.pattern:
        def bad_format(v: str) -> tuple[str, str]:
            return "invalid-format", f"{label}{shown(v)} has the wrong format."

        pattern = re.compile(spec.pattern).fullmatch
        tests.append(FieldTest(f"{source.ref(pattern, 'pattern')}(v) is not None", bad_format))
    return tests


def _named_tests(spec: FieldSpec, source: Source, said: _Said) -> list[FieldTest]:
    """The field's named checks (FieldCheck)."""
    label, shown, tests = said.label, said.shown, []
    for extra in spec.checks:
        if extra is FieldCheck.SSID:
            def bad_ssid(v: str) -> tuple[str, str]:
                code = ssid_problem(v) or "ssid-format"
                return code, f"{label}{shown(v)} {_SSID_MESSAGES[code]}"

            tests.append(FieldTest(f"{source.ref(ssid_problem, 'ssid_problem')}(v) is None",
                                   bad_ssid))
        else:
            def bad_year(v: str) -> tuple[str, str]:
                return "invalid-academic-year", (f"{label}{shown(v)} must be an academic year "
                                                 "such as 2025-2026.")

            tests.append(FieldTest(f"{source.ref(is_academic_year, 'is_year')}(v)", bad_year))
    return tests


def passes(spec: FieldSpec, codesets: dict[str, CodeSet], source: Source) -> str:
    """An expression over ``v`` that holds when the value passes every check of the field
    (a blank value does not: whether blank is allowed is the full check's answer)."""
    test = " and ".join(["v.strip()", *(f"({t.passes})" for t in field_tests(
        spec, codesets, source))])
    if spec.hashed:  # a value in the stored form (from an export, a held record) is kept
        return f"({source.ref(is_hashed, 'is_hashed')}(v.strip()) or ({test}))"
    return test


def compile_field(spec: FieldSpec, codesets: dict[str, CodeSet]) -> FieldChecker:
    """One function that applies every check of the field, in the order users expect."""
    source = Source()

    def issue(row: int, failure: tuple[str, str]) -> Issue:
        return Issue(row=row, field=spec.id, field_name=spec.title, code=failure[0],
                     severity=Severity.FATAL, message=failure[1])

    fail = source.ref(issue, "issue")
    if spec.hashed:
        source.add(1, f"if {source.ref(is_hashed, 'is_hashed')}(v.strip()):")
        source.add(2, "return None")
    def blank() -> tuple[str, str]:
        return "required", f"{spec.title} ({spec.id}) is required."

    source.add(1, "if not v.strip():")  # blank, or only spaces: harmless in an optional field
    source.add(2, f"return {fail}(row, {source.ref(blank(), 'blank')})" if spec.required
               else "return None")
    for test in field_tests(spec, codesets, source):
        source.add(1, f"if not ({test.passes}):")
        source.add(2, f"return {fail}(row, {source.ref(test.failure, 'failure')}(v))")
    checker: FieldChecker = source.function("check", "v, row")
    return checker
