"""The CFS §1.3 worked scenarios and the acceptance modes, posted for real (SQLite and PostgreSQL).

Each scenario first posts the 'before' state as a file of its own, then the scenario's file, and
compares the store with the seed's 'after' table. The seed's sample data is fixed where it is
wrong (docs/decisions.md, "CFS scenarios as tests"): its SSIDs fail the check digit (valid ones
are used), and Effective Date scenarios 3 and 4 send the resumed record as a record of its own,
because end dates are derived, never taken from the file (design.md §4).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from services.post.by_school import parts, post_schools
from services.post.decision import claim, decide
from services.post.watchdog import watch
from services.post.worker import finish_half_posted, handle_events, post_in_line
from services.web.submissions import job_json
from shared.catalog.loader import default_catalog
from shared.catalog.models import Severity
from shared.db.models import (
    HeldRecord,
    OdsRecord,
    RecordHistory,
    Submission,
    SubmissionIssue,
    utcnow,
)
from shared.events.models import EndOfFile, Record, RecordBatch
from shared.filestore import FileStore
from shared.issues import Issue
from shared.matching.ssid import ssid_problem
from shared.settings import WatchdogSettings

pytestmark = pytest.mark.integration
CATALOG = default_catalog()
LEA = "1964733"
SSID, SSID2, SSID3 = "1234567890", "1000000001", "2000000002"  # pass the check digit


def record(record_type: str, **values: str) -> list[str]:
    """A record of the layout with these named values; other fields blank."""
    layout = CATALOG.layouts[record_type]
    names = [f.name for f in layout.fields]
    assert set(values) <= set(names), set(values) - set(names)
    fields = [values.get(n, "") for n in names]
    if names[0] == "record_type_code":
        fields[0] = record_type
    if layout.lea_field and layout.lea_field not in values:
        fields[names.index(layout.lea_field)] = LEA
    return fields


def submit(sessions: sessionmaker[Session], collection: str, rows: list[list[str]], *,
           institution: str = LEA, bad: dict[int, str] | None = None,
           fixes: tuple[int, int] | None = None, by_school_above: int | None = None,
           eof: bool = True, period: str | None = None) -> Submission:
    """Stage a file of these records (row numbers from 1; ``bad`` gives a row a fatal issue)
    and let the post worker post it; returns the submission after posting."""
    with sessions.begin() as session:
        submission = Submission(collection=collection, institution_id=institution,
                                filename="f.csv", submitted_by="c@example.org",
                                status="received", period=period)
        if fixes:
            submission.fixes_submission_id, submission.fixes_row = fixes
        session.add(submission)
        session.flush()
        sid = submission.id
    records = []
    for row, fields in enumerate(rows, 1):
        issues = [Issue(row=row, field="7", field_name="gender", code="invalid-code",
                        severity=Severity.FATAL, message=(bad or {})[row])
                  ] if row in (bad or {}) else []
        records.append(Record(row=row, fields=fields, issues=issues))
    ref: dict[str, Any] = {"submission_id": sid, "collection": collection,
                           "institution_id": institution, "submitted_on": dt.date(2025, 9, 1)}
    events: list[RecordBatch | EndOfFile] = [RecordBatch(**ref, records=records)]
    if eof:
        events.append(EndOfFile(**ref, records=len(records)))
    handle_events(sessions, CATALOG, events, by_school_above=by_school_above)
    with sessions() as session:
        found = session.get(Submission, sid)
        assert found is not None
        return found


def enroll(sessions: sessionmaker[Session], *places: tuple[str, str],
           start: str = "20000701") -> None:
    """Post the students' enrollments (school, SSID) first: SINF, SPRG and STAS records need
    one (CFS §3.2.6, §3.3.5, §3.13.5; services/post/store_rules.py)."""
    rows = [record("SENR", school_of_attendance=school, academic_year_id="2025-2026", ssid=ssid,
                   enrollment_start_date=start, local_student_id=f"E{n}")
            for n, (school, ssid) in enumerate(places, 1)]
    assert submit(sessions, "SENR", rows).status == "posted"


@pytest.fixture
def enrolled(sessions: sessionmaker[Session]) -> None:
    """The students enrolled since 2000 at each school the scenarios use."""
    enroll(sessions, *((school, ssid) for school in ("2222222", "3333333", "4444444")
                       for ssid in (SSID, SSID2, SSID3)))


def stored(sessions: sessionmaker[Session], record_type: str, *names: str) -> set[tuple[str, ...]]:
    """The stored records of a type, as tuples of the named fields."""
    layout = CATALOG.layouts[record_type]
    index = [[f.name for f in layout.fields].index(n) for n in names]
    with sessions() as session:
        return {tuple(r.fields[i] for i in index) for r in session.scalars(
            select(OdsRecord).where(OdsRecord.record_type == record_type))}


def issues(sessions: sessionmaker[Session], sid: int) -> list[tuple[int | None, str]]:
    with sessions() as session:
        return [(i.row, i.code) for i in session.scalars(
            select(SubmissionIssue).where(SubmissionIssue.submission_id == sid)
            .order_by(SubmissionIssue.row))]


# --- Transaction (CFS §1.3.1.1) -------------------------------------------------------------

def senr(school: str, start: str, exit_date: str = "", action: str = "") -> list[str]:
    return record("SENR", transaction_type_code=action, school_of_attendance=school,
                  academic_year_id="2008-2009", ssid=SSID, enrollment_start_date=start,
                  enrollment_exit_date=exit_date, local_student_id="L1")


def test_transaction_scenario_1_add_then_update_then_second_school(
        sessions: sessionmaker[Session]) -> None:
    view = ("school_of_attendance", "enrollment_start_date", "enrollment_exit_date")
    submit(sessions, "SENR", [senr("2222222", "20080701")])
    submit(sessions, "SENR", [senr("2222222", "20080701", "20090115")])
    assert stored(sessions, "SENR", *view) == {("2222222", "20080701", "20090115")}
    submit(sessions, "SENR", [senr("3333333", "20090116")])
    assert stored(sessions, "SENR", *view) == {("2222222", "20080701", "20090115"),
                                               ("3333333", "20090116", "")}


def test_transaction_scenario_2_delete_removes_only_that_enrollment(
        sessions: sessionmaker[Session]) -> None:
    submit(sessions, "SENR", [senr("2222222", "20080701", "20090115"),
                              senr("3333333", "20090116")])
    done = submit(sessions, "SENR", [record(
        "SENR", transaction_type_code="D", school_of_attendance="2222222", ssid=SSID,
        enrollment_start_date="20080701")])
    assert done.status == "posted"
    assert stored(sessions, "SENR", "school_of_attendance") == {("3333333",)}


def test_the_same_enrollment_twice_in_one_file_rejects_it_at_both_rows(
        sessions: sessionmaker[Session]) -> None:
    """The issue's defect: the later row silently won and the file posted '3 of 3'."""
    done = submit(sessions, "SENR", [senr("2222222", "20080701"),
                                     senr("3333333", "20090116"),
                                     senr("2222222", "20080701", "20090115")])
    assert done.status == "rejected"
    assert issues(sessions, done.id) == [(1, "duplicate-key-in-file"),
                                         (3, "duplicate-key-in-file")]
    assert stored(sessions, "SENR", "school_of_attendance") == set()
    with sessions() as session:
        assert session.scalars(select(RecordHistory).where(
            RecordHistory.submission_id == done.id)).all() == []



