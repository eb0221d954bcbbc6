"""Blocking keys: where a record's candidates come from, never from a scan of the registry.

An identity is filed under :func:`identity_keys`; a submitted record looks under
:func:`probe_keys`, which adds the near misses the suggested levels accept (birth dates with
day and month swapped or two digits swapped, last and first names the other way round,
nicknames through the canonical names of :class:`~shared.matching.nicknames.Nicknames`). The
SSID is looked up on its own (:meth:`~shared.matching.index.IdentityLookup.current_ssid`).

Where the candidates of each level come from:

- levels 1, 4: the SSID; levels 2, 5: ``("d", district, district id)``; levels 3, 6 and the
  SSN alternatives: ``("s", ssn)``;
- levels 7-10 need a last and a first name and (a near) DOB or the SSN: ``("ld", last, dob)``
  finds a first-name slip, ``("fd", first, dob)`` a last-name slip or a changed last name,
  ``("ly", last, first, year)`` and ``("lm", last, first, month and day)`` a birth date wrong
  in one part (``ld`` also looks under the date's likely slips);
- level 11 (no usable birth date): ``ly`` under every birth year the registry holds, and
  ``("ln", last, first)`` for identities without one;
- level 12 (gender mistyped): ``ld`` under the other genders. The name keys include the
  gender, which every other level that needs them requires.

Keys are tuples of strings so that a database-backed lookup can store them as they are.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from functools import lru_cache

from shared.matching.compare import distinct, firsts, lasts
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


def _canonical(first_names: tuple[str, ...], nicknames: Nicknames) -> tuple[str, ...]:
    if len(first_names) == 1:
        return nicknames.canonical(first_names[0])
    return tuple(dict.fromkeys(c for f in first_names for c in nicknames.canonical(f)))


def _name_keys(keys: list[Key], p: Person, last_names: tuple[str, ...], canon: tuple[str, ...],
               dobs: Iterable[str], years: Iterable[str]) -> None:
    g, dob = p.gender, p.dob
    for d in dobs:
        keys.extend(("ld", last, d, g) for last in last_names)
    if dob:
        keys.extend(("fd", c, dob, g) for c in canon)
    for last in last_names:
        for c in canon:
            if dob:
                keys.append(("ly", last, c, dob[:4], g))
                keys.append(("lm", last, c, dob[4:], g))
            else:
                keys.append(("ln", last, c, g))
                keys.extend(("ly", last, c, year, g) for year in years)


def _id_keys(p: Person) -> list[Key]:
    keys: list[Key] = []
    if p.resident_district and p.district_student_id:
        keys.append(("d", p.resident_district, p.district_student_id))
    if p.ssn:
        keys.append(("s", p.ssn))
    return keys


def identity_keys(p: Person, nicknames: Nicknames) -> list[Key]:
    """The keys an identity is filed under (each once).

    Written out rather than composed from the probe's helpers: a registry of a million is
    filed at load, and this is most of the load's time. :func:`probe_keys` of the same person
    includes every one of these keys (tested).
    """
    _, legal_last, legal_first, preferred_last, preferred_first, dob, g, ssn, district, dsid = p
    keys: list[Key] = []
    if district and dsid:
        keys.append(("d", district, dsid))
    if ssn:
        keys.append(("s", ssn))
    last_names = distinct(legal_last, preferred_last)
    canon = _canonical(distinct(legal_first, preferred_first), nicknames)
    if dob:
        year, day = dob[:4], dob[4:]
        for last in last_names:
            keys.append(("ld", last, dob, g))
            for c in canon:
                keys.append(("ly", last, c, year, g))
                keys.append(("lm", last, c, day, g))
        for c in canon:
            keys.append(("fd", c, dob, g))
    else:
        keys.extend(("ln", last, c, g) for last in last_names for c in canon)
    return keys


def probe_keys(p: Person, nicknames: Nicknames, years: Iterable[str] = (),
               undated: bool = False, genders: Iterable[str] = ()) -> list[Key]:
    """The keys a submitted record looks its candidates up under (near misses included).

    Args:
        p: the record.
        nicknames: first-name equivalents.
        years: the birth years the registry holds, for a record without a usable birth date.
        undated: the registry has identities without a birth date (look under ``ln`` too).
        genders: the genders the registry holds: ``ld`` is looked up under each (level 12).
    """
    keys = _id_keys(p)
    last_names, first_names = lasts(p), firsts(p)
    canon = _canonical(first_names, nicknames)
    year_list = () if p.dob else tuple(years)
    dobs = (p.dob, *date_variants(p.dob)) if p.dob else ()
    _name_keys(keys, p, last_names, canon, dobs, year_list)
    # Last and first names the other way round (with the birth date as given).
    _name_keys(keys, p, first_names, _canonical(last_names, nicknames), dobs[:1], year_list)
    if p.dob:  # the gender mistyped
        keys.extend(("ld", last, p.dob, g) for g in genders if g != p.gender
                    for last in last_names)
    if p.dob and undated:
        keys.extend(("ln", last, c, p.gender) for last in last_names for c in canon)
    return keys
