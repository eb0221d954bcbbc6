"""Candidate lookup: the :class:`IdentityLookup` protocol and its in-memory implementation.

The pipeline will implement the protocol over database indexes; ``edcs match`` and the
benchmarks use :class:`MemoryIndex`, which holds a million identities in a few hundred MB:
one tuple of interned keys per identity, one dict from SSID to row, and one dict from the hash
of each blocking key to a row number or a list of them (a hash collision only adds a candidate,
which the levels then reject).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from shared.matching.blocking import identity_keys, probe_keys
from shared.matching.nicknames import Nicknames
from shared.matching.person import Person

MAX_BUCKET = 500
"""A blocking key shared by more identities than this (a filler SSN, a very common name with no
birth date) is not selective: lookups skip it and the other keys find the candidates."""
_OVERFULL = -1


class IdentityLookup(Protocol):
    """What the matcher needs from the registry of current SSIDs."""

    def current_ssid(self, ssid: str) -> str | None:
        """The current SSID for a submitted one (a merged SSID redirects), None when unknown."""

    def candidates(self, probe: Person) -> Sequence[Person]:
        """The current identities that share a blocking key (or the SSID) with the record."""

    def add(self, person: Person) -> bool:
        """File a new identity (its ``ssid`` set); False when that SSID is already in use."""


class MemoryIndex:
    """The registry in memory, with blocking indexes (the offline :class:`IdentityLookup`)."""

    def __init__(self, nicknames: Nicknames, max_bucket: int = MAX_BUCKET) -> None:
        """An empty registry.

        Args:
            nicknames: first-name equivalents for the blocking keys.
            max_bucket: the largest bucket a lookup still reads (see :data:`MAX_BUCKET`).
        """
        self._nicknames = nicknames
        self._max_bucket = max_bucket
        self._rows: list[Person] = []
        self._by_ssid: dict[str, int] = {}
        self._buckets: dict[int, int | list[int]] = {}
        self._highest = ""
        self._years: set[str] = set()
        self._undated = False
        self._genders: set[str] = set()

    def __len__(self) -> int:
        return len(self._rows)

    @property
    def highest_ssid(self) -> str | None:
        """The highest SSID in use (current or merged), where a sequence of new ones continues."""
        return self._highest or None

    def add(self, person: Person) -> bool:
        """File an identity under its SSID and blocking keys; False for an SSID in use."""
        if not person.ssid or person.ssid in self._by_ssid:
            return False
        row = len(self._rows)
        self._rows.append(person)
        self._by_ssid[person.ssid] = row
        self._highest = max(self._highest, person.ssid)
        if person.dob:
            self._years.add(person.dob[:4])
        else:
            self._undated = True
        self._genders.add(person.gender)
        setdefault = self._buckets.setdefault
        for h in map(hash, identity_keys(person, self._nicknames)):
            found = setdefault(h, row)  # one dict operation for a key seen the first time
            if found is not row:
                self._share(h, found, row)
        return True

    def _share(self, h: int, found: int | list[int], row: int) -> None:
        if isinstance(found, list):
            if len(found) < self._max_bucket:
                found.append(row)
            else:
                self._buckets[h] = _OVERFULL
        elif found != _OVERFULL:
            self._buckets[h] = [found, row]

    def merge(self, retired: str, survivor: str) -> bool:
        """Redirect a merged (retired) SSID to its survivor's identity.

        Returns:
            False when the survivor is unknown or the retired SSID is a current identity.
        """
        row = self._by_ssid.get(survivor)
        if row is None or retired in self._by_ssid:
            return False
        self._by_ssid[retired] = row
        self._highest = max(self._highest, retired)
        return True

    def current_ssid(self, ssid: str) -> str | None:
        """The current SSID for a submitted one, following merges."""
        row = self._by_ssid.get(ssid)
        return None if row is None else self._rows[row].ssid

    def identity(self, ssid: str) -> Person | None:
        """The current identity an SSID (current or merged) belongs to."""
        row = self._by_ssid.get(ssid)
        return None if row is None else self._rows[row]

    def candidates(self, probe: Person) -> list[Person]:
        """Identities sharing the SSID or a blocking key with the record, each once."""
        found: set[int] = set()
        if probe.ssid and (row := self._by_ssid.get(probe.ssid)) is not None:
            found.add(row)
        buckets = self._buckets
        years = () if probe.dob else sorted(self._years)
        for key in probe_keys(probe, self._nicknames, years, self._undated, self._genders):
            rows = buckets.get(hash(key))
            if rows is None or rows == _OVERFULL:
                continue
            if isinstance(rows, int):
                found.add(rows)
            else:
                found.update(rows)
        return [self._rows[r] for r in sorted(found)]

    def rows(self) -> Sequence[Person]:
        """Every current identity, in the order filed (to inspect what is stored)."""
        return self._rows

    def bucket_count(self) -> int:
        """How many distinct blocking-key hashes are filed."""
        return len(self._buckets)