def test_a_delete_and_an_add_of_one_enrollment_in_one_file_are_a_pair_not_a_repeat(
        sessions: sessionmaker[Session]) -> None:
    """CFS §1.3: a district corrects an enrollment by deleting it and adding it again in one
    file; posting applies the Delete first. Two Deletes of one key are still a repeat."""
    submit(sessions, "SENR", [senr("2222222", "20080701")])
    done = submit(sessions, "SENR", [senr("2222222", "20080701", "20090115"),
                                     senr("2222222", "20080701", action="D")])
    assert done.status == "posted"
    assert stored(sessions, "SENR", "enrollment_exit_date") == {("20090115",)}
    twice = submit(sessions, "SENR", [senr("2222222", "20080701", action="D"),
                                      senr("2222222", "20080701", action="D")])
    assert issues(sessions, twice.id) == [(1, "duplicate-key-in-file"),
                                          (2, "duplicate-key-in-file")]


def test_an_add_and_a_replace_of_one_enrollment_in_one_file_are_a_repeat(
        sessions: sessionmaker[Session]) -> None:
    """Rows of two actions (not a Delete) with one key: still a repeat, named at both rows."""
    done = submit(sessions, "SENR", [senr("2222222", "20080701"),
                                     senr("3333333", "20090116"),
                                     senr("2222222", "20080701", "20090115", action="R")])
    assert done.status == "rejected"
    assert issues(sessions, done.id) == [(1, "duplicate-key-in-file"),
                                         (3, "duplicate-key-in-file")]

