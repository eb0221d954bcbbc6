"""The registry learns the SSIDs districts post, finds likely duplicates as they come, and
merges a pair when both districts say yes; a merged SSID then posts as its survivor."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from services.identity.sync import BATCH, BUSY_BATCH, sync_registry
from shared.db.duplicates import VoteRefused, vote, waiting_for
from shared.db.models import (
    DuplicatePair,
    Identity,
    IdentityChange,
    Institution,
    OdsRecord,
    Submission,
)
from shared.matching.levels import default_ruleset
from shared.matching.nicknames import default_nicknames
from shared.matching.ssid import new_ssid
from tests.integration.test_matching_pipeline import NAMES, SSID_AT, student
from tests.integration.test_posting_methods import CATALOG, SSID, SSID2, submit

pytestmark = pytest.mark.integration
OTHER = "0000001"


def sync(sessions: sessionmaker[Session]) -> int:
    total = 0
    while done := sync_registry(sessions, CATALOG, default_ruleset(), default_nicknames(),
                                b"test-key", while_busy=BATCH):
        total += done
    return total


def filed(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return len(session.scalars(select(Identity.ssid)).all())


def name(i: int) -> str:
    """A distinct name for each number (Ba, Bb, ...)."""
    letters = "".join(chr(ord("a") + i // 26 ** k % 26) for k in range(3))
    return "B" + letters


def test_while_a_file_is_in_flight_the_registry_files_a_small_batch_at_a_time(
        sessions: sessionmaker[Session]) -> None:
    """Filing waits for posting: with a file in flight a call files a small batch (the worker
    calls again at its next tick) or none (when woken by a posted file); with none in flight,
    full batches."""
    count = BATCH + BUSY_BATCH + 7
    submit(sessions, "SENR", [student(name(i), name(i), ssid=new_ssid(300_000_000 + i),
                                      local=f"L{i}") for i in range(count)])
    in_flight = submit(sessions, "SENR", [student("Ana", ssid=SSID)], eof=False)
    assert in_flight.status == "processing"
    def step(while_busy: int = BUSY_BATCH) -> int:
        return sync_registry(sessions, CATALOG, default_ruleset(), default_nicknames(),
                             b"test-key", while_busy)

    assert step(while_busy=0) == 0
    assert step() == BUSY_BATCH
    assert filed(sessions) == BUSY_BATCH
    with sessions.begin() as session:
        session.execute(update(Submission).where(Submission.id == in_flight.id)
                        .values(status="failed"))
    assert step() == BATCH
    assert step() == 7
    assert filed(sessions) == count


def test_records_of_layouts_without_ssids_between_are_passed_over(
        sessions: sessionmaker[Session]) -> None:
    """Posted records of a layout with no SSID (courses) are read past, not filed, and the
    students posted after them are filed in the same round."""
    submit(sessions, "SENR", [student("Ana", ssid=SSID)])
    with sessions.begin() as session:
        session.add_all(OdsRecord(record_type="CRSE", op_key=f"course-{i}", lea="1964733",
                                  fields=["CRSE", str(i)], submission_id=0, row=i)
                        for i in range(BATCH + 3))
    submit(sessions, "SENR", [student("Bea", ssid=SSID2, local="L2")])
    assert sync(sessions) == BATCH + 5  # every posted record read once
    with sessions() as session:
        assert set(session.scalars(select(Identity.ssid))) == {SSID, SSID2}
    assert sync(sessions) == 0


@pytest.fixture
def two_districts(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    with sessions.begin() as session:
        session.add(Institution(id=OTHER, name="Other USD", contact_email="o@example.org"))
    return sessions


def test_posted_ssids_are_filed_once_and_a_duplicate_is_found(
        two_districts: sessionmaker[Session]) -> None:
    sessions = two_districts
    submit(sessions, "SENR", [student("Ana", ssid=SSID)])
    submit(sessions, "SENR", [student("Ana", ssid=SSID2, lea=OTHER)], institution=OTHER)
    assert sync(sessions) == 2
    assert sync(sessions) == 0  # nothing new since
    with sessions() as session:
        filed = dict(session.execute(select(Identity.ssid, Identity.institution_id)).all())
        pairs = session.scalars(select(DuplicatePair)).all()
    assert filed == {SSID: "1964733", SSID2: OTHER}
    assert [(p.low, p.high, p.status) for p in pairs] == [
        (min(SSID, SSID2), max(SSID, SSID2), "waiting")]


def test_two_yes_votes_merge_and_the_retired_ssid_posts_as_the_survivor(
        two_districts: sessionmaker[Session]) -> None:
    sessions = two_districts
    submit(sessions, "SENR", [student("Ana", ssid=SSID)])
    submit(sessions, "SENR", [student("Ana", ssid=SSID2, lea=OTHER)], institution=OTHER)
    sync(sessions)
    low, high = sorted((SSID, SSID2))
    with sessions.begin() as session:
        assert [p.low for p in waiting_for(session, OTHER)] == [low]
        with pytest.raises(VoteRefused, match="only the districts"):
            vote(session, low, high, "2180", True, "someone@else.example")
        assert vote(session, low, high, "1964733", True, "a@demo.example").status == "waiting"
        assert vote(session, low, high, OTHER, True, "b@other.example").status == "merged"
    with sessions() as session:
        retired = session.get(Identity, high)
        merges = session.scalars(select(IdentityChange.ssid).where(
            IdentityChange.action == "merged")).all()
    assert retired is not None and retired.merged_into == low
    assert sorted(merges) == [low, high]
    again = submit(sessions, "SENR", [student("Ana", ssid=high, local="L9")])
    assert again.status == "posted"
    with sessions() as session:
        (posted,) = session.scalars(select(OdsRecord.fields).where(
            OdsRecord.submission_id == again.id)).all()
    assert posted[SSID_AT] == low  # the retired SSID posted as its survivor


def test_two_no_votes_close_the_pair_for_good(two_districts: sessionmaker[Session]) -> None:
    sessions = two_districts
    submit(sessions, "SENR", [student("Ana", ssid=SSID)])
    submit(sessions, "SENR", [student("Ana", ssid=SSID2, lea=OTHER)], institution=OTHER)
    sync(sessions)
    low, high = sorted((SSID, SSID2))
    with sessions.begin() as session:
        vote(session, low, high, "1964733", False, "a@demo.example")
        assert vote(session, low, high, OTHER, False, "b@other.example").status == "distinct"
    submit(sessions, "SENR", [student("Ana", ssid=SSID, local="L7")])
    sync(sessions)
    with sessions() as session:
        assert waiting_for(session, OTHER) == []
        assert session.scalars(select(DuplicatePair.status)).all() == ["distinct"]


def test_the_registry_never_holds_a_clear_ssn_or_a_name_in_its_keys(
        sessions: sessionmaker[Session]) -> None:
    from shared.db.models import IdentityKey
    from tests.integration.test_posting_methods import ode

    submit(sessions, "ODE-SSID", [[*ode("", "d1")[:7], "123456789", *ode("", "d1")[8:]]],
           institution="2180")
    with sessions() as session:
        (identity,) = session.scalars(select(Identity)).all()
        keys = session.scalars(select(IdentityKey.key)).all()
    assert "123456789" not in str(identity.person) and len(identity.person[7]) == 64
    assert "123456789" not in str(identity.fields)
    assert not any("123456789" in k for k in keys)
    assert NAMES  # (the SENR layout names, imported for the other tests)


def test_the_full_scan_finds_the_same_pairs_again(two_districts: sessionmaker[Session]) -> None:
    from sqlalchemy import delete

    from shared.db.duplicates import scan
    from shared.db.registry import StoreRegistry, StoreSequence
    from shared.matching.engine import Matcher

    sessions = two_districts
    submit(sessions, "SENR", [student("Ana", ssid=SSID)])
    submit(sessions, "SENR", [student("Ana", ssid=SSID2, lea=OTHER)], institution=OTHER)
    sync(sessions)
    with sessions() as session:
        found = [(p.low, p.high) for p in session.scalars(select(DuplicatePair))]
    with sessions.begin() as session:
        session.execute(delete(DuplicatePair))
    after: str | None = ""
    while after is not None:
        with sessions.begin() as session:
            nicknames = default_nicknames()
            matcher = Matcher(default_ruleset(), StoreRegistry(session, nicknames),
                              StoreSequence(session), nicknames)
            _, _, after = scan(session, matcher, after, limit=1)
    with sessions() as session:
        assert [(p.low, p.high) for p in session.scalars(select(DuplicatePair))] == found
