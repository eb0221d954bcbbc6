"""A Production Download reads the store a page at a time, in key order, on both stores: every
record of the institution once (as its district or its school), no other institution's, and
the same text as writing each record's values."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select, true
from sqlalchemy.orm import Session, sessionmaker

from services.web.formats import delimited
from services.web.records import export_lines, export_pages, institution_records
from shared.catalog.loader import default_catalog
from shared.db.bulk import insert_rows
from shared.db.models import OdsRecord

pytestmark = pytest.mark.integration

LAYOUT = default_catalog().layouts["SENR"]
ME = "1964733"
OLD = dt.datetime(2025, 1, 1)
NEW = dt.datetime(2026, 6, 1)


def _store(sessions: sessionmaker[Session]) -> None:
    """Records of ME as a district, as a school (of another district), as both, and others';
    written as posting writes them (json.dumps) and through the ORM (escaped non-ASCII)."""
    posted: list[tuple[object, ...]] = []
    for i in range(23):
        lea, school = [(ME, "6000001"), ("1964734", ME), (ME, ME), ("1964734", "6000002")][i % 4]
        fields = [f"{school}", f"{i:04d}", "Zoë" if i % 5 == 0 else "Ann", "a,b" if i == 6
                  else "", "-1" if i == 9 else "x", "2025-2026"]
        posted.append(("SENR", f"{school}|{(i * 7919) % 1000:04d}", None, lea, school,
                       json.dumps(fields, ensure_ascii=False), 1, i, OLD if i % 3 else NEW))
    with sessions.begin() as session:
        insert_rows(session, OdsRecord, ("record_type", "op_key", "set_key", "lea", "school",
                                         "fields", "submission_id", "row", "updated_at"), posted)
        session.add(OdsRecord(record_type="SENR", op_key="6000009|zz", lea=ME, school=None,
                              fields=["中", "=1+1", "q\"x"], submission_id=1, row=99,
                              updated_at=NEW))
        session.add(OdsRecord(record_type="SPRG", op_key="6000001|0000", lea=ME,
                              school="6000001", fields=["other collection"], submission_id=1,
                              row=1, updated_at=NEW))


def _expected(session: Session, since: dt.datetime | None = None) -> list[list[str]]:
    """The institution's records in key order, as one query of the whole set reads them."""
    query = (select(OdsRecord.fields).where(institution_records(LAYOUT, ME))
             .order_by(OdsRecord.op_key))
    if since:
        query = query.where(OdsRecord.updated_at >= since)
    return list(session.scalars(query))


@pytest.mark.parametrize("page", [1, 2, 5, 1000])
def test_every_record_of_the_institution_once_in_key_order_whatever_the_page(
        sessions: sessionmaker[Session], page: int) -> None:
    _store(sessions)
    with sessions() as session:
        expected = _expected(session)
        pages = list(export_pages(session, LAYOUT, ME, true(), page=page))
        changed = list(export_pages(session, LAYOUT, ME, true(), NEW,
                                    page=page))
        since = _expected(session, NEW)
    assert len(expected) == 19  # 18 of the 23 name ME, and the ORM-written one
    assert all(0 < len(p) <= page for p in pages)
    assert [json.loads(held) for p in pages for held in p] == expected
    assert [json.loads(held) for p in changed for held in p] == since and 0 < len(since) < 19


@pytest.mark.parametrize("fmt", ["csv", "txt"])
def test_the_export_is_the_text_of_the_records_values(sessions: sessionmaker[Session],
                                                      fmt: str) -> None:
    _store(sessions)
    with sessions() as session:
        text = "".join(export_lines(session, LAYOUT, ME, fmt))
        expected = "".join(delimited(_expected(session), fmt))
    assert text == expected
    assert "'=1+1" in text and "-1" in text and "Zoë" in text  # value by value, where needed