def test_records_sharing_a_local_student_id_each_need_the_ssid(
        sessions: sessionmaker[Session]) -> None:
    """CFS 1.09: with more than one record of a Local Student ID, the SSID fields of all of
    them cannot be blank. The blank ones are rejected, each naming another row of the ID; a
    blank SSID under a Local Student ID of its own asks for matching as before."""
    def pupil(school: str, ssid: str, local: str) -> list[str]:
        return record("SENR", school_of_attendance=school, academic_year_id="2008-2009",
                      ssid=ssid, enrollment_start_date="20080701", local_student_id=local)

    done = submit(sessions, "SENR", [pupil("2222222", "", "L1"), pupil("3333333", SSID, "L1"),
                                     pupil("2222222", "", "L2"), pupil("4444444", "", "L1")])
    assert done.status == "rejected"
    # Row 3 (no names to match on) is unmatchable, not repeated.
    assert [i for i in issues(sessions, done.id) if i[0] != 3] == [
        (1, "required-when-repeated"), (4, "required-when-repeated")]
    with sessions() as session:
        said = session.scalars(select(SubmissionIssue.message).where(
            SubmissionIssue.submission_id == done.id).order_by(SubmissionIssue.row)).all()
    assert said[0].startswith("Row 1 has the same Local Student ID as row 2 and a blank SSID")
    assert said[-1].startswith("Row 4 has the same Local Student ID as row 1")
    assert "L1" not in said[0]  # the local id is private
    assert stored(sessions, "SENR", "school_of_attendance") == set()


# --- Effective Date (CFS §1.3.2.1), SINF: one timeline per LEA and student -------------------

def sinf(start: str, address: str, action: str = "", end: str = "") -> list[str]:
    return record("SINF", transaction_type_code=action, effective_start_date=start,
                  effective_end_date=end, ssid=SSID, school_of_attendance="2222222",
                  academic_year_id="2010-2011", residential_address_line_1=address)


def timeline(sessions: sessionmaker[Session]) -> list[tuple[str, ...]]:
    return sorted(stored(sessions, "SINF", "effective_start_date", "effective_end_date",
                         "residential_address_line_1"))


@pytest.mark.usefixtures("enrolled")
def test_effective_scenario_1_insert_new_record_closes_the_previous(
        sessions: sessionmaker[Session]) -> None:
    submit(sessions, "SINF", [sinf("20100702", "C")])
    submit(sessions, "SINF", [sinf("20110101", "D 577 Faculty Dr.")])
    assert timeline(sessions) == [("20100702", "20101231", "C"),
                                  ("20110101", "", "D 577 Faculty Dr.")]


@pytest.mark.usefixtures("enrolled")
def test_effective_scenario_2_a_start_date_replaces_every_later_record(
        sessions: sessionmaker[Session]) -> None:
    submit(sessions, "SINF", [sinf("20091001", "A"), sinf("20100401", "B"),
                              sinf("20100901", "C"), sinf("20101001", "D")])
    submit(sessions, "SINF", [sinf("20100702", "E")])
    assert timeline(sessions) == [("20091001", "20100331", "A"), ("20100401", "20100701", "B"),
                                  ("20100702", "", "E")]


@pytest.mark.usefixtures("enrolled")
def test_effective_scenarios_3_and_4_historical_change_sends_the_resumed_record(
        sessions: sessionmaker[Session]) -> None:
    submit(sessions, "SINF", [sinf("20100401", "B")])
    # Scenario 4: C from 7/2/2010 to 10/1/2010 inside B; B resumes on 10/2/2010.
    submit(sessions, "SINF", [sinf("20100702", "C", end="20101001"),
                              sinf("20101002", "B")])
    assert timeline(sessions) == [("20100401", "20100701", "B"), ("20100702", "20101001", "C"),
                                  ("20101002", "", "B")]


@pytest.mark.usefixtures("enrolled")
def test_effective_end_date_in_the_file_is_not_kept(sessions: sessionmaker[Session]) -> None:
    submit(sessions, "SINF", [sinf("20100702", "C", end="20101001")])
    assert timeline(sessions) == [("20100702", "", "C")]  # the latest record is open-ended


