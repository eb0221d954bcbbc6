"""SASS layout (CFS v14.1 §3.8, Table 3-8): fields, keys, and validation of hand-written records.

Expectations are written from the seed's field table, not from the layout file."""

from __future__ import annotations

import datetime as dt

import pytest

from services.validate.engine import Context, Validator
from shared.catalog.loader import default_catalog
from shared.catalog.models import Method

CATALOG = default_catalog()
LAYOUT = CATALOG.layouts["SASS"]
LEA = "1964733"
CONTEXT = Context(institution_id=LEA, submitted_on=dt.date(2025, 9, 1))
ASSIGNMENTS = [f"non_classroom_based_job_assignment_code_{n}" for n in range(1, 8)]

# A teacher (12) at 75%, as in the second record of the XML sample, in layout order.
VALID: dict[str, str] = {
    "record_type_code": "SASS",
    "transaction_type_code": "",
    "local_record_id": "1",
    "reporting_lea": LEA,
    "school_of_assignment": "6000202",
    "academic_year_id": "2025-2026",
    "seid": "1000012345",
    "local_staff_id": "78995",
    "staff_legal_first_name": "John",
    "staff_legal_last_name": "Smith",
    "staff_birth_date": "19700601",
    "staff_gender_code": "M",
    "staff_job_classification_code": "12",
    "staff_job_classification_fte_percentage": "75.0",
    **dict.fromkeys(ASSIGNMENTS, ""),
}
ADMIN = {"staff_job_classification_code": "10", "non_classroom_based_job_assignment_code_1": "0100"}
ON_LEAVE = {"staff_job_classification_fte_percentage": "0"}


def row(**changes: str) -> list[str]:
    assert set(changes) <= set(VALID), set(changes) - set(VALID)
    return list({**VALID, **changes}.values())


@pytest.fixture(scope="module")
def validator() -> Validator:
    return Validator(LAYOUT, CATALOG)


def check(validator: Validator, fields: list[str]) -> list[tuple[str | None, str]]:
    return [(i.field, i.code) for i in validator.validate(fields, 5, CONTEXT)]


def test_fields_run_8_01_to_8_21_in_order() -> None:
    assert [f.id for f in LAYOUT.fields] == [f"8.{n:02d}" for n in range(1, 22)]
    assert [f.name for f in LAYOUT.fields] == list(VALID)
    assert [f.id for f in LAYOUT.fields if f.required] == [
        "8.01", "8.04", "8.05", "8.06", "8.07", "8.08", "8.09", "8.10", "8.11", "8.12", "8.13",
        "8.14"]
    assert {f.id for f in LAYOUT.fields if f.pii} >= {"8.07", "8.09", "8.10", "8.11"}


def test_keys_follow_table_1_1_and_3_8() -> None:
    assert LAYOUT.method is Method.REPLACEMENT
    assert LAYOUT.operational_key == ("school_of_assignment", "academic_year_id")
    assert LAYOUT.row_key == ("school_of_assignment", "academic_year_id", "seid",
                              "staff_job_classification_code")  # §3.8.4
    assert LAYOUT.unique_in_file == (("academic_year_id", "seid", "school_of_assignment",
                                      "staff_job_classification_code"),)  # 8.05 #4 and others
    assert (LAYOUT.school_field, LAYOUT.lea_field) == ("school_of_assignment", "reporting_lea")
    assert LAYOUT.fields[1].allowed == ("", " ", "D", "R")
    assert CATALOG.collection("SASS") is not None


@pytest.mark.parametrize("changes", [
    {},
    ADMIN,
    {"staff_job_classification_code": "11", "staff_job_classification_fte_percentage": "25",
     "non_classroom_based_job_assignment_code_1": "0224"},  # the XML sample's first record
    {"school_of_assignment": LEA, **ADMIN, "non_classroom_based_job_assignment_code_2": "0102"},
    {"staff_job_classification_code": "27", "staff_job_classification_fte_percentage": "100"},
    {"non_classroom_based_job_assignment_code_4": "6018",
     "staff_job_classification_fte_percentage": "0"},
], ids=["teacher", "administrator", "xml-sample", "district-level", "itinerant", "on-leave"])
def test_hand_written_valid_records_have_no_issues(validator: Validator,
                                                   changes: dict[str, str]) -> None:
    assert check(validator, row(**changes)) == []


