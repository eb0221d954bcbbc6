"""File the SSIDs of posted records into the registry, and find likely duplicates as they come.

Records posted with an SSID the registry does not hold (a district's file carries the SSIDs its
students already have) become identities here, read from the store in the order they were
posted (``registry_sync.last_id``), so nothing is missed whatever happens to events. Each new
identity is compared with the registry at once (``shared.db.duplicates.record_pairs``): likely
duplicates are found as identities are posted, not nightly.

While files are being posted the registry waits (unless what is waiting is small), so a
statewide burst is not slowed by this stage's writes; the registry catches up as soon as the
burst is over.
"""

from __future__ import annotations

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, sessionmaker

from shared.catalog.loader import Catalog
from shared.db.duplicates import record_pairs
from shared.db.models import OdsRecord, RegistrySync, Submission
from shared.db.registry import StoreRegistry, StoreSequence, file_identity, known, lock
from shared.matching.engine import Matcher
from shared.matching.levels import Ruleset
from shared.matching.nicknames import Nicknames
from shared.matching.records import PersonReader

BATCH = 2000
QUIET_BACKLOG = 5000  # posted records the registry may lag by while files are being posted


def _busy(session: Session) -> bool:
    return bool(session.scalar(select(exists().where(
        Submission.status.in_(("processing", "posting"))))))


def sync_registry(sessions: sessionmaker[Session], catalog: Catalog, ruleset: Ruleset,
                  nicknames: Nicknames, ssn_key: bytes, force: bool = False) -> int:
    """File one batch of posted records' unknown SSIDs; returns how many records were read."""
    readers = {code: PersonReader(layout, ssn_key) for code, layout in catalog.layouts.items()
               if layout.matching is not None}
    with sessions.begin() as session:
        position = session.get(RegistrySync, "ods")
        last = position.last_id if position else 0
        if not force and _busy(session) and (session.scalar(
                select(func.count()).select_from(OdsRecord).where(
                    OdsRecord.id > last, OdsRecord.record_type.in_(readers))) or 0
        ) > QUIET_BACKLOG:
            return 0
        lock(session)
        rows = session.execute(
            select(OdsRecord.id, OdsRecord.record_type, OdsRecord.fields, OdsRecord.lea,
                   OdsRecord.submission_id)
            .where(OdsRecord.id > last, OdsRecord.record_type.in_(readers))
            .order_by(OdsRecord.id).limit(BATCH)).all()
        if not rows:
            return 0
        held = known(session, (readers[r.record_type].ssid(r.fields) for r in rows))
        registry = StoreRegistry(session, nicknames)
        matcher = Matcher(ruleset, registry, StoreSequence(session), nicknames)
        filed = []
        for row in rows:
            reader = readers[row.record_type]
            ssid = reader.ssid(row.fields)
            if not ssid or ssid in held:
                continue
            person = reader.person(row.fields)._replace(ssid=ssid)
            file_identity(session, person, nicknames, institution_id=row.lea,
                          record_type=row.record_type,
                          fields=reader.private(row.fields, person),
                          submission_id=row.submission_id)
            held.add(ssid)
            filed.append(person)
        for person in filed:
            record_pairs(session, matcher, person)
        if position is None:
            session.add(RegistrySync(name="ods", last_id=rows[-1].id))
        else:
            position.last_id = rows[-1].id
    return len(rows)