@pytest.mark.usefixtures("enrolled")
def test_effective_scenario_5_delete_a_historical_record(
        sessions: sessionmaker[Session]) -> None:
    submit(sessions, "SINF", [sinf("20091001", "A"), sinf("20100401", "B")])
    submit(sessions, "SINF", [sinf("20091001", "", action="D", end="20100331")])
    assert timeline(sessions) == [("20100401", "", "B")]


@pytest.mark.usefixtures("enrolled")
def test_effective_scenario_6_delete_the_latest_reopens_the_one_before(
        sessions: sessionmaker[Session]) -> None:
    submit(sessions, "SINF", [sinf("20091001", "A"), sinf("20100401", "B")])
    assert timeline(sessions)[0] == ("20091001", "20100331", "A")
    submit(sessions, "SINF", [sinf("20100401", "", action="D")])
    assert timeline(sessions) == [("20091001", "", "A")]


@pytest.mark.usefixtures("enrolled")
def test_effective_delete_of_the_only_record_rejects_the_file(
        sessions: sessionmaker[Session]) -> None:
    submit(sessions, "SINF", [sinf("20100401", "B")])
    done = submit(sessions, "SINF", [sinf("20200101", "X"), sinf("20100401", "", action="D")])
    # The add of row 1 is for the same timeline, so the delete does not empty it: posted.
    assert done.status == "posted"
    assert timeline(sessions) == [("20200101", "", "X")]
    rejected = submit(sessions, "SINF", [sinf("20200101", "", action="D")])
    assert rejected.status == "rejected"
    assert issues(sessions, rejected.id) == [(1, "delete-last-record")]
    assert timeline(sessions) == [("20200101", "", "X")]


@pytest.mark.usefixtures("enrolled")
def test_effective_delete_of_a_missing_start_is_a_warning(
        sessions: sessionmaker[Session]) -> None:
    submit(sessions, "SINF", [sinf("20100401", "B"), sinf("20110401", "C")])
    done = submit(sessions, "SINF", [sinf("20100501", "", action="D")])
    assert done.status == "posted"
    assert issues(sessions, done.id) == [(1, "delete-missing")]
    assert len(timeline(sessions)) == 2


# --- Replacement (CFS §1.3.3.1) -------------------------------------------------------------

def scse(school: str, term: str, course: str, action: str = "") -> list[str]:
    return record("SCSE", transaction_type_code=action, school_of_course_delivery=school,
                  academic_year_id="2008-2009", ssid=SSID, academic_term_code=term,
                  course_section_id=f"S{course}", local_course_id=course)


SCSE_BEFORE = [scse("2222222", "FY", "2100"), scse("2222222", "FY", "2507"),
               scse("3333333", "Q1", "2600"), scse("3333333", "Q1", "2875"),
               scse("3333333", "FY", "5578"), scse("3333333", "FY", "6098")]
SCSE_OTHERS = {("3333333", "Q1", "2600"), ("3333333", "Q1", "2875"),
               ("3333333", "FY", "5578"), ("3333333", "FY", "6098")}


def courses(sessions: sessionmaker[Session]) -> set[tuple[str, ...]]:
    return stored(sessions, "SCSE", "school_of_course_delivery", "academic_term_code",
                  "local_course_id")


def test_replacement_scenario_1_replaces_everything_under_the_key(
        sessions: sessionmaker[Session]) -> None:
    submit(sessions, "SCSE", SCSE_BEFORE)
    done = submit(sessions, "SCSE", [scse("2222222", "FY", c) for c in ("5570", "4613", "2507")])
    assert done.status == "posted"
    assert courses(sessions) == SCSE_OTHERS | {("2222222", "FY", "5570"),
                                               ("2222222", "FY", "4613"),
                                               ("2222222", "FY", "2507")}
    assert issues(sessions, done.id) == []


def test_replacement_scenario_2_delete_removes_every_record_of_the_key(
        sessions: sessionmaker[Session]) -> None:
    submit(sessions, "SCSE", SCSE_BEFORE)
    submit(sessions, "SCSE", [record("SCSE", transaction_type_code="D",
                                     school_of_course_delivery="2222222",
                                     academic_year_id="2008-2009", ssid=SSID,
                                     academic_term_code="FY")])
    assert courses(sessions) == SCSE_OTHERS


def stas(school: str, ssid: str, expected: str, attended: str, action: str = "") -> list[str]:
    return record("STAS", transaction_type_code=action, school_of_attendance=school,
                  academic_year_id="2016-2017", ssid=ssid,
                  expected_attendance_days=expected, days_attended_in_person=attended)


