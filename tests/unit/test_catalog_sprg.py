"""SPRG layout (CFS v14.1 §3.3, Table 3-3): fields, keys, and validation of hand-written records."""

from __future__ import annotations

import datetime as dt

import pytest

from services.validate.engine import Context, Validator
from shared.catalog.loader import CATALOG_DIR, default_catalog

CATALOG = default_catalog()
LAYOUT = CATALOG.layouts["SPRG"]
CONTEXT = Context(institution_id="1964733", submitted_on=dt.date(2025, 9, 1))

# A Title I Part A Basic Targeted (122) record, written from the field descriptions of Table 3-3.
VALID: dict[str, str] = {
    "record_type_code": "SPRG",
    "transaction_type_code": "",
    "local_record_id": "1",
    "reporting_lea": "1964733",
    "school_of_attendance": "6000202",
    "academic_year_id": "2025-2026",
    "ssid": "1234567890",  # the seed's own valid example (CFS 1.08)
    "local_student_id": "100001",
    "student_legal_first_name": "Maria",
    "student_legal_last_name": "Garcia",
    "student_birth_date": "20100103",
    "student_gender_code": "F",
    "education_program_code": "122",
    "education_program_membership_code": "",
    "education_program_membership_start_date": "20250827",
    "education_program_membership_end_date": "",
    "education_service_academic_year": "2025-2026",
    "education_service_code": "01",  # the code set has no values in the seeds (not enforced)
    "california_partnership_academy_id": "",
    "migrant_student_id": "",
    "filler_1": "",
    "filler_2": "",
    "homeless_dwelling_type_code": "",
    "unaccompanied_youth_indicator": "",
    "filler_3": "",
    "filler_4": "",
}
NO_SERVICE = {"education_service_academic_year": "", "education_service_code": ""}


def row(**changes: str) -> list[str]:
    assert set(changes) <= set(VALID), set(changes) - set(VALID)
    return list({**VALID, **changes}.values())


@pytest.fixture(scope="module")
def validator() -> Validator:
    return Validator(LAYOUT, CATALOG)


def check(validator: Validator, fields: list[str]) -> list[tuple[int | None, str | None, str]]:
    return [(i.row, i.field, i.code) for i in validator.validate(fields, 5, CONTEXT)]


def test_fields_run_3_01_to_3_26_in_order() -> None:
    assert [f.id for f in LAYOUT.fields] == [f"3.{n:02d}" for n in range(1, 27)]
    assert [f.name for f in LAYOUT.fields] == list(VALID)
    assert [f.id for f in LAYOUT.fields if f.required] == [
        "3.01", "3.04", "3.05", "3.07", "3.08", "3.09", "3.10", "3.11", "3.12", "3.13", "3.15"]


def test_keys_follow_table_1_1() -> None:
    key = ("school_of_attendance", "ssid", "education_program_code",
           "education_program_membership_start_date", "education_service_academic_year",
           "education_service_code")
    assert LAYOUT.method == "transaction"
    assert LAYOUT.operational_key == key
    assert LAYOUT.row_key == key  # §3.3.4: the primary key is the same fields
    assert LAYOUT.replace_set == ("academic_year_id", "school_of_attendance", "ssid")
    assert LAYOUT.unique_in_file == (key,)
    assert (LAYOUT.school_field, LAYOUT.lea_field, LAYOUT.operation_field) == (
        "school_of_attendance", "reporting_lea", "transaction_type_code")
    assert LAYOUT.fields[1].allowed == ("", " ", "A", "D", "R")


def test_auto_end_dating_is_documented_at_the_top() -> None:
    text = (CATALOG_DIR / "layouts" / "SPRG.yaml").read_text(encoding="utf-8")
    assert "# Auto end-dating on enrollment exit (CFS §3.3.2)" in text.split("record_type:")[0]


