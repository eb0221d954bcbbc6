"""What the store knows about a submission window: files per collection and district, the
oldest file not final, each stage's backlog; and the ``edcs_store_*`` gauges made from it.

Read at request (or scrape) time from the store, so every process sees the same numbers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.catalog.loader import Catalog
from shared.db.models import FINAL_STATUSES, Email, Institution, OutboxMessage, Submission
from shared.metrics import OLDEST_OPEN, OUTBOX, STORE_EMAILS, STORE_FILES

# The columns of the window page: a file is counted under its status, posting with processing.
COLUMNS = ("received", "processing", "posted", "rejected", "failed")
MAX_DISTRICTS = 50  # districts shown one by one; beyond, the page shows the totals only


@dataclass
class Cell:
    """The files of one collection and district, by status (``COLUMNS``)."""

    counts: dict[str, int] = field(default_factory=dict)

    @property
    def submitted(self) -> bool:
        """Whether the district sent any file to the collection."""
        return any(self.counts.values())


@dataclass
class CollectionRow:
    """One collection of the window: totals and one cell per district."""

    code: str
    title: str
    totals: dict[str, int]
    cells: dict[str, Cell]

    @property
    def not_submitted(self) -> int:
        """Districts that have not sent a file yet."""
        return sum(1 for c in self.cells.values() if not c.submitted)


@dataclass
class OpenFile:
    """The oldest file that is not final."""

    id: int
    collection: str
    institution: str
    status: str
    age_seconds: float


@dataclass
class Overview:
    """The window as the store has it."""

    districts: list[tuple[str, str]]  # (id, name)
    rows: list[CollectionRow]
    oldest_open: OpenFile | None
    backlog: dict[str, int]  # store backlog per stage, in files (notify: emails)


def column_of(status: str) -> str | None:
    """The page column of a status (None: not shown, e.g. a status of a later version)."""
    if status == "posting":
        return "processing"
    return status if status in COLUMNS else None


def districts_of(session: Session) -> list[tuple[str, str]]:
    """Institutions that submit: all but the state (whose CDS code is all zeros)."""
    found = session.execute(select(Institution.id, Institution.name)
                            .order_by(Institution.name)).all()
    return [(i, n) for i, n in found if i.strip("0")]


def file_counts(session: Session) -> dict[tuple[str, str, str], int]:
    """Files by (collection, institution, status)."""
    rows = session.execute(select(Submission.collection, Submission.institution_id,
                                  Submission.status, func.count())
                           .group_by(Submission.collection, Submission.institution_id,
                                     Submission.status)).all()
    return {(c, i, s): int(n) for c, i, s, n in rows}


def oldest_open(session: Session, now: dt.datetime) -> OpenFile | None:
    """The oldest submission not final."""
    found = session.scalars(select(Submission).where(Submission.status.not_in(FINAL_STATUSES))
                            .order_by(Submission.received_at, Submission.id).limit(1)).first()
    if found is None:
        return None
    return OpenFile(found.id, found.collection, found.institution_id, found.status,
                    max(0.0, (now - found.received_at).total_seconds()))


def stage_backlog(session: Session) -> dict[str, int]:
    """What waits at each stage, from the store: upload events not yet published, files not
    yet staging (ingest and validate), staging (post, before the barrier), posting, emails
    owed (notify)."""
    statuses = dict(session.execute(select(Submission.status, func.count()).where(
        Submission.status.in_(("received", "processing", "posting")))
        .group_by(Submission.status)).all())
    emails = session.scalar(select(func.count()).select_from(Email).where(
        Email.status.in_(("pending", "sending", "retry")))) or 0
    outbox = session.scalar(select(func.count()).select_from(OutboxMessage)) or 0
    return {"web → broker (outbox)": int(outbox),
            "ingest + validate (received)": int(statuses.get("received", 0)),
            "post: staging (processing)": int(statuses.get("processing", 0)),
            "post: posting": int(statuses.get("posting", 0)),
            "notify (emails owed)": int(emails)}


def overview(session: Session, catalog: Catalog, now: dt.datetime) -> Overview:
    """The window page's data."""
    districts = districts_of(session)
    counts = file_counts(session)
    rows = []
    for collection in sorted(catalog.collections.values(), key=lambda c: c.code):
        cells = {ident: Cell(dict.fromkeys(COLUMNS, 0)) for ident, _ in districts}
        totals = dict.fromkeys(COLUMNS, 0)
        for (code, institution, status), n in counts.items():
            column = column_of(status)
            if code != collection.code or column is None:
                continue
            totals[column] += n
            if institution in cells:
                cells[institution].counts[column] += n
        rows.append(CollectionRow(collection.code, collection.title, totals, cells))
    return Overview(districts, rows, oldest_open(session, now), stage_backlog(session))


def refresh_store_gauges(session: Session, now: dt.datetime) -> None:
    """Set the ``edcs_store_*`` gauges from the store (the web app's /metrics)."""
    by_collection: dict[tuple[str, str], int] = {}
    for (collection, _, status), n in file_counts(session).items():
        by_collection[collection, status] = by_collection.get((collection, status), 0) + n
    STORE_FILES.clear()  # a status no file has any more must not keep its last value
    for (collection, status), n in by_collection.items():
        STORE_FILES.labels(collection, status).set(n)
    found = oldest_open(session, now)
    OLDEST_OPEN.set(found.age_seconds if found else 0)
    OUTBOX.set(session.scalar(select(func.count()).select_from(OutboxMessage)) or 0)
    STORE_EMAILS.clear()
    for status, n in session.execute(select(Email.status, func.count())
                                     .group_by(Email.status)).all():
        STORE_EMAILS.labels(status).set(n)