@pytest.mark.usefixtures("enrolled")
def test_replacement_scenarios_3_and_4_student_absence_summary(
        sessions: sessionmaker[Session]) -> None:
    view = ("school_of_attendance", "ssid", "expected_attendance_days",
            "days_attended_in_person")
    submit(sessions, "STAS", [stas("3333333", SSID2, "150", "147"),
                              stas("4444444", SSID, "150", "130"),
                              stas("4444444", SSID3, "150", "140")])
    submit(sessions, "STAS", [stas("4444444", SSID, "150", "145")])
    assert stored(sessions, "STAS", *view) == {("3333333", SSID2, "150", "147"),
                                               ("4444444", SSID, "150", "145"),
                                               ("4444444", SSID3, "150", "140")}
    submit(sessions, "STAS", [stas("4444444", SSID, "", "", action="D")])
    assert stored(sessions, "STAS", *view) == {("3333333", SSID2, "150", "147"),
                                               ("4444444", SSID3, "150", "140")}


def ssrv(service: str) -> list[str]:
    return record("SSRV", school_of_attendance="3333333", academic_year_id="2019-2020",
                  ssid=SSID, reporting_selpa="5555",
                  meeting_or_amendment_identifier="10121451895",
                  special_education_service_code=service,
                  special_education_service_provider_code="100")


def test_replacement_scenario_5_student_services(sessions: sessionmaker[Session]) -> None:
    submit(sessions, "SSRV", [ssrv("230"), ssrv("240"), ssrv("250")])
    submit(sessions, "SSRV", [ssrv("445")])
    assert stored(sessions, "SSRV", "special_education_service_code") == {("445",)}


def test_replacement_of_a_key_with_nothing_stored_warns_once(
        sessions: sessionmaker[Session]) -> None:
    done = submit(sessions, "SCSE", [scse("2222222", "FY", "2100"),
                                     scse("2222222", "FY", "2507")])
    assert done.status == "posted"
    assert done.posted == 2
    assert issues(sessions, done.id) == [(1, "replace-missing")]


def test_a_key_sent_twice_in_one_file_stores_the_later_row(
        sessions: sessionmaker[Session]) -> None:
    """A layout whose key a file may repeat (SELA: LEA, SSID and status; only the SSID with the
    start date is unique in a file): the later row is the one stored, written once."""
    def sela(start: str) -> list[str]:
        return record("SELA", school_of_attendance="2222222", academic_year_id="2025-2026",
                      ssid=SSID, english_language_acquisition_status_code="EL",
                      english_language_acquisition_status_start_date=start)

    done = submit(sessions, "SELA", [sela("20250820"), sela("20250901")])
    assert done.status == "posted", done.message
    assert stored(sessions, "SELA", "english_language_acquisition_status_start_date") == {
        ("20250901",)}
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(RecordHistory).where(
            RecordHistory.submission_id == done.id)) == 1


def test_a_replace_after_an_add_of_the_same_key_in_a_new_store_wins(
        sessions: sessionmaker[Session]) -> None:
    """Posting order is D, A, R: the R of a key the same file adds is applied after the A
    (SELA, whose key a file may repeat), into a store that held nothing before the file."""
    def sela(action: str, start: str) -> list[str]:
        return record("SELA", transaction_type_code=action, school_of_attendance="2222222",
                      academic_year_id="2025-2026", ssid=SSID,
                      english_language_acquisition_status_code="EL",
                      english_language_acquisition_status_start_date=start)

    done = submit(sessions, "SELA", [sela("A", "20250820"), sela("R", "20250901")])
    assert done.status == "posted", done.message
    assert stored(sessions, "SELA", "english_language_acquisition_status_start_date") == {
        ("20250901",)}


# --- Acceptance: full replacement (SSCE) and valid records post (ODE-SSID) -----------------

def ssce(cds: str, ssid: str, local: str) -> list[str]:
    return record("SSCE", academic_year="2023-2024", cds_code=cds, ssid=ssid,
                  local_student_id=local, grade_level="12", doc_type="D")


def test_ssce_file_replaces_the_active_submission_which_is_archived(
        sessions: sessionmaker[Session]) -> None:
    first = submit(sessions, "SSCE", [ssce(LEA + "0000001", SSID, "a"),
                                      ssce(LEA + "0000002", SSID2, "b")])
    second = submit(sessions, "SSCE", [ssce(LEA + "0000002", SSID3, "c")])
    assert second.status == "posted"
    assert stored(sessions, "SSCE", "ssid") == {(SSID3,)}
    with sessions() as session:
        assert job_json(session, session.merge(first), "")["standing"] == "archived"
        assert job_json(session, session.merge(second), "")["standing"] == "active"


