"""Staging and posting against a real store, SQLite and PostgreSQL alike: the barrier, the
acceptance mode, Delete -> Add/Update -> Replace, and idempotence under redelivery."""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from services.post import locks, posting, staging
from services.post.staging import tidy_staging
from services.post.watchdog import watch
from services.post.worker import handle_events, post_in_line
from services.web.submissions import job_json
from shared.catalog.loader import Catalog, default_catalog
from shared.catalog.models import Severity
from shared.db.history import after_image
from shared.db.models import (
    OdsRecord,
    RecordHistory,
    StagedRecord,
    Submission,
    SubmissionIssue,
)
from shared.events.models import EndOfFile, Record, RecordBatch
from shared.filestore import FileStore
from shared.issues import Issue
from shared.settings import WatchdogSettings

pytestmark = pytest.mark.integration
LEA, SCHOOL = "1964733", "6000001"


def senr(ssid: str, start: str, action: str = "", status: str = "10",
         year: str = "2025-2026") -> list[str]:
    fields = [""] * 34
    fields[:9] = ["SENR", action, "1", LEA, SCHOOL, "", year, ssid, "L1"]
    fields[9], fields[11], fields[16], fields[17] = "Ana", "Lopez", "20150101", "F"
    fields[21], fields[22], fields[23], fields[30] = start, status, "05", LEA
    return fields


def new_submission(sessions: sessionmaker[Session]) -> int:
    with sessions.begin() as session:
        submission = Submission(collection="SENR", institution_id=LEA, filename="f.csv",
                                submitted_by="c@example.org", status="received")
        session.add(submission)
        session.flush()
        return submission.id


def send(sessions: sessionmaker[Session], catalog: Catalog, sid: int,
         records: list[Record], *, eof: bool = True) -> str | None:
    ref = {"submission_id": sid, "collection": "SENR", "institution_id": LEA,
           "submitted_on": dt.date(2025, 9, 1)}
    events: list[RecordBatch | EndOfFile] = [RecordBatch(**ref, records=records)]
    if eof:
        events.append(EndOfFile(**ref, records=len(records)))
    out = handle_events(sessions, catalog, events)
    return out[0].value.decode() if out else None


def current(sessions: sessionmaker[Session]) -> dict[str, list[str]]:
    with sessions() as session:
        return {r.op_key: r.fields for r in session.scalars(select(OdsRecord))}


def status(sessions: sessionmaker[Session], sid: int) -> Submission:
    with sessions() as session:
        found = session.get(Submission, sid)
        assert found is not None
        return found


def test_barrier_waits_for_every_record_and_redelivery_stages_once(
        sessions: sessionmaker[Session]) -> None:
    catalog = default_catalog()
    sid = new_submission(sessions)
    first = [Record(row=1, fields=senr("1234567890", "20250820"))]
    second = [Record(row=2, fields=senr("1000000001", "20250821"))]
    ref = {"submission_id": sid, "collection": "SENR", "institution_id": LEA,
           "submitted_on": dt.date(2025, 9, 1)}
    # End-of-file first (it travels on another partition), then the batches, one twice.
    assert handle_events(sessions, catalog, [EndOfFile(**ref, records=2)]) == []
    assert handle_events(sessions, catalog, [RecordBatch(**ref,
                                                         records=first)]) == []
    assert handle_events(sessions, catalog, [RecordBatch(**ref,
                                                         records=first)]) == []
    assert status(sessions, sid).status == "processing"
    assert current(sessions) == {}
    out = handle_events(sessions, catalog, [RecordBatch(**ref, records=second)])
    assert len(out) == 1
    assert status(sessions, sid).status == "posted"
    assert status(sessions, sid).posted == 2
    assert len(current(sessions)) == 2
    # A replay of the whole file after posting posts nothing again.
    again = send(sessions, catalog, sid, first + second)
    assert again is not None
    assert '"processed"' in again
    with sessions() as session:
        assert len(session.scalars(select(RecordHistory)).all()) == 2
        assert session.scalars(select(StagedRecord.row).where(
            StagedRecord.submission_id == sid)).all() != []
    # Staging is emptied once the submission is final, when the worker is idle, a part at a
    # time (a part of one row here: twice, then nothing is left).
    assert tidy_staging(sessions, 60, part=1) == 2
    assert tidy_staging(sessions, 60, part=1) == 0
    with sessions() as session:
        assert session.scalars(select(StagedRecord.row).where(
            StagedRecord.submission_id == sid)).all() == []


