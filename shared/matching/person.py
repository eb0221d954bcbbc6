"""One student as matching sees them: the ten matching fields as comparison keys.

A :class:`Person` is a plain tuple (a registry of a million is a million small tuples of
interned strings, no per-row dicts). :func:`read_person` turns the submitted text of a row into
keys and reports every value it could not use as an :class:`~shared.issues.Issue`; such a value
is blank in the person, so it is never matched on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import NamedTuple

from shared.catalog.models import Severity
from shared.issues import Issue
from shared.matching.normalise import (
    SsnHasher,
    code_key,
    gender_key,
    id_key,
    iso_date,
    literal_key,
    name_key,
    ssn_digits,
)
from shared.matching.ssid import ssid_problem

HASH_PREFIX = "hmac-sha256:"  # shared.privacy.HASH_PREFIX (matching does not import it)


class Person(NamedTuple):
    """The matching fields of one student (design.md §8 column order), as comparison keys.

    ``ssn`` is the keyed hash of the SSN (never the digits); ``dob`` is ``YYYYMMDD``; ``""`` is
    unknown. For a registry identity ``ssid`` is its current SSID.
    """

    ssid: str
    legal_last: str
    legal_first: str
    preferred_last: str
    preferred_first: str
    dob: str
    gender: str
    ssn: str
    resident_district: str
    district_student_id: str


FIELDS: tuple[str, ...] = Person._fields
_new_person = tuple.__new__
"""The matching columns of ``edcs match`` files, in order (design.md §8)."""

class KeyScheme(StrEnum):
    """How submitted text becomes comparison keys."""

    EDCS = "edcs"  # design.md §5: names, dates and ids normalised (shared/matching/normalise.py)
    LITERAL = "literal"  # Appendix E taken literally: trimmed and case-folded only


_MESSAGES = {
    "ssid-format": "is not 10 digits starting with 1-9",
    "ssid-check-digit": "has a wrong check digit",
    "invalid-date": "is not a real date in the form YYYY-MM-DD",
    "invalid-format": "is not 9 digits",
    "required": "is blank (or punctuation only)",
}

REQUIRED = ("legal_last", "legal_first", "dob", "gender")
"""Fields a submitted record needs (the ODE-SSID layout's required matching fields)."""


class Reader:
    """Reads rows into persons with one key scheme and one SSN key."""

    def __init__(self, ssn_key: bytes, scheme: KeyScheme = KeyScheme.EDCS,
                 date: Callable[[str], str | None] = iso_date,
                 required: tuple[str, ...] = ()) -> None:
        """Set up a reader.

        Args:
            ssn_key: the HMAC key SSNs are hashed with (design.md §6).
            scheme: edcs normalisation, or Appendix E's literal comparison.
            date: parses the date column into ``YYYYMMDD`` (``""`` blank, None impossible).
            required: fields reported when blank (submitted records; a registry is taken as
                it is).
        """
        self.scheme = scheme
        self._hash = SsnHasher(ssn_key)
        self._date = date
        self._required = tuple(FIELDS.index(f) for f in required)

    def read(self, values: Sequence[str], line: int | None = None
             ) -> tuple[Person, list[Issue]]:
        """The person of one row's ten values, and the issues of the values it left out.

        Args:
            values: the ten fields in :data:`FIELDS` order, as submitted.
            line: the physical line, for the issues.

        Returns:
            The person (a problem value is blank in it) and the problems.
        """
        problems: list[tuple[str, str]] = []
        ssid = values[0].strip()
        if ssid and (code := ssid_problem(ssid)) is not None:
            problems.append(("ssid", code))
            ssid = ""
        dob = self._date(values[5])
        if dob is None:
            problems.append(("dob", "invalid-date"))
            dob = ""
        ssn = values[7].strip()
        digits: str | None
        if ssn.startswith(HASH_PREFIX):  # stored already as its keyed hash (shared.privacy)
            digits, hashed = ssn, ssn[len(HASH_PREFIX):]
        else:
            digits = ssn_digits(values[7])
            if digits is None:
                problems.append(("ssn", "invalid-format"))
                digits = ""
            hashed = self._hash(digits)
        person = _new_person(Person, (  # Person(...) without its Python-level __new__
            ssid, name_key(values[1]), name_key(values[2]), name_key(values[3]),
            name_key(values[4]), dob, gender_key(values[6]), hashed,
            code_key(values[8]), id_key(values[9])))
        for i in self._required:
            if not person[i] and not (i == 5 and values[5].strip()):
                problems.append((FIELDS[i], "required"))
        if self.scheme is KeyScheme.LITERAL:
            person = self._literal(values, ssid, dob, digits)
        if not problems:
            return person, []
        return person, [Issue(row=line, field=field, field_name=field, code=code,
                              severity=Severity.FATAL,
                              message=f"{field} {_MESSAGES[code]}; left out of matching")
                        for field, code in problems]

    def _literal(self, values: Sequence[str], ssid: str, dob: str, digits: str) -> Person:
        # Unusable values are blank in both schemes, so both see the same rows; everything else
        # is compared as written, blank included (literal_key("") == literal_key("")).
        keys = [literal_key(v) for v in values]
        return Person(ssid, keys[1], keys[2], keys[3], keys[4],
                      keys[5] if dob else "", keys[6],
                      self._hash(keys[7]) if digits else "", keys[8], keys[9])