def test_ssce_duplicate_ssid_or_local_id_rejects_the_file(
        sessions: sessionmaker[Session]) -> None:
    submit(sessions, "SSCE", [ssce(LEA + "0000001", SSID, "a")])
    done = submit(sessions, "SSCE", [ssce(LEA + "0000001", SSID2, "b"),
                                     ssce(LEA + "0000002", SSID2, "c"),
                                     ssce(LEA + "0000002", SSID3, "b")])
    assert done.status == "rejected"
    assert issues(sessions, done.id) == [(2, "duplicate-in-file"), (3, "duplicate-in-file")]
    assert stored(sessions, "SSCE", "ssid") == {(SSID,)}  # the active file still stands


def disc_lea(number: int, lea: str, truants: str) -> list[str]:
    return record("DISC-LEA", file_record_number=str(number), fips_state_code="80",
                  state_agency_number="01", state_lea_identifier=lea, truants=truants,
                  gfsa_reporting_status="YESWOREP")


def disc_stored(sessions: sessionmaker[Session]) -> set[tuple[str, str]]:
    """(period, LEA and truants) of every stored LEA discipline record."""
    with sessions() as session:
        return {(r.op_key.split("|")[0], f"{r.fields[3]}={r.fields[5]}") for r in
                session.scalars(select(OdsRecord).where(OdsRecord.record_type == "DISC-LEA"))}


def test_an_edfacts_file_replaces_the_records_of_its_reporting_period_only(
        sessions: sessionmaker[Session]) -> None:
    # design.md §2: "full replacement for the reporting period" (the period is in the header
    # record only; the upload keeps it on the submission).
    first = submit(sessions, "DISC-LEA", [disc_lea(1, "A1", "10"), disc_lea(2, "B2", "20")],
                   period="2023-2024")
    assert first.status == "posted"
    second = submit(sessions, "DISC-LEA", [disc_lea(1, "A1", "11")], period="2024-2025")
    assert second.status == "posted" and "replaced 0 records" in (second.message or "")
    assert disc_stored(sessions) == {("2023-2024", "A1=10"), ("2023-2024", "B2=20"),
                                     ("2024-2025", "A1=11")}
    third = submit(sessions, "DISC-LEA", [disc_lea(1, "B2", "21")], period="2024-2025")
    assert third.status == "posted" and "for 2024-2025" in (third.message or "")
    assert disc_stored(sessions) == {("2023-2024", "A1=10"), ("2023-2024", "B2=20"),
                                     ("2024-2025", "B2=21")}
    with sessions() as session:
        standing = {s.id: job_json(session, session.merge(s), "")["standing"]
                    for s in (first, second, third)}
    assert standing == {first.id: "active", second.id: "archived", third.id: "active"}
    # A rejected file of the period removes nothing.
    bad = submit(sessions, "DISC-LEA", [disc_lea(1, "C3", "1")], period="2024-2025",
                 bad={1: "a bad record"})
    assert bad.status == "rejected"
    assert ("2024-2025", "B2=21") in disc_stored(sessions)


def test_a_repeat_is_said_in_the_same_round_as_a_rows_own_error(
        sessions: sessionmaker[Session]) -> None:
    # All-or-nothing: a row with an error of its own (not on the SSID) still repeats the SSID.
    done = submit(sessions, "SSCE", [ssce(LEA + "0000001", SSID2, "a"),
                                     ssce(LEA + "0000001", SSID2, "b")],
                  bad={2: "the grade is not a grade"})
    assert done.status == "rejected"
    assert sorted(issues(sessions, done.id)) == [(2, "duplicate-in-file"), (2, "invalid-code")]


def test_both_rows_of_a_repeated_enrollment_are_named_when_one_has_its_own_error(
        sessions: sessionmaker[Session]) -> None:
    rows = [senr("2222222", "20080801"), senr("2222222", "20080801")]
    done = submit(sessions, "SENR", rows, bad={1: "a bad gender"})
    assert done.status == "rejected" and done.rejected == 2
    assert sorted(issues(sessions, done.id)) == [
        (1, "duplicate-key-in-file"), (1, "invalid-code"), (2, "duplicate-key-in-file")]


