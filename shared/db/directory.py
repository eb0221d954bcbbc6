"""The CDS directory table: the LEA and school codes a file may name, and which LEA each school
reports to (reference data, ``shared.directory``)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.models import Base, utcnow


class DirectoryEntry(Base):
    """One code of the directory: an LEA, or a school with the LEA it reports to;
    ``starts``/``ends`` bound its reporting relationship (None: open); ``category`` what
    else the code is (``charter``, ``nps``; None: a district, county office or school)."""

    __tablename__ = "directory_entries"
    __table_args__ = (Index("ix_directory_entries_parent", "parent", "kind"),)
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    parent: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10))  # active, closed
    starts: Mapped[dt.date | None]
    ends: Mapped[dt.date | None]
    category: Mapped[str | None] = mapped_column(String(10))  # migration 0012
    loaded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