@pytest.mark.parametrize(("changes", "field", "code"), [
    ({"record_type_code": "SDEM"}, "8.01", "invalid-code"),
    ({"transaction_type_code": "A"}, "8.02", "invalid-code"),
    ({"reporting_lea": "7777777"}, "8.04", "reporting-lea-mismatch"),
    # 8.05 #3 "must not be an NPS school or a Private School Group"
    ({"school_of_assignment": "0000001"}, "8.05", "invalid-format"),
    ({"school_of_assignment": "0000002"}, "8.05", "invalid-format"),
    ({"academic_year_id": "2025-2025"}, "8.06", "invalid-academic-year"),
    ({"seid": ""}, "8.07", "required"),
    ({"staff_legal_first_name": ""}, "8.09", "required"),
    ({"staff_birth_date": "1970-06-01"}, "8.11", "invalid-date"),  # DT10, still CCYYMMDD
    ({"staff_gender_code": "Q"}, "8.12", "invalid-code"),
    ({"staff_job_classification_code": "30"}, "8.13", "invalid-code"),
    ({"staff_job_classification_fte_percentage": "50%"}, "8.14", "invalid-number"),
    ({"staff_job_classification_fte_percentage": "50.05"}, "8.14", "invalid-format"),  # XXX.X
    # 8.15 Required: If Staff Job Classification Code = 10, 11, or 25 Then Y
    ({"staff_job_classification_code": "25"}, "8.15", "conditional-required"),
    # 8.15-8.21 #3: with Employee on Leave (6018) the other assignment fields must be blank
    ({**ADMIN, "non_classroom_based_job_assignment_code_3": "6018", **ON_LEAVE}, "8.15",
     "conditional-blank"),
    ({"non_classroom_based_job_assignment_code_1": "6018", **ON_LEAVE,
      "non_classroom_based_job_assignment_code_7": "0224"}, "8.21", "conditional-blank"),
    ({"non_classroom_based_job_assignment_code_5": "01000"}, "8.19", "max-length"),
])
def test_one_wrong_value_gives_one_located_issue(validator: Validator, changes: dict[str, str],
                                                 field: str, code: str) -> None:
    assert check(validator, row(**changes)) == [(field, code)]


def test_every_pair_of_assignment_fields_is_covered_by_the_leave_rule(
        validator: Validator) -> None:
    for leave in ASSIGNMENTS:
        for other in ASSIGNMENTS:
            if other != leave:
                found = check(validator, row(**{leave: "6018", other: "0224", **ON_LEAVE}))
                assert found == [(LAYOUT.fields[list(VALID).index(other)].id,
                                  "conditional-blank")], (leave, other)


@pytest.mark.parametrize("leave", ASSIGNMENTS)
def test_an_employee_on_leave_has_no_fte(validator: Validator, leave: str) -> None:
    # 8.14: "employee on leave (Nonclassroom Based or Support Assignment = 6018) must be 0"
    found = validator.validate(row(**{leave: "6018"}), 5, CONTEXT)
    assert [(i.row, i.field, i.code) for i in found] == [(5, "8.14", "conditional-value")]
    assert "FTE Percentage must be 0" in found[0].message
    for fte in ("0", "0.0", "000"):
        assert check(validator, row(**{leave: "6018",
                                       "staff_job_classification_fte_percentage": fte})) == []


def test_delete_needs_only_the_replacement_key(validator: Validator) -> None:
    keep = {*LAYOUT.operational_key, "record_type_code", "reporting_lea"}
    fields = row(**{**{n: "" for n in VALID if n not in keep}, "transaction_type_code": "D"})
    assert check(validator, fields) == []