ODE_STUDENTS = {"d1": ("Alvarez", "Ana", "01022015"), "d2": ("Baker", "Ben", "03042014"),
                "d3": ("Chen", "Cy", "05062013"), "D1": ("Dunn", "Dee", "07082012"),
                "D2": ("Evans", "Eli", "09102011")}


def ode(ssid: str, district_id: str, gender: str = "F", last: str | None = None) -> list[str]:
    """An ODE-SSID record of one of five different students (by district id)."""
    family, first, born = ODE_STUDENTS[district_id]
    return record("ODE-SSID", ssid=ssid, legal_last=last if last is not None else family,
                  legal_first=first, dob=born, gender=gender, resident_district="2180",
                  district_student_id=district_id, attending_district="2180",
                  attending_school="100", enrolled_grade="03")


def test_ode_valid_records_post_and_the_rest_wait_to_be_fixed(
        sessions: sessionmaker[Session]) -> None:
    done = submit(sessions, "ODE-SSID", [ode("", "d1"), ode("", "d2", gender="Q"),
                                         ode("", "d3", last="--")], institution="2180",
                  bad={2: "gender 'Q' is not a valid Gender code."})
    assert done.status == "posted"
    assert (done.posted, done.held) == (1, 2)
    (first,), = stored(sessions, "ODE-SSID", "ssid")
    assert first and ssid_problem(first) is None  # a new SSID, with its check digit
    with sessions() as session:
        held = {h.row: [i["code"] for i in h.issues] for h in session.scalars(
            select(HeldRecord).where(HeldRecord.submission_id == done.id))}
    assert held == {2: ["invalid-code"], 3: ["unmatchable"]}
    fixed = submit(sessions, "ODE-SSID", [ode("", "d2")], institution="2180",
                   fixes=(done.id, 2))
    assert fixed.status == "posted"
    assert len(stored(sessions, "ODE-SSID", "ssid")) == 2
    with sessions() as session:
        assert [h.row for h in session.scalars(select(HeldRecord))] == [3]


# --- Cross-record effects (CFS §3.3.2) --------------------------------------------------------

def sprg(program: str, start: str = "20250820", end: str = "") -> list[str]:
    return record("SPRG", school_of_attendance="2222222", academic_year_id="2025-2026",
                  ssid=SSID, education_program_code=program,
                  education_program_membership_start_date=start,
                  education_program_membership_end_date=end)


def exit_senr(reason: str) -> list[str]:
    return record("SENR", school_of_attendance="2222222", academic_year_id="2025-2026",
                  ssid=SSID, enrollment_start_date="20250815", enrollment_exit_date="20260115",
                  student_exit_reason_code=reason, local_student_id="L1")


@pytest.mark.parametrize(("reason", "ended"), [
    ("T160", {"113": "20260115", "181": "20260115", "144": ""}),  # moves: programs end
    ("E155", {"113": "", "181": "20260115", "144": ""}),  # year-end, back next year
    ("E150", {"113": "", "181": "", "144": ""}),  # mid-year grade change: nothing ends
])
def test_an_exit_end_dates_the_students_programs_in_the_same_posting(
        sessions: sessionmaker[Session], reason: str, ended: dict[str, str]) -> None:
    enroll(sessions, ("2222222", SSID), start="20250815")  # the enrollment the exit ends
    submit(sessions, "SPRG", [sprg("113"), sprg("181"), sprg("144")])
    done = submit(sessions, "SENR", [exit_senr(reason)])
    assert done.status == "posted"
    ends = stored(sessions, "SPRG", "education_program_code",
                  "education_program_membership_end_date")
    assert {r[0]: r[1] for r in ends} == ended
    with sessions() as session:
        effects = session.scalars(select(RecordHistory.op_key).where(
            RecordHistory.action == "effect", RecordHistory.submission_id == done.id)).all()
    assert len(effects) == sum(1 for v in ended.values() if v)


@pytest.mark.parametrize("summary", [
    {"staged_marks": None, "marked_records": None},  # a submission of an earlier version
    {"staged_marks": 0, "marked_records": 0},  # its records staged by a worker of before
], ids=["no-summary", "summary-of-no-record"])
def test_an_exit_staged_across_an_upgrade_still_ends_the_programs(
        sessions: sessionmaker[Session], summary: dict[str, int | None]) -> None:
    """The barrier skips the read for an effect no staged record may cause (the file's summary
    of marks); a summary that does not cover every staged record says nothing."""
    enroll(sessions, ("2222222", SSID), start="20250815")
    submit(sessions, "SPRG", [sprg("113")])
    staged = submit(sessions, "SENR", [exit_senr("T160")], eof=False)
    with sessions.begin() as session:
        session.execute(update(Submission).where(Submission.id == staged.id).values(
            expected_records=1, **summary))
    post_in_line(sessions, CATALOG, staged.id)
    assert stored(sessions, "SPRG", "education_program_membership_end_date") == {("20260115",)}


