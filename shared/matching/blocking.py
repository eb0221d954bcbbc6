"""Blocking keys: where a record's candidates come from, never from a scan of the registry.

An identity is filed under :func:`identity_keys`; a submitted record looks under
:func:`probe_keys`, which adds the near misses the suggested levels accept (birth dates with
day and month swapped or two digits swapped, last and first names the other way round,
nicknames through the canonical names of :class:`~shared.matching.nicknames.Nicknames`). The
SSID is looked up on its own (:meth:`~shared.matching.index.IdentityLookup.current_ssid`).

Every level can only hold for a candidate that shares at least one key with the record:

- levels 2, 5: ``("d", district, district id)``; levels 3, 6 and SSN alternatives: ``("s", ssn)``;
- levels 7-9 need a last and a first name and (a near) DOB or the SSN: ``("ld", last, dob)``
  finds a first-name slip, ``("fd", first, dob)`` a last-name slip (and a changed last name,
  level 10), ``("ly", last, first, year)`` and ``("lm", last, first, month+day)`` a birth date
  wrong in one part; ``("ln", last, first)`` serves records without a usable birth date.

Keys are tuples of strings so that a database-backed lookup can store them as they are.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from shared.matching.compare import firsts, lasts
from shared.matching.nicknames import Nicknames
from shared.matching.person import Person

Key = tuple[str, ...]


@lru_cache(maxsize=1 << 16)
def date_variants(dob: str) -> tuple[str, ...]:
    """Real dates a ``YYYYMMDD`` key may have been typed for: day and month swapped, or two
    neighbouring digits swapped (the key itself excluded)."""
    if len(dob) != 8:
        return ()
    found = {dob[:4] + dob[6:8] + dob[4:6]}
    for i in range(7):
        found.add(dob[:i] + dob[i + 1] + dob[i] + dob[i + 2:])
    found.discard(dob)
    return tuple(sorted(d for d in found if _real(d)))


def _real(key: str) -> bool:
    try:
        dt.date(int(key[:4]), int(key[4:6]), int(key[6:]))
    except ValueError:
        return False
    return int(key[:4]) >= 1900


def _name_keys(p: Person, last_names: tuple[str, ...], first_names: tuple[str, ...],
               nicknames: Nicknames, dobs: tuple[str, ...]) -> set[Key]:
    canon = {c for f in first_names for c in nicknames.canonical(f)}
    keys: set[Key] = set()
    for d in dobs:
        keys.update(("ld", last, d) for last in last_names)
        keys.update(("fd", c, d) for c in canon)
    for last in last_names:
        for c in canon:
            if p.dob:
                keys.add(("ly", last, c, p.dob[:4]))
                keys.add(("lm", last, c, p.dob[4:]))
            else:
                keys.add(("ln", last, c))
    return keys


def _id_keys(p: Person) -> set[Key]:
    keys: set[Key] = set()
    if p.resident_district and p.district_student_id:
        keys.add(("d", p.resident_district, p.district_student_id))
    if p.ssn:
        keys.add(("s", p.ssn))
    return keys


def identity_keys(p: Person, nicknames: Nicknames) -> set[Key]:
    """The keys an identity is filed under."""
    keys = _id_keys(p)
    last_names, first_names = lasts(p), firsts(p)
    keys |= _name_keys(p, last_names, first_names, nicknames, (p.dob,) if p.dob else ())
    if p.dob:  # also filed by names alone, for records whose birth date is unusable
        canon = {c for f in first_names for c in nicknames.canonical(f)}
        keys.update(("ln", last, c) for last in last_names for c in canon)
    return keys


def probe_keys(p: Person, nicknames: Nicknames) -> set[Key]:
    """The keys a submitted record looks its candidates up under (near misses included)."""
    keys = _id_keys(p)
    dobs = (p.dob, *date_variants(p.dob)) if p.dob else ()
    last_names, first_names = lasts(p), firsts(p)
    keys |= _name_keys(p, last_names, first_names, nicknames, dobs)
    keys |= _name_keys(p, first_names, last_names, nicknames, dobs)  # names swapped
    return keys
