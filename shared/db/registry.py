"""The SSID registry in the store: the :class:`~shared.matching.index.IdentityLookup` of the
pipeline, filing of identities, and the sequence new SSIDs come from.

Candidates come from ``identity_keys`` (the blocking keys of ``shared.matching.blocking``),
never from a scan. The identities a file creates are kept in memory until the file is accepted
(:attr:`StoreRegistry.pending`), so a file that is rejected leaves no identity behind, and the
file's later rows can already match them (the same new student twice in one file gets one
SSID). Matching and filing run in the posting transaction after :func:`lock`, so two files in
flight for the same new student are matched one after the other: the second sees the first's
identity. A file with no record to match (every one gives its SSID) files no identity in
posting and does not take the lock, so such files of different districts post side by side.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from shared.db.bulk import among, chunks, insert_rows, json_text
from shared.db.models import Identity, IdentityChange, IdentityKey, SsidCounter, utcnow
from shared.matching.blocking import Key, identity_keys, probe_keys
from shared.matching.index import MAX_BUCKET, MemoryIndex
from shared.matching.nicknames import Nicknames
from shared.matching.person import Person
from shared.matching.ssid import new_ssid

GENDERS = ("f", "m", "x")
"""Gender keys the registry may hold (``shared.matching.normalise.gender_key``)."""
CHUNK = 500


def key_text(key: Key) -> str:
    """A blocking key as stored: its parts joined by the unit separator (a hash if long)."""
    text = "\x1f".join(key)
    return text if len(text) <= 400 else "#" + hashlib.sha256(text.encode()).hexdigest()


def lock(session: Session) -> None:
    """Take the registry for this transaction (PostgreSQL: a row lock on the counter; SQLite's
    single writer already serialises posting transactions)."""
    session.execute(select(SsidCounter.next_number).where(SsidCounter.name == "ssid")
                    .with_for_update())


class StoreSequence:
    """New SSIDs from the store's counter, skipping any SSID already in use."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def take(self) -> str:
        """The next new SSID (the used ones of the next thousand numbers are read at once, so
        a run of SSIDs districts already hold is skipped in one query)."""
        counter = self.session.get(SsidCounter, "ssid", with_for_update=True)
        if counter is None:
            raise LookupError("the store has no SSID counter (run the migrations)")
        while True:
            numbers = range(counter.next_number, counter.next_number + 1000)
            wanted = [new_ssid(n) for n in numbers]
            used = set(self.session.scalars(select(Identity.ssid).where(
                Identity.ssid.in_(wanted))))
            free = next((n for n, s in zip(numbers, wanted, strict=True) if s not in used),
                        None)
            if free is not None:
                counter.next_number = free + 1
                self.session.flush()
                return new_ssid(free)
            counter.next_number = numbers.stop


class StoreRegistry:
    """Candidate lookup over the store, plus the identities this file creates (pending)."""

    def __init__(self, session: Session, nicknames: Nicknames,
                 max_bucket: int = MAX_BUCKET) -> None:
        self.session = session
        self.nicknames = nicknames
        self.max_bucket = max_bucket
        self.pending = MemoryIndex(nicknames)
        self._years = tuple(str(y) for y in range(1900, dt.date.today().year + 1))
        self._by_key: dict[str, tuple[str, ...]] | None = None  # prefetched key -> SSIDs
        self._people: dict[str, Person] = {}
        self._current: dict[str, str | None] = {}  # prefetched SSID -> current SSID

    def _probe_keys(self, probe: Person) -> list[str]:
        return [key_text(k) for k in probe_keys(probe, self.nicknames,
                                                self._years if not probe.dob else (),
                                                undated=True, genders=GENDERS)]

    def prefetch(self, probes: Sequence[Person]) -> None:
        """Read the candidates of many records at once (a few queries per chunk of a file
        instead of a few per record); ``candidates`` then answers from memory."""
        keys = sorted({k for p in probes for k in self._probe_keys(p)})
        by_key: dict[str, list[str]] = {}
        for chunk in chunks(self.session, keys):
            for key, ssid in self.session.execute(
                    select(IdentityKey.key, IdentityKey.ssid).where(
                        among(self.session, IdentityKey.key, chunk))):
                by_key.setdefault(key, []).append(ssid)
        self._by_key = {k: tuple(v) for k, v in by_key.items() if len(v) <= self.max_bucket}
        self._current = self._currents([p.ssid for p in probes if p.ssid])
        wanted = {s for v in self._by_key.values() for s in v}
        wanted |= {c for c in self._current.values() if c}
        self._people = {p.ssid: p for p in self._load(sorted(wanted))}

    def _currents(self, ssids: Sequence[str]) -> dict[str, str | None]:
        """``current_ssid`` of each of these, read a chunk at a time."""
        merged_into: dict[str, str | None] = {}
        wanted = sorted(set(ssids))
        for _ in range(10):  # merges chain at most a few times
            for chunk in chunks(self.session, wanted):
                merged_into.update((ssid, into) for ssid, into in self.session.execute(
                    select(Identity.ssid, Identity.merged_into).where(
                        among(self.session, Identity.ssid, chunk))))
            wanted = sorted({s for s in merged_into.values() if s and s not in merged_into})
        current: dict[str, str | None] = {}
        for ssid in ssids:
            found: str | None = ssid
            for _ in range(10):
                if found not in merged_into or merged_into[found] is None:
                    break
                found = merged_into[found]
            current[ssid] = found if found in merged_into else None
        return current

    def current_ssid(self, ssid: str) -> str | None:
        """The current SSID for a submitted one, following merges; None when unknown."""
        if self.pending.current_ssid(ssid) is not None:
            return ssid
        if ssid in self._current:
            return self._current[ssid]
        for _ in range(10):  # merges chain at most a few times
            found = self.session.get(Identity, ssid)
            if found is None:
                return None
            if found.merged_into is None:
                return found.ssid
            ssid = found.merged_into
        return ssid

    def candidates(self, probe: Person) -> list[Person]:
        """Current identities sharing the SSID or a selective blocking key with the record."""
        keys = self._probe_keys(probe)
        if self._by_key is not None:
            found = {s for k in keys for s in self._by_key.get(k, ())}
            if probe.ssid and (current := self.current_ssid(probe.ssid)) is not None:
                found.add(current)
            return [*(self._people[s] for s in sorted(found) if s in self._people),
                    *self.pending.candidates(probe)]
        ssids: set[str] = set()
        if probe.ssid:
            current = self.current_ssid(probe.ssid)
            if current is not None:
                ssids.add(current)
        for start in range(0, len(keys), CHUNK):
            chunk = list(dict.fromkeys(keys[start:start + CHUNK]))
            crowded = set(self.session.scalars(
                select(IdentityKey.key).where(IdentityKey.key.in_(chunk))
                .group_by(IdentityKey.key).having(func.count() > self.max_bucket)))
            selective = [k for k in chunk if k not in crowded]
            if selective:
                ssids.update(self.session.scalars(
                    select(IdentityKey.ssid).where(IdentityKey.key.in_(selective))))
        return [*self._load(sorted(ssids)), *self.pending.candidates(probe)]

    def _load(self, ssids: Sequence[str]) -> list[Person]:
        found: list[Person] = []
        for chunk in chunks(self.session, ssids):
            found += [Person(*person) for person in self.session.scalars(
                select(Identity.person).where(among(self.session, Identity.ssid, chunk),
                                              Identity.merged_into.is_(None)))]
        return found

    def add(self, person: Person) -> bool:
        """Keep a new identity of this file (written by :func:`file_identity` once the file is
        accepted); False when its SSID is in use."""
        if self.session.get(Identity, person.ssid) is not None:
            return False
        return self.pending.add(person)


