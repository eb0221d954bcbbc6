"""Rules that need what is already posted, decided at the post barrier against a real store
(SQLite and PostgreSQL): enrollments (SPRG, STAS, SINF) and the CDS directory (issue 12)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, make_url, select, text
from sqlalchemy.orm import Session, sessionmaker

from services.post.store_rules import bytewise
from shared import directory
from shared.db.migrate import upgrade
from shared.db.models import Institution, SubmissionIssue
from shared.db.session import make_engine, make_session_factory
from tests.integration.conftest import LEA
from tests.integration.test_posting_methods import (
    SSID,
    SSID2,
    issues,
    record,
    senr,
    sinf,
    stas,
    stored,
    submit,
)

pytestmark = pytest.mark.integration


def sprg(school: str, ssid: str, program: str = "113", action: str = "") -> list[str]:
    return record("SPRG", transaction_type_code=action, school_of_attendance=school,
                  academic_year_id="2025-2026", ssid=ssid, education_program_code=program,
                  education_program_membership_start_date="20250820")


def test_sprg_needs_an_enrollment_of_the_student_at_the_same_school(
        sessions: sessionmaker[Session]) -> None:
    assert submit(sessions, "SENR", [senr("2222222", "20250815")]).status == "posted"
    done = submit(sessions, "SPRG", [sprg("2222222", SSID), sprg("3333333", SSID),
                                     sprg("2222222", SSID2)])
    assert done.status == "rejected" and done.rejected == 2, done.message
    assert issues(sessions, done.id) == [(2, "no-enrollment"), (3, "no-enrollment")]
    assert stored(sessions, "SPRG", "ssid") == set()
    with sessions() as session:
        said = session.scalars(select(SubmissionIssue).where(
            SubmissionIssue.submission_id == done.id)).all()
    assert {(i.rule_id, i.field_name) for i in said} == {("SPRG-S001", "SSID")}
    assert all(SSID2 not in i.message and SSID not in i.message for i in said)
    assert submit(sessions, "SPRG", [sprg("2222222", SSID)]).status == "posted"


def test_sinf_needs_an_enrollment_for_the_lea_that_includes_its_start_date(
        sessions: sessionmaker[Session]) -> None:
    submit(sessions, "SENR", [senr("2222222", "20080701", "20090115")])
    before, after = sinf("20080601", "A"), sinf("20090201", "B")
    done = submit(sessions, "SINF", [sinf("20080801", "C"), before, after])
    assert issues(sessions, done.id) == [(2, "no-enrollment"), (3, "no-enrollment")]
    with sessions() as session:
        assert set(session.scalars(select(SubmissionIssue.field_name).where(
            SubmissionIssue.submission_id == done.id))) == {"Effective Start Date"}
    # an enrollment at another school of the same LEA covers the later date
    submit(sessions, "SENR", [senr("3333333", "20090116")])
    done = submit(sessions, "SINF", [sinf("20080801", "C"), sinf("20090201", "B")])
    assert done.status == "posted", done.message


def test_stas_needs_an_enrollment_but_a_delete_does_not(sessions: sessionmaker[Session]) -> None:
    done = submit(sessions, "STAS", [stas("2222222", SSID, "180", "170")])
    assert issues(sessions, done.id) == [(1, "no-enrollment")]
    deleted = submit(sessions, "STAS", [stas("2222222", SSID, "", "", action="D")])
    assert deleted.status == "posted", deleted.message
    assert "no-enrollment" not in {code for _, code in issues(sessions, deleted.id)}


def test_an_enrollment_must_not_overlap_one_posted_at_the_same_school(
        sessions: sessionmaker[Session]) -> None:
    """CFS 1.22 validation 3: "Must not overlap an existing open or closed enrollment in the
    ODS". The open enrollment at 2222222 takes every later start there, not at another
    school, and not for another student."""
    assert submit(sessions, "SENR", [senr("2222222", "20080701")]).status == "posted"
    other = record("SENR", school_of_attendance="2222222", academic_year_id="2008-2009",
                   ssid=SSID2, enrollment_start_date="20090116", local_student_id="L2")
    done = submit(sessions, "SENR", [senr("2222222", "20090116"), senr("3333333", "20090116"),
                                     other])
    assert done.status == "rejected"
    assert issues(sessions, done.id) == [(1, "enrollment-overlap")]
    with sessions() as session:
        [said] = session.scalars(select(SubmissionIssue).where(
            SubmissionIssue.submission_id == done.id)).all()
    assert (said.rule_id, said.field_name) == ("SENR-S002", "Enrollment Start Date")
    assert SSID not in said.message
    # The update of the posted enrollment itself (its exit) is no overlap; once exited, a new
    # enrollment from the day of the exit on does not overlap it either.
    exited = submit(sessions, "SENR", [senr("2222222", "20080701", "20090115")])
    assert exited.status == "posted", exited.message
    assert submit(sessions, "SENR", [senr("2222222", "20090115")]).status == "posted"
    # A closed enrollment overlaps too: a start inside it is rejected.
    inside = submit(sessions, "SENR", [senr("2222222", "20081001", "20081031")])
    assert issues(sessions, inside.id) == [(1, "enrollment-overlap")]


def test_an_enrollment_the_file_deletes_is_not_overlapped(
        sessions: sessionmaker[Session]) -> None:
    """A district corrects a start date by deleting the posted enrollment and adding the right
    one in one file (CFS §1.3); posting applies the Delete first."""
    submit(sessions, "SENR", [senr("2222222", "20080701")])
    done = submit(sessions, "SENR", [senr("2222222", "20080701", action="D"),
                                     senr("2222222", "20080705")])
    assert done.status == "posted", done.message
    assert stored(sessions, "SENR", "enrollment_start_date") == {("20080705",)}
    # A Replace clears its set (year, school, student) first: nothing is left to overlap.
    replaced = submit(sessions, "SENR", [senr("2222222", "20080710", action="R")])
    assert replaced.status == "posted", replaced.message
    assert stored(sessions, "SENR", "enrollment_start_date") == {("20080710",)}



@contextlib.contextmanager
def linguistic_store(postgres_url: str, name: str) -> Iterator[sessionmaker[Session]]:
    """A migrated PostgreSQL store whose collation is not C (as a production server's may
    be): key prefixes are no ranges of its indexes there."""
    url = make_url(postgres_url)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE template0 '
                                "LC_COLLATE 'C.utf8' LC_CTYPE 'C.utf8'"))
    admin.dispose()
    store = url.set(database=name).render_as_string(hide_password=False)
    upgrade(store)
    engine = make_engine(store)
    factory = make_session_factory(engine)
    with factory.begin() as session:
        session.add(Institution(id=LEA, name="Demo", contact_email="c@example.org"))
    try:
        yield factory
    finally:
        engine.dispose()


def test_overlaps_are_found_alike_on_a_postgresql_store_of_another_collation(
        postgres_database_url: str) -> None:
    base = make_url(postgres_database_url).database
    with linguistic_store(postgres_database_url, f"{base}_utf8_a") as first:
        with first() as session:
            assert not bytewise(session)  # so the overlap rule reads the LEA's enrollments
        test_an_enrollment_must_not_overlap_one_posted_at_the_same_school(first)
    with linguistic_store(postgres_database_url, f"{base}_utf8_b") as second:
        test_an_enrollment_the_file_deletes_is_not_overlapped(second)

DIRECTORY = """kind,code,name,parent,status,starts,ends
lea,1964733,Demo USD,,active,,
school,2222222,Open School,1964733,active,2000-07-01,
school,3333333,Closed School,1964733,closed,2000-07-01,2019-06-30
school,4444444,School of another LEA,1964734,active,,
school,5555555,Relationship ended,1964733,active,2000-07-01,2020-06-30
lea,1964734,Other USD,,active,,
"""


def load_directory(sessions: sessionmaker[Session], text: str) -> tuple[int, int]:
    with sessions.begin() as session:
        return directory.load(session, directory.parse(text, directory.known_leas(session)))


def test_the_school_must_report_to_the_lea_in_the_directory(
        sessions: sessionmaker[Session]) -> None:
    assert load_directory(sessions, DIRECTORY) == (6, 0)
    done = submit(sessions, "SENR", [senr(s, "20250815") for s in (
        "2222222", "3333333", "4444444", "5555555", "6666666", "0000001", "0000002")])
    assert issues(sessions, done.id) == [(r, "school-not-in-directory") for r in (2, 3, 4, 5)]
    assert done.status == "rejected"
    # the relationship is restored: loading again updates the row, and the school posts
    fixed = DIRECTORY.replace("5555555,Relationship ended,1964733,active,2000-07-01,2020-06-30",
                              "5555555,Relationship ended,1964733,active,2000-07-01,")
    assert load_directory(sessions, fixed) == (0, 1)
    assert submit(sessions, "SENR", [senr("5555555", "20250815")]).status == "posted"


def test_an_lea_the_directory_does_not_list_is_not_checked(
        sessions: sessionmaker[Session]) -> None:
    load_directory(sessions, "kind,code,name,parent,status,starts,ends\n"
                             "lea,1964734,Other USD,,active,,\n")
    assert submit(sessions, "SENR", [senr("6666666", "20250815")]).status == "posted"
