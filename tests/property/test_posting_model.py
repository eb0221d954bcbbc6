"""Random sequences of submissions, posted for real (SQLite and PostgreSQL) and by a plain model
of the rules (CFS §1.3.1, design.md §4); the store must always equal the model, and replays
change nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from services.post.worker import handle_events
from shared.catalog.loader import default_catalog
from shared.db.models import Base, Institution, OdsRecord, Submission
from shared.db.session import make_engine, make_session_factory
from shared.events.models import EndOfFile, Record, RecordBatch, RecordStreamEvent

LEA, YEAR = "1964733", "2025-2026"
SCHOOLS, SSIDS, STARTS = ("6000001", "6000002"), ("1234567890", "1000000001"), ("20250820",
                                                                                 "20250901")
Key = tuple[str, str, str]

record = st.tuples(st.sampled_from(["", "A", "D", "R"]), st.sampled_from(SCHOOLS),
                   st.sampled_from(SSIDS), st.sampled_from(STARTS),
                   st.sampled_from(["10", "20", "30"]))
submission = st.lists(record, min_size=1, max_size=8)


def fields(action: str, school: str, ssid: str, start: str, status: str) -> list[str]:
    f = [""] * 34
    f[:9] = ["SENR", action, "1", LEA, school, "", YEAR, ssid, "L1"]
    f[9], f[11], f[16], f[17] = "Ana", "Lopez", "20150101", "F"
    f[21], f[22], f[23], f[30] = start, status, "05", LEA
    return f


def model_post(store: dict[Key, list[str]], records: list[tuple[str, str, str, str, str]]
               ) -> None:
    """The rules, written as plainly as possible."""
    # 0. the same enrollment twice (two Deletes, or two records that are not Deletes): the
    # file is rejected. A Delete and an Add of one enrollment are a correction, not a repeat.
    keys = [(action == "D", school, ssid, start) for action, school, ssid, start, _ in records]
    if len(set(keys)) < len(keys):
        return
    # 0b. an enrollment may not overlap another posted at the school (CFS 1.22 #3). Every
    # enrollment here is open, so any other one of the student at the school overlaps, unless
    # the file deletes it or one of its R records clears its set.
    deleted = {(school, ssid, start) for action, school, ssid, start, _ in records
               if action == "D"}
    cleared = {(school, ssid) for action, school, ssid, _, _ in records if action == "R"}
    for action, school, ssid, start, _ in records:
        if action != "D" and any(
                k[:2] == (school, ssid) and k != (school, ssid, start) and k not in deleted
                and k[:2] not in cleared for k in store):
            return
    for action, school, ssid, start, _status in records:  # 1. deletes, in file order
        if action == "D":
            store.pop((school, ssid, start), None)
    for action, school, ssid, start, status in records:  # 2. add/update
        if action in ("", "A"):
            store[(school, ssid, start)] = fields(action, school, ssid, start, status)
    sets = {(school, ssid) for action, school, ssid, _, _ in records if action == "R"}
    for key in [k for k in store if (k[0], k[1]) in sets]:  # 3. replace sets cleared ...
        del store[key]
    for action, school, ssid, start, status in records:  # ... then their records added
        if action == "R":
            store[(school, ssid, start)] = fields(action, school, ssid, start, status)


def events_of(sid: int, records: list[tuple[str, str, str, str, str]]
              ) -> list[RecordStreamEvent]:
    ref = {"submission_id": sid, "collection": "SENR", "institution_id": LEA,
           "submitted_on": dt.date(2025, 9, 15)}
    by_school: dict[str, list[Record]] = {}
    for row, r in enumerate(records, 1):
        by_school.setdefault(r[1], []).append(Record(row=row, fields=fields(*r)))
    batches: list[RecordStreamEvent] = [RecordBatch(**ref, records=rs)
                                        for s, rs in by_school.items()]
    return [*batches, EndOfFile(**ref, records=len(records))]


def stored(sessions: sessionmaker[Session]) -> dict[Key, list[str]]:
    with sessions() as session:
        return {tuple(r.op_key.split("|")): r.fields  # type: ignore[misc]
                for r in session.scalars(select(OdsRecord))}


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    """One store per test; every example empties it first."""
    url = (f"sqlite:///{tmp_path / 'store.db'}" if request.param == "sqlite"
           else str(request.getfixturevalue("postgres_database_url")))
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    yield make_session_factory(engine)
    engine.dispose()


def emptied(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    with sessions.begin() as session:
        for table in reversed(Base.metadata.sorted_tables):
            session.execute(table.delete())
        session.add(Institution(id=LEA, name="Demo", contact_email="c@example.org"))
    return sessions


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(submission, min_size=1, max_size=5), st.data())
def test_store_equals_the_model_after_any_sequence_and_replays(
        store: sessionmaker[Session], submissions: list[list[tuple[str, str, str, str, str]]],
        data: st.DataObject) -> None:
    catalog = default_catalog()
    sessions = emptied(store)
    model: dict[Key, list[str]] = {}
    posted: list[list[RecordStreamEvent]] = []
    for records in submissions:
        with sessions.begin() as session:
            job = Submission(collection="SENR", institution_id=LEA, filename="f.csv",
                             submitted_by="c@example.org", status="received")
            session.add(job)
            session.flush()
            sid = job.id
        events = events_of(sid, records)
        # Deliver in a random order, some events twice (redelivery after a crash).
        shuffled = data.draw(st.permutations(events))
        twice = data.draw(st.lists(st.sampled_from(events), max_size=2))
        for event in [*shuffled, *twice]:
            handle_events(sessions, catalog, [event])
        model_post(model, records)
        posted.append(events)
        assert stored(sessions) == model
    # Replaying any earlier file changes nothing.
    replay = data.draw(st.sampled_from(posted))
    handle_events(sessions, catalog, replay)
    assert stored(sessions) == model