def test_a_fetch_with_a_batch_staged_already_among_new_ones_stages_each_row_once(
        sessions: sessionmaker[Session]) -> None:
    """A fetch holds a batch staged before (a redelivery) between new batches of the file, and
    one that is not next to them: every row is staged once and the file posts whole."""
    catalog = default_catalog()
    sid = new_submission(sessions)
    ref = {"submission_id": sid, "collection": "SENR", "institution_id": LEA,
           "submitted_on": dt.date(2025, 9, 1)}

    def batch(*rows: int) -> RecordBatch:
        return RecordBatch(**ref, records=[
            Record(row=r, fields=senr(f"{1000000000 + r * 101:010d}", "20250820"))
            for r in rows])

    assert handle_events(sessions, catalog, [batch(3, 4), batch(9, 10)]) == []
    assert handle_events(sessions, catalog, [batch(1, 2), batch(9, 10), batch(3, 4),
                                             batch(5, 6)]) == []
    assert status(sessions, sid).staged_records == 8
    out = handle_events(sessions, catalog, [batch(7, 8), EndOfFile(**ref, records=10)])
    assert len(out) == 1
    done = status(sessions, sid)
    assert (done.status, done.staged_records, done.posted) == ("posted", 10, 10)
    assert len(current(sessions)) == 10


def test_one_fatal_record_rejects_the_whole_file(sessions: sessionmaker[Session]) -> None:
    catalog = default_catalog()
    sid = new_submission(sessions)
    bad = Issue(row=2, field="1.23", field_name="Enrollment Status Code", code="invalid-code",
                severity=Severity.FATAL, message="x")
    send(sessions, catalog, sid, [Record(row=1, fields=senr("1234567890", "20250820")),
                                  Record(row=2, fields=senr("1000000001", "20250820", status="77"),
                                         issues=[bad])])
    job = status(sessions, sid)
    assert (job.status, job.posted, job.rejected) == ("rejected", 0, 1)
    assert current(sessions) == {}
    with sessions() as session:
        codes = session.scalars(select(SubmissionIssue.code).where(
            SubmissionIssue.submission_id == sid)).all()
    assert codes == ["invalid-code"]


def test_delete_then_add_then_replace_set(sessions: sessionmaker[Session]) -> None:
    catalog = default_catalog()
    first = new_submission(sessions)
    send(sessions, catalog, first, [
        Record(row=1, fields=senr("1234567890", "20250820")),
        Record(row=2, fields=senr("1234567890", "20251001")),
        Record(row=3, fields=senr("1000000001", "20250820")),
    ])
    assert len(current(sessions)) == 3
    second = new_submission(sessions)
    # Row order is deliberately R, A, D: posting still applies D, then A, then R (CFS §1.3).
    replace = senr("1234567890", "20250901", action="R")
    update = senr("1000000001", "20250820", status="20")
    remove = senr("1000000001", "20250820", action="D")
    send(sessions, catalog, second, [Record(row=1, fields=replace), Record(row=2, fields=update),
                                     Record(row=3, fields=remove)])
    store = current(sessions)
    # The delete ran first, then the add re-created the record with status 20.
    assert store[f"{SCHOOL}|1000000001|20250820"][22] == "20"
    # The R set (school, SSID, year) replaced both earlier enrollments with the one submitted.
    assert sorted(k for k in store if "1234567890" in k) == [f"{SCHOOL}|1234567890|20250901"]
    assert status(sessions, second).status == "posted"


