"""`edcs validate` decides the rules across the records of a file as the pipeline's barrier does
(tests/integration/test_posting_methods.py posts the same rows), tells valid-records-post
collections apart, and says what only the pipeline can check."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from edcs.offline import validate_file
from shared.catalog.loader import default_catalog
from shared.windows import collection_year, configured
from tests.unit.senr_rows import line, senr_row

CATALOG = default_catalog()
# SSCE records carry the collection's year, its window's on the day they are checked.
SSCE_YEAR = collection_year(configured(), "SSCE", dt.date.today()).years[0]
LEA = "1964733"
SSID, SSID2, SSID3 = "1234567890", "1000000001", "2000000002"  # pass the check digit
SSCE_HEADER = "academic_year,cds_code,ssid,local_student_id,grade_level,doc_type\r\n"
ODE_HEADER = ("ssid,legal_last,legal_first,preferred_last,preferred_first,dob,gender,ssn,"
              "resident_district,district_student_id,attending_district,attending_school,"
              "enrolled_grade\r\n")


def ssce(cds: str, ssid: str, local: str) -> str:
    return f"{SSCE_YEAR},{cds},{ssid},{local},12,D\r\n"


def located(path: Path, collection: str) -> list[tuple[int | None, str]]:
    return [(i.row, i.code) for i in validate_file(path, collection, CATALOG).issues]


def test_a_repeated_ssid_or_local_id_is_found_offline_at_the_rows_the_pipeline_names(
        tmp_path: Path) -> None:
    path = tmp_path / "ssce.csv"
    path.write_text(SSCE_HEADER + ssce(LEA + "0000001", SSID2, "b")
                    + ssce(LEA + "0000002", SSID2, "c") + ssce(LEA + "0000002", SSID3, "b"))
    report = validate_file(path, "SSCE", CATALOG)
    assert [(i.row, i.code) for i in report.issues] == [(3, "duplicate-in-file"),
                                                        (4, "duplicate-in-file")]
    assert "repeats the ssid of row 2" in report.issues[0].message
    assert not report.accepted


def test_blank_values_never_repeat_and_a_malformed_value_is_not_compared(
        tmp_path: Path) -> None:
    path = tmp_path / "ssce.csv"
    path.write_text(SSCE_HEADER + ssce(LEA + "0000001", "", "a") + ssce(LEA + "0000001", "", "b")
                    + ssce(LEA + "0000001", "123", "c") + ssce(LEA + "0000001", "123", "d"))
    codes = [code for _, code in located(path, "SSCE")]
    assert "duplicate-in-file" not in codes


def test_a_repeat_is_found_in_the_same_round_as_a_rows_other_error(tmp_path: Path) -> None:
    # SSCE is all-or-nothing: a row with a bad grade still repeats an SSID, and the district
    # learns both at once (not the grade now and the repeat after the next upload).
    path = tmp_path / "ssce.csv"
    path.write_text(SSCE_HEADER + ssce(LEA + "0000001", SSID2, "a")
                    + ssce(LEA + "0000001", SSID2, "b").replace(",12,", ",99,"))
    report = validate_file(path, "SSCE", CATALOG)
    assert sorted((i.row, i.code) for i in report.issues) == [(3, "duplicate-in-file"),
                                                              (3, "invalid-code")]
    assert report.rejected_records == 1


def test_both_rows_of_a_repeated_senr_key_are_named_when_one_has_another_error(
        tmp_path: Path) -> None:
    path = tmp_path / "senr.csv"
    path.write_bytes(line(senr_row(ssid=SSID)) + line(senr_row(ssid=SSID, local_student_id="X2",
                                                               student_gender_code="Q")))
    report = validate_file(path, "SENR", CATALOG)
    assert sorted((i.row, i.code) for i in report.issues) == [
        (1, "duplicate-key-in-file"), (2, "duplicate-key-in-file"), (2, "invalid-code")]
    assert report.rejected_records == 2


def test_a_valid_records_post_file_with_one_bad_record_is_accepted_with_it_kept(
        tmp_path: Path) -> None:
    path = tmp_path / "ode.csv"
    path.write_text(ODE_HEADER + ",Offa,Jo,,,01022015,F,,2180,d1,2180,100,03\r\n"
                                 ",Offb,Al,,,13402015,M,,2180,d2,2180,100,04\r\n"
                                 ",Offc,Ed,,,01032015,M,,2180,d1,2180,100,04\r\n")
    report = validate_file(path, "ODE-SSID", CATALOG)
    assert [(i.row, i.code) for i in report.issues] == [(3, "invalid-date"),
                                                        (4, "duplicate-in-file")]
    assert report.accepted and report.rejected_records == 2  # row 2 would post
    assert any("SSID matching" in s for s in report.to_json()["skipped"])


def test_an_ode_ssid_record_may_leave_the_district_student_id_blank(tmp_path: Path) -> None:
    # Oregon Appendix D: District Student ID "Optional"; two blanks of one district never repeat.
    path = tmp_path / "ode.csv"
    path.write_text(ODE_HEADER + ",Offa,Jo,,,01022015,F,,2180,,2180,100,03\r\n"
                                 ",Offb,Al,,,01022016,M,,2180,,2180,100,04\r\n")
    report = validate_file(path, "ODE-SSID", CATALOG)
    assert report.issues == [] and report.rejected_records == 0


def test_an_all_or_nothing_file_with_one_bad_record_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "ssce.csv"
    path.write_text(SSCE_HEADER + ssce(LEA + "0000001", SSID, "a")
                    + ssce(LEA + "0000001", "1", "b"))
    report = validate_file(path, "SSCE", CATALOG)
    assert report.rejected_records == 1 and not report.accepted


def test_the_same_senr_operational_key_twice_is_an_error_at_both_rows(tmp_path: Path) -> None:
    """CFS Table 1-1: School of Attendance, SSID and Enrollment Start Date identify one
    enrollment; a file that sends one twice is rejected at both rows, naming the other row."""
    path = tmp_path / "senr.csv"
    path.write_bytes(line(senr_row()) + line(senr_row(ssid=SSID2))
                     + line(senr_row(local_record_id="3", enrollment_exit_date="20251219",
                                     student_exit_reason_code="T160"))
                     + line(senr_row(school_of_attendance="6000203")))
    report = validate_file(path, "SENR", CATALOG, today=dt.date(2025, 12, 1))
    assert [(i.row, i.field, i.code) for i in report.issues] == [
        (3, "1.05", "duplicate-key-in-file"), (1, "1.05", "duplicate-key-in-file")]
    assert "Rows 1 and 3" in report.issues[0].message
    assert SSID not in report.issues[0].message  # the SSID is private
    assert report.rejected_records == 2 and not report.accepted



def test_a_delete_and_an_add_of_one_senr_key_are_a_pair_two_deletes_repeat(
        tmp_path: Path) -> None:
    path = tmp_path / "senr.csv"
    path.write_bytes(line(senr_row()) + line(senr_row(transaction_type_code="D"))
                     + line(senr_row(ssid=SSID2, transaction_type_code="D"))
                     + line(senr_row(ssid=SSID2, transaction_type_code="D")))
    report = validate_file(path, "SENR", CATALOG, today=dt.date(2025, 12, 1))
    assert sorted((i.row, i.code) for i in report.issues) == [
        (3, "duplicate-key-in-file"), (4, "duplicate-key-in-file")]

def test_a_blank_ssid_or_another_start_date_is_another_enrollment(tmp_path: Path) -> None:
    path = tmp_path / "senr.csv"
    path.write_bytes(line(senr_row(ssid="", local_student_id="200001"))
                     + line(senr_row(ssid="", local_student_id="200002"))
                     + line(senr_row(enrollment_start_date="20250828")) + line(senr_row()))
    report = validate_file(path, "SENR", CATALOG, today=dt.date(2025, 12, 1))
    assert report.issues == [] and report.accepted


def test_two_senr_records_of_one_local_student_id_with_blank_ssids_are_rejected(
        tmp_path: Path) -> None:
    """CFS 1.09 (the issue: `edcs validate` accepted such a file): with more than one record
    of a Local Student ID, the SSID fields of all of them cannot be blank. Each blank one is
    reported, naming another row of the ID, at the rows the pipeline's barrier names
    (tests/integration/test_posting_methods.py)."""
    path = tmp_path / "senr.csv"
    path.write_bytes(line(senr_row(ssid=""))
                     + line(senr_row(ssid="", school_of_attendance="6000203")))
    report = validate_file(path, "SENR", CATALOG, today=dt.date(2025, 12, 1))
    issues = sorted(report.issues, key=lambda i: i.row or 0)
    assert [(i.row, i.field, i.code) for i in issues] == [
        (1, "1.08", "required-when-repeated"), (2, "1.08", "required-when-repeated")]
    assert issues[0].message.startswith(
        "Row 1 has the same Local Student ID as row 2 and a blank SSID")
    assert "as row 1" in issues[1].message
    assert "100001" not in issues[0].message  # the local id is private
    assert report.rejected_records == 2 and not report.accepted


def test_a_record_of_a_repeated_local_id_that_gives_its_ssid_passes(tmp_path: Path) -> None:
    path = tmp_path / "senr.csv"
    path.write_bytes(line(senr_row()) + line(senr_row(ssid="", school_of_attendance="6000203"))
                     + line(senr_row(ssid=SSID2, local_student_id="200001"))
                     + line(senr_row(school_of_attendance="6000204")))
    report = validate_file(path, "SENR", CATALOG, today=dt.date(2025, 12, 1))
    assert [(i.row, i.code) for i in report.issues] == [(2, "required-when-repeated")]
    assert "as row 1" in report.issues[0].message
    assert report.rejected_records == 1
