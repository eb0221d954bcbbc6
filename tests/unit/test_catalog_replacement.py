"""Replacement-method layouts STAS (CFS Table 3-13) and SCSE/SCSC (Table 3-10): field order, keys,
a hand-written valid record of each, and located issues for wrong values and record rules."""

from __future__ import annotations

import datetime as dt

import pytest

from services.validate.engine import Context, Validator
from shared.catalog.loader import load_catalog

LEA = "1964733"
CONTEXT = Context(institution_id=LEA, submitted_on=dt.date(2025, 9, 1))
CATALOG = load_catalog()

# Values written from the seed's field descriptions (fields in layout order).
VALID: dict[str, dict[str, str]] = {
    "STAS": {
        "record_type_code": "STAS", "transaction_type_code": "", "local_record_id": "1",
        "reporting_lea": LEA, "school_of_attendance": "6000202", "academic_year_id": "2024-2025",
        "ssid": "1234567890", "local_student_id": "100001",
        "filler_1": "", "filler_2": "", "filler_3": "", "filler_4": "",
        "student_absence_summary_data_collection_exemption_indicator": "N",
        "hourly_attendance_school_type_indicator": "N", "expected_attendance_days": "150",
        "days_attended_in_person": "100", "days_absent_out_of_school_suspension": "0",
        "days_in_attendance_in_school_suspension": "0",
        "days_absent_in_person_excused_non_suspension": "44.5",
        "days_absent_in_person_unexcused_non_suspension": "0.5",
        "non_ada_generating_independent_study_days": "0",
        "ada_generating_independent_study_days": "5",
        "period_by_period_attendance_method_indicator": "N",
    },
    "SCSE": {
        "record_type_code": "SCSE", "transaction_type_code": "", "local_record_id": "1",
        "reporting_lea": LEA, "school_of_course_delivery": "6000202",
        "academic_year_id": "2025-2026", "ssid": "1234567890", "local_student_id": "100001",
        "student_legal_first_name": "Maria", "student_legal_last_name": "Garcia",
        "student_birth_date": "20100103", "student_gender_code": "F", "local_course_id": "ALG1",
        "course_section_id": "0101", "academic_term_code": "FY",
        "student_credits_attempted": "", "student_credits_earned": "",
        "student_course_final_grade": "", "uc_csu_admission_requirement_code": "",
        "marking_period_code": "", "carnegie_units_earned": "",
    },
}
VALID["SCSC"] = {**VALID["SCSE"], "record_type_code": "SCSC", "academic_year_id": "2024-2025",
                 "student_credits_attempted": "5", "student_credits_earned": "5",
                 "student_course_final_grade": "A", "marking_period_code": "FY",
                 "carnegie_units_earned": "1"}


def row(record_type: str, **changes: str) -> list[str]:
    assert set(changes) <= set(VALID[record_type]), set(changes) - set(VALID[record_type])
    return list({**VALID[record_type], **changes}.values())


def check(record_type: str, fields: list[str]) -> list[tuple[str | None, str]]:
    validator = Validator(CATALOG.layouts[record_type], CATALOG)
    return [(i.field, i.code) for i in validator.validate(fields, 5, CONTEXT)]


@pytest.mark.parametrize(("record_type", "ids"), [
    ("STAS", [f"13.{n:02d}" for n in range(1, 24)]),
    ("SCSE", [f"10.{n:02d}" for n in range(1, 22)]),
    ("SCSC", [f"10.{n:02d}" for n in range(1, 22)]),
])
def test_fields_in_order(record_type: str, ids: list[str]) -> None:
    layout = CATALOG.layouts[record_type]
    assert [f.id for f in layout.fields] == ids
    assert [f.name for f in layout.fields] == list(VALID[record_type])


@pytest.mark.parametrize(("record_type", "school", "key", "extra_pk"), [
    ("STAS", "school_of_attendance", ["academic_year_id", "ssid"], []),
    ("SCSE", "school_of_course_delivery", ["academic_year_id", "ssid", "academic_term_code"],
     ["course_section_id", "local_course_id"]),
    ("SCSC", "school_of_course_delivery", ["academic_year_id", "ssid", "academic_term_code",
                                           "marking_period_code"],
     ["course_section_id", "local_course_id"]),
])
def test_keys(record_type: str, school: str, key: list[str], extra_pk: list[str]) -> None:
    layout = CATALOG.layouts[record_type]  # CFS Table 1-1; §3.13.4 / §3.10.4 primary keys
    assert layout.method == "replacement"
    assert list(layout.operational_key) == [school, *key]
    assert set(layout.primary_key) == {school, *key, *extra_pk}
    assert (layout.school_field, layout.lea_field) == (school, "reporting_lea")
    assert layout.operation_field == "transaction_type_code"
    assert layout.fields[1].allowed == ("", " ", "D", "R")


@pytest.mark.parametrize("record_type", ["STAS", "SCSE", "SCSC"])
def test_valid_record_has_no_issues(record_type: str) -> None:
    assert check(record_type, row(record_type)) == []


