"""The store rules that look codes up in the CDS directory, for every layout that names a
school, an NPS or an LEA (store_rules.yaml), against a real store: a school of another LEA, a
closed NPS, a charter school that is not a charter LEA are refused at the post barrier; the
codes the directory has post."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from services.post.worker import post_in_line
from shared.catalog.loader import default_catalog
from shared.db.models import Institution, StagedRecord, Submission, SubmissionIssue
from tests.integration.test_posting_methods import record, submit
from tests.integration.test_store_rules import load_directory

pytestmark = pytest.mark.integration

DIRECTORY = """kind,code,name,parent,status,starts,ends,category
lea,1964733,Demo USD,,active,,,
school,2222222,Open School,1964733,active,,,
school,4444444,School of another LEA,1964734,active,,,
school,7777777,Demo Charter School,1964733,active,,,charter
school,9999999,NPS in the Demo USD,1964733,active,,,nps
lea,1964734,Other USD,,active,,,
school,8888888,Open NPS,1964734,active,,,nps
school,8888880,Closed NPS,1964734,closed,1990-07-01,2019-06-30,nps
lea,1964735,Independent Charter,,active,,,charter
school,1964735,Independent Charter,1964735,active,,,charter
"""


def said(sessions: sessionmaker[Session], sid: int) -> list[tuple[int | None, str, str, str]]:
    """Each issue of the submission: its row, code, rule and the field's title."""
    with sessions() as session:
        return [(i.row, i.code, i.rule_id or "", i.field_name or "") for i in session.scalars(
            select(SubmissionIssue).where(SubmissionIssue.submission_id == sid)
            .order_by(SubmissionIssue.row))]


