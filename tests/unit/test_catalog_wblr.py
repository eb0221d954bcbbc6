"""WBLR layout (CFS v14.1 §3.21, Table 3-21): fields, keys, and validation of hand-written records.

Expectations are written from the seed's field table, not from the layout file."""

from __future__ import annotations

import datetime as dt

import pytest

from services.validate.engine import Context, Validator
from shared.catalog.loader import default_catalog
from shared.catalog.models import Method

CATALOG = default_catalog()
LAYOUT = CATALOG.layouts["WBLR"]
LEA = "1964733"
CONTEXT = Context(institution_id=LEA, submitted_on=dt.date(2025, 9, 1))

# An internship (type 10), written from the Table 3-21 descriptions and the XML sample.
VALID: dict[str, str] = {
    "record_type_code": "WBLR",
    "transaction_type_code": "",
    "local_record_id": "1",
    "reporting_lea": LEA,
    "school_of_attendance": "6000202",
    "school_of_attendance_nps": "",
    "academic_year_id": "2024-2025",
    "ssid": "1234567890",
    "work_based_learning_type_code": "10",
    "internship_id": "1415156236",
    "work_based_learning_hours_external": "100",
    "state_course_code_embedded_work_based_learning": "",
    "internship_employer_performance_evaluation_code": "1",
    "internship_lea_sponsored_indicator": "Y",
    "internship_certificated_supervisor_indicator": "N",
}
NO_INTERNSHIP = {"internship_id": "", "internship_employer_performance_evaluation_code": "",
                 "internship_lea_sponsored_indicator": "",
                 "internship_certificated_supervisor_indicator": ""}
ENTERPRISE = {**NO_INTERNSHIP, "work_based_learning_type_code": "15",
              "state_course_code_embedded_work_based_learning": "7100"}


def row(**changes: str) -> list[str]:
    assert set(changes) <= set(VALID), set(changes) - set(VALID)
    return list({**VALID, **changes}.values())


@pytest.fixture(scope="module")
def validator() -> Validator:
    return Validator(LAYOUT, CATALOG)


def check(validator: Validator, fields: list[str]) -> list[tuple[str | None, str]]:
    return [(i.field, i.code) for i in validator.validate(fields, 5, CONTEXT)]


def test_fields_run_21_01_to_21_15_in_order() -> None:
    assert [f.id for f in LAYOUT.fields] == [f"21.{n:02d}" for n in range(1, 16)]
    assert [f.name for f in LAYOUT.fields] == list(VALID)
    assert [f.id for f in LAYOUT.fields if f.required] == ["21.01", "21.04", "21.05", "21.07",
                                                            "21.08", "21.09"]
    assert {f.id for f in LAYOUT.fields if f.pii} == {"21.08"}


def test_keys_follow_table_1_1_and_3_21() -> None:
    assert LAYOUT.method is Method.REPLACEMENT  # Table 1-1, although 21.02 points to §1.3.1
    assert LAYOUT.operational_key == ("school_of_attendance", "academic_year_id")
    assert LAYOUT.row_key == ("school_of_attendance", "academic_year_id", "ssid",
                              "work_based_learning_type_code", "internship_id",
                              "state_course_code_embedded_work_based_learning")  # §3.21.4
    assert (LAYOUT.school_field, LAYOUT.lea_field) == ("school_of_attendance", "reporting_lea")
    assert LAYOUT.fields[1].allowed == ("", " ", "D", "R")
    assert CATALOG.collection("WBLR") is not None


@pytest.mark.parametrize("changes", [
    {},
    {"work_based_learning_hours_external": "0"},  # "Can equal zero"
    ENTERPRISE,
    {**ENTERPRISE, "work_based_learning_type_code": "20"},
    {**NO_INTERNSHIP, "work_based_learning_type_code": "60",
     "work_based_learning_hours_external": ""},
    {"school_of_attendance": "0000001", "school_of_attendance_nps": "9999999"},
], ids=["internship", "zero-hours", "enterprise", "simulated", "sped-60", "nps"])
def test_hand_written_valid_records_have_no_issues(validator: Validator,
                                                   changes: dict[str, str]) -> None:
    assert check(validator, row(**changes)) == []


@pytest.mark.parametrize(("changes", "field", "code"), [
    ({"record_type_code": "WBL"}, "21.01", "invalid-code"),
    ({"transaction_type_code": "A"}, "21.02", "invalid-code"),
    ({"reporting_lea": "7777777"}, "21.04", "reporting-lea-mismatch"),
    ({"school_of_attendance": ""}, "21.05", "required"),
    # 21.05 #1: School of Attendance NPS populated -> School of Attendance 0000001
    ({"school_of_attendance_nps": "1234567"}, "21.05", "conditional-value"),
    # 21.06 Required: If School of Attendance = 0000001 Then Y
    ({"school_of_attendance": "0000001"}, "21.06", "conditional-required"),
    ({"school_of_attendance": "0000001", "school_of_attendance_nps": "999999"}, "21.06",
     "invalid-format"),
    ({"academic_year_id": "2024-2026"}, "21.07", "invalid-academic-year"),
    ({"ssid": "1234567891"}, "21.08", "ssid-check-digit"),  # the XML sample's SSID
    ({"work_based_learning_type_code": ""}, "21.09", "required"),
    ({"internship_id": ""}, "21.10", "conditional-required"),
    ({"internship_id": "X" * 37}, "21.10", "max-length"),
    ({"work_based_learning_hours_external": ""}, "21.11", "conditional-required"),
    ({"work_based_learning_hours_external": "90.5"}, "21.11", "max-length"),
    ({"work_based_learning_hours_external": "9.5"}, "21.11", "invalid-format"),
    ({**ENTERPRISE, "state_course_code_embedded_work_based_learning": ""}, "21.12",
     "conditional-required"),
    ({"internship_employer_performance_evaluation_code": ""}, "21.13", "conditional-required"),
    ({"internship_lea_sponsored_indicator": "X"}, "21.14", "invalid-code"),
    ({"internship_certificated_supervisor_indicator": ""}, "21.15", "conditional-required"),
    # "may only be populated if Work-Based Learning Type Code = ..." rules, on 21.09
    ({**ENTERPRISE, "internship_id": "1415156236"}, "21.09", "conditional-value"),
    ({**ENTERPRISE, "internship_lea_sponsored_indicator": "Y"}, "21.09", "conditional-value"),
    ({"state_course_code_embedded_work_based_learning": "7100"}, "21.09", "conditional-value"),
    ({**NO_INTERNSHIP, "work_based_learning_type_code": "60"}, "21.09", "conditional-value"),
])
def test_one_wrong_value_gives_one_located_issue(validator: Validator, changes: dict[str, str],
                                                 field: str, code: str) -> None:
    assert check(validator, row(**changes)) == [(field, code)]


def test_delete_needs_only_the_replacement_key(validator: Validator) -> None:
    keep = {*LAYOUT.operational_key, "record_type_code", "reporting_lea"}
    fields = row(**{**{n: "" for n in VALID if n not in keep}, "transaction_type_code": "D"})
    assert check(validator, fields) == []