def test_a_program_already_ended_keeps_its_end_date(sessions: sessionmaker[Session]) -> None:
    enroll(sessions, ("2222222", SSID), start="20250815")
    submit(sessions, "SPRG", [sprg("113", end="20251201")])
    submit(sessions, "SENR", [exit_senr("T160")])
    assert stored(sessions, "SPRG", "education_program_membership_end_date") == {("20251201",)}


# --- Very large files: one transaction per school ---------------------------------------------

def three_schools() -> list[list[str]]:
    return [record("SENR", school_of_attendance=school, academic_year_id="2025-2026",
                   ssid=ssid, enrollment_start_date="20250815", local_student_id="L")
            for school in ("2222222", "3333333", "4444444") for ssid in (SSID, SSID2)]


def test_schools_are_posted_in_parts_of_bounded_size_in_code_order() -> None:
    schools = [(f"{n:07d}", size) for n, size in enumerate([3, 1, 1, 9, 2, 2, 1], 1)]
    found = parts(schools, at_least=4)
    assert [s for part in found for s in part] == [s for s, _ in schools]  # each once, in order
    sizes = dict(schools)
    assert [sum(sizes[s] for s in part) for part in found] == [4, 10, 4, 1]
    assert parts([], at_least=4) == []


def test_a_large_file_posts_school_by_school_and_says_so(
        sessions: sessionmaker[Session]) -> None:
    done = submit(sessions, "SENR", three_schools(), by_school_above=5)
    assert (done.status, done.posted) == ("posted", 6)
    assert "posted school by school (3 schools)" in (done.message or "")
    assert len(stored(sessions, "SENR", "school_of_attendance", "ssid")) == 6
    small = submit(sessions, "SENR", three_schools()[:2], by_school_above=5)
    assert "per school" not in (small.message or "")


def test_a_large_file_left_half_posted_is_finished_once_at_restart(
        sessions: sessionmaker[Session]) -> None:
    staged = submit(sessions, "SENR", three_schools(), eof=False)
    sid = staged.id
    collection = CATALOG.collections["SENR"]
    layout = CATALOG.layout_of(collection)
    # A worker claims the file, decides, posts one school, and dies.
    with sessions.begin() as session:
        session.execute(update(Submission).where(Submission.id == sid).values(
            expected_records=6))
    with sessions.begin() as session:
        assert claim(session, sid)
        submission = session.get(Submission, sid)
        assert submission is not None
        assert decide(session, submission, collection, layout, 1000).rejected is None
    with sessions.begin() as session:
        assert post_schools(session, CATALOG, sid, layout, ("2222222",), 1000)
    with sessions.begin() as session:  # the school is taken: nobody posts it twice
        assert not post_schools(session, CATALOG, sid, layout, ("4444444", "2222222"), 1000)
    assert len(stored(sessions, "SENR", "ssid", "school_of_attendance")) == 2
    # A minute later the watchdog of the worker that starts next finishes the file.
    with sessions.begin() as session:
        session.execute(update(Submission).where(Submission.id == sid).values(
            progress_at=utcnow() - dt.timedelta(minutes=2)))
    out = watch(sessions, CATALOG, FileStore(Path("/nonexistent")), WatchdogSettings(),
                post=lambda s: post_in_line(sessions, CATALOG, s),
                finish_large=lambda s: finish_half_posted(sessions, CATALOG, s, 1000))
    assert len(out) == 1
    done = status_of(sessions, sid)
    assert (done.status, done.posted) == ("posted", 6)
    with sessions() as session:
        adds = session.scalars(select(RecordHistory).where(
            RecordHistory.submission_id == sid, RecordHistory.action == "add")).all()
    assert len(adds) == 6
    assert finish_half_posted(sessions, CATALOG, sid, 1000) == []


def status_of(sessions: sessionmaker[Session], sid: int) -> Submission:
    with sessions() as session:
        found = session.get(Submission, sid)
        assert found is not None
        return found
