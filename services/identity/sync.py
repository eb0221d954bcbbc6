"""File the SSIDs of posted records into the registry, and find likely duplicates as they come.

Records posted with an SSID the registry does not hold (a district's file carries the SSIDs its
students already have) become identities here, read from the store in the order they were
posted (``registry_sync.last_id``), so nothing is missed whatever happens to events. Each new
identity is compared with the registry at once (``shared.db.duplicates.record_pairs``): likely
duplicates are found as identities are posted, not nightly.

While files are in flight the worker files one small batch a tick (a twentieth of a second of
the store's one writer on SQLite, every two seconds), so posting is not held up by this stage's
writes and CPU, and a long burst still makes progress; with no file in flight it files full
batches until it has caught up.
"""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, sessionmaker

from shared.catalog.loader import Catalog
from shared.db.duplicates import record_pairs
from shared.db.models import FINAL_STATUSES, OdsRecord, RegistrySync, Submission
from shared.db.registry import (
    NewIdentity,
    StoreRegistry,
    StoreSequence,
    file_identities,
    known,
    lock,
)
from shared.matching.engine import Matcher
from shared.matching.levels import Ruleset
from shared.matching.nicknames import Nicknames
from shared.matching.records import PersonReader

BATCH = 2000  # posted records a transaction reads while no file is in flight
BUSY_BATCH = 200  # ... while files are in flight (about 0.06 s of work)


def _busy(session: Session) -> bool:
    """Whether a file is in flight (received and not yet final)."""
    return bool(session.scalar(select(exists().where(
        Submission.status.not_in(FINAL_STATUSES)))))


def sync_registry(sessions: sessionmaker[Session], catalog: Catalog, ruleset: Ruleset,
                  nicknames: Nicknames, ssn_key: bytes, while_busy: int = BUSY_BATCH) -> int:
    """File one batch of posted records' unknown SSIDs, of at most ``while_busy`` records
    while files are in flight; returns how many records were read (fewer than ``BATCH`` when
    it has caught up or files are in flight)."""
    readers = {code: PersonReader(layout, ssn_key) for code, layout in catalog.layouts.items()
               if layout.matching is not None}
    with sessions.begin() as session:
        position = session.get(RegistrySync, "ods")
        last = position.last_id if position else 0
        limit = min(while_busy, BATCH) if _busy(session) else BATCH
        if not limit:
            return 0
        lock(session)
        # By the primary key alone: with the record types in the WHERE, PostgreSQL read the
        # whole (record_type, set_key) index for every batch (30-90 ms at 500,000 records,
        # against 0.4 ms), so the types are picked here.
        read = session.execute(
            select(OdsRecord.id, OdsRecord.record_type, OdsRecord.fields, OdsRecord.lea,
                   OdsRecord.submission_id)
            .where(OdsRecord.id > last).order_by(OdsRecord.id).limit(limit)).all()
        if not read:
            return 0
        rows = [r for r in read if r.record_type in readers]
        held = known(session, (readers[r.record_type].ssid(r.fields) for r in rows))
        registry = StoreRegistry(session, nicknames)
        matcher = Matcher(ruleset, registry, StoreSequence(session), nicknames)
        filed: dict[str, NewIdentity] = {}
        for row in rows:
            reader = readers[row.record_type]
            ssid = reader.ssid(row.fields)
            if not ssid or ssid in held or ssid in filed:
                continue
            person = reader.person(row.fields)._replace(ssid=ssid)
            filed[ssid] = NewIdentity(person, row.lea, row.record_type,
                                      reader.private(row.fields, person), row.submission_id)
        people = [new.person for new in filed.values()]
        file_identities(session, nicknames, list(filed.values()))
        registry.prefetch(people)  # after filing: the batch's identities pair with each other
        for person in people:
            record_pairs(session, matcher, person)
        if position is None:
            session.add(RegistrySync(name="ods", last_id=read[-1].id))
        else:
            position.last_id = read[-1].id
    return len(read)