def test_history_says_what_each_change_left_the_add_included(
        sessions: sessionmaker[Session]) -> None:
    catalog = default_catalog()
    kept, changed, gone = (senr("1234567890", "20250820"), senr("1000000001", "20250820"),
                           senr("1000000002", "20250820"))
    send(sessions, catalog, new_submission(sessions), [
        Record(row=n, fields=f) for n, f in enumerate((kept, changed, gone), start=1)])
    again = senr("1000000001", "20250820", status="20")
    send(sessions, catalog, new_submission(sessions), [
        Record(row=1, fields=again), Record(row=2, fields=senr("1000000002", "20250820",
                                                               action="D"))])
    with sessions() as session:
        found = session.execute(select(RecordHistory.op_key, RecordHistory.action,
                                       RecordHistory.before, after_image())
                                .order_by(RecordHistory.id)).all()
    history: dict[str, list[tuple[str, object, object]]] = {}
    for key, action, before, after in found:
        history.setdefault(key.split("|")[1], []).append((action, before, after))
    assert history["1234567890"] == [("add", None, kept)]
    assert history["1000000001"] == [("add", None, changed), ("update", changed, again)]
    assert history["1000000002"] == [("add", None, gone), ("delete", gone, None)]


def test_one_fetch_with_two_submissions_posts_both(sessions: sessionmaker[Session]) -> None:
    catalog = default_catalog()
    first, second = new_submission(sessions), new_submission(sessions)
    events: list[RecordBatch | EndOfFile] = []
    for sid, ssid in ((first, "1234567890"), (second, "1000000001")):
        ref = {"submission_id": sid, "collection": "SENR", "institution_id": LEA,
               "submitted_on": dt.date(2025, 9, 1)}
        events += [RecordBatch(**ref,
                               records=[Record(row=1, fields=senr(ssid, "20250820"))]),
                   EndOfFile(**ref, records=1)]
    out = handle_events(sessions, catalog, events)
    assert len(out) == 2
    assert status(sessions, first).status == "posted"
    assert status(sessions, second).status == "posted"
    assert len(current(sessions)) == 2


def test_files_of_one_district_post_in_the_order_received(
        sessions: sessionmaker[Session]) -> None:
    catalog = default_catalog()
    first, second = new_submission(sessions), new_submission(sessions)
    key = f"{SCHOOL}|1234567890|20250820"
    # The second file finishes validating first: it must wait for the first.
    send(sessions, catalog, second, [Record(row=1, fields=senr("1234567890", "20250820",
                                                               status="20"))])
    assert status(sessions, second).status == "processing"
    assert current(sessions) == {}
    out = handle_events(sessions, catalog, [
        RecordBatch(submission_id=first, collection="SENR", institution_id=LEA,
                    submitted_on=dt.date(2025, 9, 1),
                    records=[Record(row=1, fields=senr("1234567890", "20250820"))]),
        EndOfFile(submission_id=first, collection="SENR", institution_id=LEA,
                  submitted_on=dt.date(2025, 9, 1), records=1)])
    assert len(out) == 2  # the first posted, and then the waiting second
    assert status(sessions, first).status == "posted"
    assert status(sessions, second).status == "posted"
    assert current(sessions)[key][22] == "20"  # the later file's data wins


def test_a_rejected_earlier_file_does_not_block_the_next(
        sessions: sessionmaker[Session]) -> None:
    catalog = default_catalog()
    first, second = new_submission(sessions), new_submission(sessions)
    bad = Issue(row=1, field="1.23", field_name="Enrollment Status Code", code="invalid-code",
                severity=Severity.FATAL, message="x")
    send(sessions, catalog, first, [Record(row=1, fields=senr("1234567890", "20250820",
                                                              status="77"), issues=[bad])])
    send(sessions, catalog, second, [Record(row=1, fields=senr("1234567890", "20250820"))])
    assert status(sessions, first).status == "rejected"
    assert status(sessions, second).status == "posted"


def test_issues_are_kept_up_to_the_cap_per_code_and_all_counted(
        sessions: sessionmaker[Session]) -> None:
    catalog = default_catalog()
    sid = new_submission(sessions)
    records = []
    for row in range(1, 6):
        bad = Issue(row=row, field="1.23", field_name="Enrollment Status Code",
                    code="invalid-code", severity=Severity.FATAL, message="x")
        records.append(Record(row=row, fields=senr("1234567890", f"2025082{row}",
                                                   status="77"), issues=[bad]))
    ref = {"submission_id": sid, "collection": "SENR", "institution_id": LEA,
           "submitted_on": dt.date(2025, 9, 1)}
    # Two batches, so the cap holds across staging transactions too.
    handle_events(sessions, catalog, [RecordBatch(**ref, records=records[:3])],
                  max_issues_per_code=2)
    handle_events(sessions, catalog, [RecordBatch(**ref, records=records[3:]),
                                      EndOfFile(**ref, records=5)], max_issues_per_code=2)
    with sessions() as session:
        job = job_json(session, status(sessions, sid), "http://x")
        kept = session.scalars(select(SubmissionIssue.row).where(
            SubmissionIssue.submission_id == sid).order_by(SubmissionIssue.row)).all()
    assert job["status"] == "rejected"
    assert job["rejected"] == 5
    assert job["issue_counts"] == {"invalid-code": 5}
    assert job["issues"] == 5
    assert kept == [1, 2]


