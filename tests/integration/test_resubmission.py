"""Resubmitting an unchanged file changes nothing in the store: no history row is written and
no stored record is rewritten, whatever the collection's posting method (issue 9)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from shared.db.models import OdsRecord, RecordHistory
from tests.integration.test_posting_methods import (
    SSID,
    SSID2,
    enroll,
    ode,
    scse,
    senr,
    sinf,
    ssce,
    stas,
    submit,
)

pytestmark = pytest.mark.integration

FILES = {
    "SENR": lambda: [senr("2222222", "20080701"), senr("3333333", "20080901", action="R")],
    "SINF": lambda: [sinf("20080701", "1 Main St"), sinf("20090101", "2 Oak Ave")],
    "STAS": lambda: [stas("2222222", SSID, "180", "170"), stas("2222222", SSID2, "180", "160")],
    "SCSE": lambda: [scse("2222222", "FA", "C1"), scse("2222222", "FA", "C2")],
    "SSCE": lambda: [ssce("19647330000000", SSID, "L1"), ssce("19647330000000", SSID2, "L2")],
    "ODE-SSID": lambda: [ode(SSID, "D1"), ode(SSID2, "D2")],
}


def snapshot(sessions: sessionmaker[Session]) -> tuple[int, list[tuple[object, ...]]]:
    with sessions() as session:
        history = session.scalar(select(func.count()).select_from(RecordHistory)) or 0
        rows = [tuple(r) for r in session.execute(
            select(OdsRecord.id, OdsRecord.op_key, OdsRecord.submission_id,
                   OdsRecord.updated_at).order_by(OdsRecord.id))]
    return history, rows


@pytest.mark.parametrize("collection", sorted(FILES))
def test_an_unchanged_file_sent_again_writes_nothing(sessions: sessionmaker[Session],
                                                     collection: str) -> None:
    if collection != "SENR":  # SINF and STAS need one; SENR's would overlap it (CFS 1.22)
        enroll(sessions, ("2222222", SSID), ("2222222", SSID2))
    first = submit(sessions, collection, FILES[collection]())
    assert (first.status, first.posted) == ("posted", 2), first.message
    before = snapshot(sessions)
    assert before[1], "the first file stored nothing"
    again = submit(sessions, collection, FILES[collection]())
    assert (again.status, again.posted) == ("posted", 2), again.message
    assert snapshot(sessions) == before


def test_a_changed_record_is_the_only_one_rewritten(sessions: sessionmaker[Session]) -> None:
    enroll(sessions, ("2222222", SSID), ("2222222", SSID2))
    submit(sessions, "STAS", FILES["STAS"]())
    _, rows = snapshot(sessions)
    history, _ = snapshot(sessions)
    submit(sessions, "STAS", [stas("2222222", SSID, "180", "170"),
                              stas("2222222", SSID2, "180", "150")])
    history_after, rows_after = snapshot(sessions)
    assert history_after == history + 1  # one update, of the changed record
    changed = [a for a, b in zip(rows_after, rows, strict=True) if a != b]
    assert len(changed) == 1 and SSID2 in str(changed[0][1])
