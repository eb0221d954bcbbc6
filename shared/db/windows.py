"""The collection windows a state operator loaded into the running stack (``edcs reference
load``), and the windows the stack uses: the configured file's with the loaded ones over them
(``shared.windows.overlay``), read when they are needed so a load takes effect at once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator

from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from shared.db.models import Base, utcnow
from shared.windows import NAME_LENGTH, Window, overlay


class StoredWindow(Base):
    """One loaded submission window of a collection (both days included)."""

    __tablename__ = "collection_windows"
    collection: Mapped[str] = mapped_column(String(20), primary_key=True)
    academic_year: Mapped[str] = mapped_column(String(9), primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    opens: Mapped[dt.date]
    closes: Mapped[dt.date]
    loaded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


def load(session: Session, windows: Iterable[Window]) -> tuple[int, int]:
    """Add the windows and update the dates of the ones already loaded; returns (added,
    updated). A window is never removed: it is closed by loading its new closing day."""
    stored = {(w.collection, w.academic_year, w.name): w
              for w in session.scalars(select(StoredWindow))}
    added = updated = 0
    for window in windows:
        found = stored.get((window.collection, window.academic_year, window.name))
        if found is None:
            session.add(StoredWindow(collection=window.collection,
                                     academic_year=window.academic_year, name=window.name,
                                     opens=window.opens, closes=window.closes))
            added += 1
        elif (found.opens, found.closes) != (window.opens, window.closes):
            found.opens, found.closes = window.opens, window.closes
            updated += 1
    session.flush()
    return added, updated


def loaded(session: Session) -> list[Window]:
    """The windows loaded into the store."""
    return [Window(w.collection, w.academic_year, w.name, w.opens, w.closes)
            for w in session.scalars(select(StoredWindow))]


class CurrentWindows:
    """The windows in force: ``base`` (the configured file's) with the loaded ones over them,
    read from the store each time they are iterated (so only where a window is needed: the
    validate stage asks only for layouts with a ``window_year_field``)."""

    def __init__(self, sessions: sessionmaker[Session], base: Iterable[Window]) -> None:
        self.sessions = sessions
        self.base = tuple(base)

    def __iter__(self) -> Iterator[Window]:
        with self.sessions() as session:
            found = loaded(session)
        return iter(overlay(self.base, found))