def test_missing_delete_warnings_are_capped_and_counted(sessions: sessionmaker[Session]) -> None:
    catalog = default_catalog()
    sid = new_submission(sessions)
    deletes = [Record(row=r, fields=senr("1234567890", f"2025082{r}", action="D"))
               for r in range(1, 4)]
    ref = {"submission_id": sid, "collection": "SENR", "institution_id": LEA,
           "submitted_on": dt.date(2025, 9, 1)}
    handle_events(sessions, catalog, [RecordBatch(**ref, records=deletes),
                                      EndOfFile(**ref, records=3)], max_issues_per_code=2)
    with sessions() as session:
        job = job_json(session, status(sessions, sid), "http://x")
    assert (job["status"], job["warnings"]) == ("posted", 3)
    assert job["issue_counts"] == {"delete-missing": 3}
    with sessions() as session:
        assert session.scalars(select(SubmissionIssue.row).where(
            SubmissionIssue.submission_id == sid).order_by(SubmissionIssue.row)).all() == [1, 2]


def test_the_watchdog_passes_over_a_file_another_worker_is_posting(
        sessions: sessionmaker[Session], tmp_path: Path) -> None:
    # PostgreSQL: a file being posted still reads as 'processing' until the barrier commits;
    # another post worker's watchdog must not wait on it (SQLite has one writer: no such case).
    if sessions.kw["bind"].dialect.name != "postgresql":
        pytest.skip("SQLite serialises every writer")
    catalog = default_catalog()
    sid = new_submission(sessions)
    with sessions.begin() as session:
        session.execute(update(Submission).where(Submission.id == sid).values(
            status="processing", expected_records=1, staged_records=1))

    def round_of_watchdog() -> list[int]:
        return [int(json.loads(o.value)["submission_id"]) for o in watch(
            sessions, catalog, FileStore(tmp_path), WatchdogSettings(),
            post=lambda s: post_in_line(sessions, catalog, s),
            finish_large=lambda s: [])]

    finished: list[list[int]] = []
    holder = sessions()
    with holder.begin():  # as another worker's barrier, between its claim and its commit
        holder.execute(update(Submission).where(Submission.id == sid).values(status="posting"))
        other = threading.Thread(target=lambda: finished.append(round_of_watchdog()))
        other.start()
        other.join(timeout=20)
        assert not other.is_alive(), "the watchdog waited on a file another worker is posting"
        holder.rollback()  # that worker stopped before posting it
    other.join()
    assert finished == [[]]
    # Free again, the next round takes it: nothing is left behind.
    assert sid in round_of_watchdog()


@pytest.mark.parametrize(("stored_before", "school_locks"), [
    (False, locks.SCHOOL_LOCKS), (True, locks.SCHOOL_LOCKS), (True, 0)],
    ids=["nothing-stored", "stored", "whole-type-locked"])