@pytest.mark.parametrize(("record_type", "change", "field", "code"), [
    ("STAS", {"transaction_type_code": "A"}, "13.02", "invalid-code"),
    ("STAS", {"ssid": ""}, "13.07", "required"),
    ("STAS", {"ssid": "1212121212"}, "13.07", "ssid-check-digit"),  # Scenario 3's SSID
    ("STAS", {"filler_3": "20101301"}, "13.11", "invalid-date"),
    ("STAS", {"student_absence_summary_data_collection_exemption_indicator": "X"}, "13.13",
     "invalid-code"),
    ("STAS", {"expected_attendance_days": "15O"}, "13.15", "invalid-number"),
    ("STAS", {"hourly_attendance_school_type_indicator": ""}, "13.14", "conditional-required"),
    ("STAS", {"student_absence_summary_data_collection_exemption_indicator": "",
              "period_by_period_attendance_method_indicator": ""}, "13.23",
     "conditional-required"),
    ("SCSE", {"student_birth_date": "20100230"}, "10.11", "invalid-date"),
    ("SCSE", {"student_gender_code": "Q"}, "10.12", "invalid-code"),
    ("SCSE", {"course_section_id": ""}, "10.14", "required"),
    ("SCSE", {"record_type_code": "SCSC"}, "10.01", "invalid-code"),
    ("SCSC", {"student_course_final_grade": ""}, "10.18", "required"),
    ("SCSC", {"marking_period_code": ""}, "10.20", "required"),
    ("SCSC", {"student_credits_attempted": "five"}, "10.16", "invalid-number"),
    ("SCSC", {"carnegie_units_earned": "1.5"}, "10.21", "conditional-value"),  # over 1 unit
])
def test_wrong_value_is_located(record_type: str, change: dict[str, str], field: str,
                                code: str) -> None:
    assert check(record_type, row(record_type, **change)) == [(field, code)]


def test_carnegie_units_are_checked_on_completion_only() -> None:
    # 10.21: at most 1 unit; on SCSE "it will neither be stored nor validated"
    assert check("SCSC", row("SCSC", carnegie_units_earned="0.5")) == []
    assert check("SCSE", row("SCSE", carnegie_units_earned="1.5")) == []


STAS_COUNTS = list(VALID["STAS"])[13:]  # 13.14-13.23


def test_exempt_student_leaves_the_counts_blank() -> None:
    exempt = {"student_absence_summary_data_collection_exemption_indicator": "Y"}
    assert check("STAS", row("STAS", **exempt, **dict.fromkeys(STAS_COUNTS, ""))) == []
    assert check("STAS", row("STAS", **exempt, **dict.fromkeys(STAS_COUNTS[1:], ""))) == [
        ("13.14", "conditional-blank")]


@pytest.mark.parametrize(("change", "field"), [
    ({"expected_attendance_days": "0", "days_attended_in_person": "0",
      "days_absent_in_person_excused_non_suspension": "0",
      "days_absent_in_person_unexcused_non_suspension": "0",
      "ada_generating_independent_study_days": "0"}, "13.15"),  # > 0
    ({"expected_attendance_days": "256"}, "13.15"),  # < 256
    ({"days_absent_out_of_school_suspension": "50.5"}, "13.17"),  # <= 150 - 100
    ({"days_in_attendance_in_school_suspension": "100.5"}, "13.18"),  # <= Days Attended
    ({"days_absent_in_person_excused_non_suspension": "51"}, "13.19"),
    ({"days_absent_in_person_unexcused_non_suspension": "50.5"}, "13.20"),
    ({"non_ada_generating_independent_study_days": "51"}, "13.21"),
    ({"ada_generating_independent_study_days": "50.01"}, "13.22"),
])
def test_stas_day_counts_beyond_their_bounds_are_located(change: dict[str, str],
                                                         field: str) -> None:
    # CFS 13.15-13.22; the valid record has 150 expected days and 100 attended.
    assert check("STAS", row("STAS", **change)) == [(field, "conditional-value")]


def test_stas_more_days_attended_than_expected_leaves_no_room_for_absences() -> None:
    # 13.16 "< or = Expected Attendance Days"; each absence count must then be at most the
    # negative difference, so even 0 fails (the seed's "may be 0" is within the bound).
    absences = ["13.17", "13.19", "13.20", "13.21", "13.22"]
    assert check("STAS", row("STAS", days_attended_in_person="150.5")) == [
        ("13.16", "conditional-value"), *[(a, "conditional-value") for a in absences]]


def test_stas_day_counts_at_their_bounds_pass() -> None:
    # "< or =" and "may be 0": each count equal to its bound, one at a time.
    for change in ({"expected_attendance_days": "255.9"},
                   {"expected_attendance_days": "100",
                    "days_absent_in_person_excused_non_suspension": "0",
                    "days_absent_in_person_unexcused_non_suspension": "0",
                    "ada_generating_independent_study_days": "0"},
                   {"days_in_attendance_in_school_suspension": "100"},
                   {"days_absent_out_of_school_suspension": "50",
                    "days_absent_in_person_excused_non_suspension": "0"},
                   {"non_ada_generating_independent_study_days": "50"},
                   {"ada_generating_independent_study_days": "50"}):
        assert check("STAS", row("STAS", **change)) == [], change


def test_scse_completion_fields_are_not_validated() -> None:
    fields = row("SCSE", student_credits_attempted="abc", carnegie_units_earned="9.99",
                 marking_period_code="ZZ", student_course_final_grade="A+")
    assert check("SCSE", fields) == []


def delete(record_type: str) -> list[str]:
    layout = CATALOG.layouts[record_type]
    keep = {*layout.operational_key, "record_type_code", "reporting_lea", "transaction_type_code"}
    return row(record_type, transaction_type_code="D",
               **{n: "" for n in VALID[record_type] if n not in keep})


@pytest.mark.parametrize("record_type", ["SCSE", "SCSC"])
def test_delete_needs_only_its_key(record_type: str) -> None:
    assert check(record_type, delete(record_type)) == []


def test_stas_delete_needs_only_its_key() -> None:
    assert check("STAS", delete("STAS")) == []