@pytest.mark.parametrize("changes", [
    {},
    {**NO_SERVICE, "education_program_code": "135", "migrant_student_id": "06123456789"},
    {**NO_SERVICE, "education_program_code": "113", "california_partnership_academy_id": "12345"},
    {**NO_SERVICE, "education_program_code": "191", "homeless_dwelling_type_code": "100",
     "unaccompanied_youth_indicator": "N"},
    {**NO_SERVICE, "education_program_code": "181", "education_program_membership_code": "1",
     "education_program_membership_end_date": "20250827", "transaction_type_code": "R"},
], ids=["122", "135-migrant", "113-cpa", "191-homeless", "181-ended"])
def test_hand_written_valid_records_have_no_issues(validator: Validator,
                                                   changes: dict[str, str]) -> None:
    assert check(validator, row(**changes)) == []


@pytest.mark.parametrize(("changes", "field", "code"), [
    ({"record_type_code": "SENR"}, "3.01", "invalid-code"),
    ({"transaction_type_code": "X"}, "3.02", "invalid-code"),
    ({"ssid": "1234567891"}, "3.07", "ssid-check-digit"),
    ({"ssid": ""}, "3.07", "required"),
    ({"local_student_id": ""}, "3.08", "required"),
    ({"student_gender_code": "Q"}, "3.12", "invalid-code"),
    ({"education_program_membership_start_date": "20251345"}, "3.15", "invalid-date"),
    ({"education_program_membership_start_date": "20091231"}, "3.15", "date-order"),
    ({"education_program_membership_start_date": "20260401"}, "3.15", "date-window"),
    ({"education_program_membership_end_date": "20250826"}, "3.16", "date-order"),
    ({"education_service_academic_year": "2025-2027"}, "3.17", "invalid-academic-year"),
    ({"education_service_academic_year": ""}, "3.17", "conditional-required"),
    ({"education_service_code": ""}, "3.18", "conditional-required"),
    ({"education_program_code": "144", "education_service_academic_year": ""},
     "3.13", "conditional-value"),  # a service code outside program 122
    ({**NO_SERVICE, "education_program_code": "135"}, "3.20", "conditional-required"),
    ({**NO_SERVICE, "education_program_code": "135", "migrant_student_id": "07123456789"},
     "3.20", "invalid-format"),
    ({**NO_SERVICE, "education_program_code": "144", "migrant_student_id": "06123456789"},
     "3.13", "conditional-value"),
    ({**NO_SERVICE, "education_program_code": "191", "homeless_dwelling_type_code": "100"},
     "3.24", "conditional-required"),
    # 3.15 #6: an R record's start date within the current academic year (2025-2026 on the
    # submission date 2025-09-01)
    ({"transaction_type_code": "R", "education_program_membership_start_date": "20250630"},
     "3.15", "date-outside-year"),
    # 3.16 #3: the end date within the Academic Year ID's year (July 1 to June 30)
    ({"education_program_membership_end_date": "20260701"}, "3.16", "date-outside-year"),
])
def test_one_wrong_value_gives_one_located_issue(validator: Validator, changes: dict[str, str],
                                                 field: str, code: str) -> None:
    assert check(validator, row(**changes)) == [(5, field, code)]


def test_delete_needs_only_its_key_fields(validator: Validator) -> None:
    keep = {*LAYOUT.operational_key, "record_type_code", "reporting_lea"}
    fields = row(**{**{n: "" for n in VALID if n not in keep}, "transaction_type_code": "D"})
    assert check(validator, fields) == []
    fields[list(VALID).index("education_program_membership_start_date")] = ""
    assert check(validator, fields) == [(5, "3.15", "required")]


def test_pii_values_stay_out_of_messages(validator: Validator) -> None:
    found = validator.validate(row(migrant_student_id="99999999999"), 5, CONTEXT)
    assert [(i.field, i.code) for i in found] == [("3.20", "invalid-format")]
    assert "99999999999" not in found[0].message


def test_year_limits_themselves_pass(validator: Validator) -> None:
    # 3.15 #6 on the current year's first day; 3.16 #3 on the last day of Academic Year ID's year
    assert check(validator, row(transaction_type_code="R",
                                education_program_membership_start_date="20250701")) == []
    assert check(validator, row(education_program_membership_end_date="20260630")) == []
    # not an R record: a start date of an earlier year is allowed (an eligibility's first date)
    assert check(validator, row(education_program_membership_start_date="20200115")) == []
    # Academic Year ID is not required in SPRG; without it 3.16 #3 names no year
    assert check(validator, row(academic_year_id="",
                                education_program_membership_end_date="20270115")) == []