def test_a_key_another_worker_posts_during_the_barrier_is_not_lost(
        sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch,
        stored_before: bool, school_locks: int) -> None:
    """Two post workers post files of two districts with a key in common (one student at one
    school). Right before the first barrier inserts its new keys (after its look at the store:
    nothing stored at the school, or updates of what is), the other district's file posts on
    another worker. No record of either file may be lost: the files post as if one after the
    other, each file's change of the shared record is in its history, and the version of the
    file that posted last is stored. (``school_locks`` 0: every file counts as one at more
    schools than are locked one by one, so each barrier locks the whole record type.)"""
    # PostgreSQL only: SQLite has one writer, so no file can post inside another's barrier.
    if sessions.kw["bind"].dialect.name != "postgresql":
        pytest.skip("SQLite serialises every writer")
    catalog = default_catalog()
    keys = {f"{SCHOOL}|1000000001|20250820", f"{SCHOOL}|2000000002|20250820"}
    if stored_before:  # the first barrier then updates before it inserts
        earlier = new_submission(sessions)
        assert "posted" in (send(sessions, catalog, earlier,
                                 [Record(row=1, fields=senr("3000000003", "20250820"))]) or "")
        keys.add(f"{SCHOOL}|3000000003|20250820")
    shared, own = senr("1000000001", "20250820"), senr("2000000002", "20250820")
    theirs = senr("1000000001", "20250820")
    theirs[9] = "Eva"  # the other district's version of the shared record
    first = new_submission(sessions)
    with sessions.begin() as session:
        other_job = Submission(collection="SENR", institution_id="2180", filename="o.csv",
                               submitted_by="o@example.org", status="received")
        session.add(other_job)
        session.flush()
        other = other_job.id
    other_posted: list[str | None] = []

    def the_other_file() -> None:
        ref = {"submission_id": other, "collection": "SENR", "institution_id": "2180",
               "submitted_on": dt.date(2025, 9, 1)}
        out = handle_events(sessions, catalog, [
            RecordBatch(**ref, records=[Record(row=1, fields=theirs)]),
            EndOfFile(**ref, records=1)])
        other_posted.append(out[0].value.decode() if out else None)

    real = posting.Poster._insert_new
    workers: list[threading.Thread] = []

    def the_other_file_posts_first(self: posting.Poster, action: str,
                                   stored: bool = True) -> None:
        if self.sid == first and not workers:
            workers.append(threading.Thread(target=the_other_file))
            workers[0].start()
            workers[0].join(2)  # it posts now, unless it waits for this barrier to commit
        real(self, action, stored)

    monkeypatch.setattr(posting.Poster, "_insert_new", the_other_file_posts_first)
    monkeypatch.setattr(locks, "SCHOOL_LOCKS", school_locks)
    assert "posted" in (send(sessions, catalog, first, [Record(row=1, fields=shared),
                                                        Record(row=2, fields=own)]) or "")
    assert workers, "the first barrier inserted nothing"
    workers[0].join(30)
    assert other_posted and "posted" in (other_posted[0] or "")
    stored = current(sessions)
    assert set(stored) == keys
    key = f"{SCHOOL}|1000000001|20250820"
    with sessions() as session:
        changes = session.execute(
            select(RecordHistory.action, RecordHistory.submission_id)
            .where(RecordHistory.op_key == key).order_by(RecordHistory.id)).all()
    assert [tuple(c) for c in changes] in ([("add", first), ("update", other)],
                                           [("add", other), ("update", first)])
    last = changes[-1][1]
    assert stored[key][9] == ("Eva" if last == other else "Ana")
    assert status(sessions, first).posted == 2


def test_a_file_large_enough_to_vacuum_staging_first_posts(
        sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch) -> None:
    """On PostgreSQL the post worker vacuums staging before the barrier of a large file (its
    index-only reads then need no heap); here every file counts as large. The vacuum runs
    outside the barrier's transaction and the file posts whole (SQLite: nothing to vacuum)."""
    monkeypatch.setattr(staging, "SETTLE_ABOVE", 1)
    catalog = default_catalog()
    sid = new_submission(sessions)
    out = send(sessions, catalog, sid, [Record(row=1, fields=senr("1234567890", "20250820")),
                                        Record(row=2, fields=senr("1000000001", "20250821"))])
    assert out is not None and '"posted"' in out
    assert status(sessions, sid).posted == 2
    assert len(current(sessions)) == 2


def test_a_vacuum_the_server_refuses_never_stops_a_file(
        sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch) -> None:
    """The vacuum before a large file's barrier only makes its reads quicker: a server that
    refuses it (an older version without its options, a role that may not vacuum) still
    posts the file."""
    monkeypatch.setattr(staging, "SETTLE_ABOVE", 1)
    monkeypatch.setattr(staging, "SETTLE", "VACUUM (NO_SUCH_OPTION) staged_records")
    catalog = default_catalog()
    sid = new_submission(sessions)
    out = send(sessions, catalog, sid, [Record(row=1, fields=senr("1234567890", "20250820"))])
    assert out is not None and '"posted"' in out
    assert len(current(sessions)) == 1