def _keys(person: Person, nicknames: Nicknames) -> list[tuple[str, str]]:
    return [(k, person.ssid) for k in dict.fromkeys(key_text(k)
                                                     for k in identity_keys(person, nicknames))]


def _file_keys(session: Session, person: Person, nicknames: Nicknames) -> None:
    insert_rows(session, IdentityKey, ("key", "ssid"), _keys(person, nicknames))


class NewIdentity(NamedTuple):
    """An identity to create, with the record it comes from."""

    person: Person
    institution_id: str
    record_type: str
    fields: list[str]
    submission_id: int


def file_identities(session: Session, nicknames: Nicknames,
                    identities: Sequence[NewIdentity]) -> None:
    """Create identities with their blocking keys and a ``created`` change each: one flush and
    one insert of keys for them all."""
    now = utcnow()
    insert_rows(session, Identity, IDENTITY_COLUMNS, [
        (new.person.ssid, json_text(list(new.person)), new.institution_id, new.record_type,
         json_text(new.fields), new.submission_id, now, now) for new in identities])
    insert_rows(session, IdentityChange, ("ssid", "action", "after", "submission_id", "at"), [
        (new.person.ssid, "created", json_text(new.fields), new.submission_id, now)
        for new in identities])
    insert_rows(session, IdentityKey, ("key", "ssid"),
                [key for new in identities for key in _keys(new.person, nicknames)])


IDENTITY_COLUMNS = ("ssid", "person", "institution_id", "record_type", "fields",
                    "submission_id", "created_at", "updated_at")


def file_identity(session: Session, person: Person, nicknames: Nicknames, *,
                  institution_id: str, record_type: str, fields: list[str],
                  submission_id: int) -> None:
    """Create an identity with its blocking keys and a ``created`` change."""
    file_identities(session, nicknames, [NewIdentity(person, institution_id, record_type,
                                                     fields, submission_id)])


def update_identity(session: Session, person: Person, nicknames: Nicknames, *,
                    fields: list[str], submission_id: int) -> None:
    """Make a submitted record the identity's current one; the previous goes to history."""
    identity = session.get(Identity, person.ssid)
    if identity is None:
        return
    if identity.fields == fields:
        return  # the same record sent again changes nothing
    session.add(IdentityChange(ssid=person.ssid, action="updated", before=identity.fields,
                               after=fields, submission_id=submission_id))
    identity.person, identity.fields = list(person), fields
    identity.submission_id, identity.updated_at = submission_id, utcnow()
    session.execute(delete(IdentityKey).where(IdentityKey.ssid == person.ssid))
    session.flush()
    _file_keys(session, person, nicknames)


def known(session: Session, ssids: Iterable[str]) -> set[str]:
    """The SSIDs of these that the registry holds (current or merged)."""
    wanted = sorted(set(ssids))
    found: set[str] = set()
    for chunk in chunks(session, wanted):
        found.update(session.scalars(select(Identity.ssid).where(
            among(session, Identity.ssid, chunk))))
    return found