@pytest.fixture
def listed(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    load_directory(sessions, DIRECTORY)
    return sessions


SCHOOLS = [  # (record type, the school's field, its title, the rule)
    ("SDIS", "school_of_attendance", "School of Attendance", "SDIS-S001"),
    ("SASS", "school_of_assignment", "School of Assignment", "SASS-S001"),
    ("CRSE", "school_of_course_delivery", "School of Course Delivery", "CRSE-S001"),
    ("CRSC", "school_of_course_delivery", "School of Course Delivery", "CRSC-S001"),
    ("SCSE", "school_of_course_delivery", "School of Course Delivery", "SCSE-S001"),
    ("SCSC", "school_of_course_delivery", "School of Course Delivery", "SCSC-S001"),
    ("SCTE", "school_of_attendance", "School of Attendance", "SCTE-S001"),
    ("SELA", "school_of_attendance", "School of Attendance", "SELA-S001"),
    ("SPED", "school_of_attendance", "School of Attendance", "SPED-S002"),
    ("SSRV", "school_of_attendance", "School of Attendance", "SSRV-S002"),
    ("PSTS", "school_of_attendance", "School of Attendance", "PSTS-S001"),
    ("SINC", "school_of_attendance", "School of Attendance", "SINC-S001"),
    ("SIRS", "school_of_attendance", "School of Attendance", "SIRS-S001"),
    ("SOFF", "school_of_attendance", "School of Attendance", "SOFF-S001"),
    ("WBLR", "school_of_attendance", "School of Attendance", "WBLR-S001"),
]


@pytest.mark.parametrize(("record_type", "field", "title", "rule"), SCHOOLS)
def test_the_school_must_report_to_the_reporting_lea(
        listed: sessionmaker[Session], record_type: str, field: str, title: str,
        rule: str) -> None:
    done = submit(listed, record_type, [record(record_type, **{field: "2222222"}),
                                        record(record_type, **{field: "4444444"}),
                                        record(record_type, **{field: "6666666"})])
    assert done.status == "rejected"
    assert said(listed, done.id) == [(2, "school-not-in-directory", rule, title),
                                     (3, "school-not-in-directory", rule, title)]
    posted = submit(listed, record_type, [record(record_type, **{field: "2222222"})])
    assert posted.status == "posted", posted.message


@pytest.mark.parametrize(("record_type", "rule"), [
    ("SPED", "SPED-S003"), ("SSRV", "SSRV-S003"), ("PSTS", "PSTS-S002"), ("WBLR", "WBLR-S002")])
def test_the_nps_must_be_an_active_nps_of_the_directory(
        listed: sessionmaker[Session], record_type: str, rule: str) -> None:
    def nps(code: str) -> list[str]:
        return record(record_type, school_of_attendance="0000001",
                      school_of_attendance_nps=code)
    done = submit(listed, record_type, [nps("8888888"), nps("8888880"), nps("2222222")])
    assert said(listed, done.id) == [
        (2, "nps-not-in-directory", rule, "School of Attendance NPS"),
        (3, "nps-not-in-directory", rule, "School of Attendance NPS")]
    # an NPS of another LEA's county serves the student: it need not report to the LEA
    assert submit(listed, record_type, [nps("8888888")]).status == "posted"


@pytest.mark.parametrize(("record_type", "rule"), [("SPED", "SPED-S001"), ("SSRV", "SSRV-S001")])
def test_an_independently_reporting_charter_reports_as_itself(
        listed: sessionmaker[Session], record_type: str, rule: str) -> None:
    done = submit(listed, record_type, [record(record_type, school_of_attendance="1964735"),
                                        record(record_type, school_of_attendance="7777777")])
    assert said(listed, done.id) == [
        (1, "charter-reports-as-itself", rule, "School of Attendance")]
    with listed.begin() as session:
        session.add(Institution(id="1964735", name="Charter", contact_email="c@example.org"))
    own = submit(listed, record_type, [record(record_type, school_of_attendance="1964735",
                                              reporting_lea="1964735")], institution="1964735")
    assert own.status == "posted", own.message


@pytest.mark.parametrize(("record_type", "rule"), [("SPED", "SPED-S004"), ("SSRV", "SSRV-S004")])
def test_the_district_of_accountability_must_be_an_lea_of_the_directory(
        listed: sessionmaker[Session], record_type: str, rule: str) -> None:
    def accountable(code: str) -> list[str]:
        return record(record_type, school_of_attendance="2222222",
                      district_of_special_education_accountability=code)
    title = "District of Special Education Accountability"
    done = submit(listed, record_type, [accountable("1964734"), accountable("7777777"),
                                        accountable("1964735"), accountable("1999999")])
    assert said(listed, done.id) == [(2, "lea-not-in-directory", rule, title),
                                     (4, "lea-not-in-directory", rule, title)]
    passed = submit(listed, record_type, [accountable("1964734"), accountable("1964735")])
    assert passed.status == "posted", passed.message


@pytest.mark.parametrize(("record_type", "field", "title", "rule"), [
    ("CRSE", "school_of_course_delivery", "School of Course Delivery", "CRSE-S002"),
    ("CRSC", "school_of_course_delivery", "School of Course Delivery", "CRSC-S002"),
    ("SASS", "school_of_assignment", "School of Assignment", "SASS-S003")])
def test_an_nps_is_no_school_of_course_delivery_or_assignment(
        listed: sessionmaker[Session], record_type: str, field: str, title: str,
        rule: str) -> None:
    done = submit(listed, record_type, [record(record_type, **{field: "2222222"}),
                                        record(record_type, **{field: "9999999"})])
    assert said(listed, done.id) == [(2, "nps-school-not-allowed", rule, title)]
    posted = submit(listed, record_type, [record(record_type, **{field: "2222222"})])
    assert posted.status == "posted", posted.message


def test_a_charter_job_classification_needs_a_charter_school(
        listed: sessionmaker[Session]) -> None:
    def sass(school: str, job: str) -> list[str]:
        return record("SASS", school_of_assignment=school, staff_job_classification_code=job)
    done = submit(listed, "SASS", [sass("7777777", "26"), sass("2222222", "26"),
                                   sass("2222222", "10")])
    assert said(listed, done.id) == [
        (2, "not-a-charter-school", "SASS-S002", "School of Assignment")]
    passed = submit(listed, "SASS", [sass("7777777", "26"), sass("2222222", "10")])
    assert passed.status == "posted", passed.message


def test_an_lea_the_directory_does_not_list_is_not_looked_up(
        sessions: sessionmaker[Session]) -> None:
    load_directory(sessions, "kind,code,name,parent,status,starts,ends\n"
                             "lea,1964734,Other USD,,active,,\n")
    rows = [record("SPED", school_of_attendance="0000001", school_of_attendance_nps="6666666",
                   district_of_special_education_accountability="1999999")]
    assert submit(sessions, "SPED", rows).status == "posted"


def _nps_and_residence_file() -> list[list[str]]:
    def senr(ssid: str, **values: str) -> list[str]:
        return record("SENR", academic_year_id="2025-2026", ssid=ssid,
                      enrollment_start_date="20250815", **values)

    nps = {"school_of_attendance": "0000001"}
    return [senr("1234567890", **nps, school_of_attendance_nps="8888888"),
            senr("1000000001", **nps, school_of_attendance_nps="8888880"),  # closed
            senr("2000000002", **nps, school_of_attendance_nps="9999999"),
            senr("3000000003", school_of_attendance="2222222",
                 district_of_geographic_residence_code="1964734"),
            senr("4000000004", school_of_attendance="2222222",
                 district_of_geographic_residence_code="1964735"),  # a charter LEA
            senr("5000000005", school_of_attendance="2222222",
                 district_of_geographic_residence_code="1999999")]


NPS_AND_RESIDENCE_SAID = [
    (2, "nps-not-in-directory", "SENR-S003", "School of Attendance NPS"),
    (5, "lea-not-in-directory", "SENR-S004", "District of Geographic Residence Code"),
    (6, "lea-not-in-directory", "SENR-S004", "District of Geographic Residence Code")]


def test_records_staged_by_an_earlier_version_have_their_codes_looked_up_too(
        listed: sessionmaker[Session]) -> None:
    """A file in flight across an upgrade: its records were staged without the marks that say
    which codes are filled in, so the barrier reads the codes from their fields."""
    staged = submit(listed, "SENR", _nps_and_residence_file(), eof=False)
    with listed.begin() as session:
        session.execute(update(StagedRecord).where(StagedRecord.submission_id == staged.id)
                        .values(marks=0))
        session.execute(update(Submission).where(Submission.id == staged.id)
                        .values(expected_records=6))
    post_in_line(listed, default_catalog(), staged.id)
    assert said(listed, staged.id) == NPS_AND_RESIDENCE_SAID


def test_an_senr_nps_and_district_of_residence_are_looked_up(
        listed: sessionmaker[Session]) -> None:
    """CFS 1.06 "Must be a valid NPS code in CDS" (9999999 is the generic code of a
    non-certified NPS, not a directory entry) and 1.31 "a valid 7-digit County District (CD)
    code representing an active, open district that is not a charter school"."""
    done = submit(listed, "SENR", _nps_and_residence_file())
    assert said(listed, done.id) == NPS_AND_RESIDENCE_SAID
