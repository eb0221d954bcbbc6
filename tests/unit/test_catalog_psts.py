"""PSTS layout (CFS v14.1 §3.17, Table 3-17): fields, keys, and validation of hand-written records.

Expectations are written from the seed's field table, not from the layout file."""

from __future__ import annotations

import datetime as dt

import pytest

from services.validate.engine import Context, Validator
from shared.catalog.loader import default_catalog
from shared.catalog.models import Method

CATALOG = default_catalog()
LAYOUT = CATALOG.layouts["PSTS"]
LEA = "1964733"
CONTEXT = Context(institution_id=LEA, submitted_on=dt.date(2025, 9, 1))

# A student with disabilities (participation type 30), from the Table 3-17 descriptions.
VALID: dict[str, str] = {
    "record_type_code": "PSTS",
    "transaction_type_code": "",
    "local_record_id": "1",
    "reporting_lea": LEA,
    "school_of_attendance": "6000202",
    "school_of_attendance_nps": "",
    "academic_year_id": "2025-2026",
    "ssid": "1234567890",
    "local_special_education_student_id": "89898989",
    "reporting_selpa": "1950",
    "education_program_participation_type_code": "30",
    "postsecondary_status_code": "210",
    "educational_institution_type": "",
    "industry_field": "",
    "post_high_school_credential": "",
}
# A CTE completer (type 20): no SELPA fields, institution and industry allowed.
CTE = {"local_special_education_student_id": "", "reporting_selpa": "",
       "education_program_participation_type_code": "20", "educational_institution_type": "10",
       "industry_field": "BLD"}


def row(**changes: str) -> list[str]:
    assert set(changes) <= set(VALID), set(changes) - set(VALID)
    return list({**VALID, **changes}.values())


@pytest.fixture(scope="module")
def validator() -> Validator:
    return Validator(LAYOUT, CATALOG)


def check(validator: Validator, fields: list[str]) -> list[tuple[str | None, str]]:
    return [(i.field, i.code) for i in validator.validate(fields, 5, CONTEXT)]


def test_fields_run_17_01_to_17_15_in_order() -> None:
    assert [f.id for f in LAYOUT.fields] == [f"17.{n:02d}" for n in range(1, 16)]
    assert [f.name for f in LAYOUT.fields] == list(VALID)
    assert [f.id for f in LAYOUT.fields if f.required] == ["17.01", "17.04", "17.07", "17.08",
                                                            "17.11", "17.12"]
    assert {f.id for f in LAYOUT.fields if f.pii} == {"17.08", "17.09"}


def test_keys_follow_table_1_1_and_3_17() -> None:
    assert LAYOUT.method is Method.REPLACEMENT  # Table 1-1, although 17.02 points to §1.3.1
    assert set(LAYOUT.operational_key) == {"academic_year_id", "reporting_lea", "ssid",
                                           "education_program_participation_type_code",
                                           "postsecondary_status_code"}
    assert LAYOUT.group_key == LAYOUT.operational_key
    # §3.17.4, plus the year so that a later year's record never updates an earlier one
    assert set(LAYOUT.row_key) == {"reporting_lea", "reporting_selpa", "ssid",
                                   "education_program_participation_type_code",
                                   "postsecondary_status_code", "academic_year_id"}
    assert LAYOUT.lea_field == "reporting_lea"
    assert LAYOUT.fields[1].allowed == ("", " ", "D", "R")
    assert CATALOG.collection("PSTS") is not None


@pytest.mark.parametrize("changes", [
    {},
    CTE,
    {**CTE, "education_program_participation_type_code": "10", "post_high_school_credential": "1"},
    {"school_of_attendance": ""},  # type 30: the school is not required
    {"school_of_attendance": "0000001", "school_of_attendance_nps": "9999999"},
    {"local_special_education_student_id": "SE/12-3 A"},  # IVR0009 characters
], ids=["sped", "cte", "cpa", "no-school", "nps", "local-id-characters"])
def test_hand_written_valid_records_have_no_issues(validator: Validator,
                                                   changes: dict[str, str]) -> None:
    assert check(validator, row(**changes)) == []


@pytest.mark.parametrize(("changes", "field", "code"), [
    ({"record_type_code": "PSTT"}, "17.01", "invalid-code"),
    ({"transaction_type_code": "A"}, "17.02", "invalid-code"),
    ({"reporting_lea": "1111111"}, "17.04", "reporting-lea-mismatch"),
    ({"reporting_lea": ""}, "17.04", "required"),
    # 17.05 #1: NPS populated -> School of Attendance 0000001
    ({"school_of_attendance_nps": "2891011"}, "17.05", "conditional-value"),
    # 17.05 Required: If type = 10 or 20 Then Y
    ({**CTE, "school_of_attendance": ""}, "17.05", "conditional-required"),
    # 17.06 Required: If School of Attendance = 0000001 Then Y
    ({"school_of_attendance": "0000001"}, "17.06", "conditional-required"),
    ({"academic_year_id": "2019"}, "17.07", "invalid-academic-year"),
    ({"ssid": "2525567891"}, "17.08", "ssid-check-digit"),  # the XML sample's SSID
    ({"local_special_education_student_id": ""}, "17.09", "conditional-required"),
    ({"local_special_education_student_id": "SE#1"}, "17.09", "invalid-characters"),
    ({**CTE, "local_special_education_student_id": "89898989"}, "17.09", "conditional-blank"),
    ({"reporting_selpa": ""}, "17.10", "conditional-required"),
    ({"reporting_selpa": "19A0"}, "17.10", "invalid-format"),  # a valid 4-digit SELPA code
    ({**CTE, "reporting_selpa": "1950"}, "17.10", "conditional-blank"),
    ({"education_program_participation_type_code": "40"}, "17.11", "invalid-code"),
    ({"postsecondary_status_code": ""}, "17.12", "required"),
    # 17.13-17.15 "may only be populated if Education Program Participation Type Code = 10 or 20"
    ({"educational_institution_type": "10"}, "17.13", "conditional-blank"),
    ({"industry_field": "BLD"}, "17.14", "conditional-blank"),
    ({"post_high_school_credential": "1"}, "17.15", "conditional-blank"),
])
def test_one_wrong_value_gives_one_located_issue(validator: Validator, changes: dict[str, str],
                                                 field: str, code: str) -> None:
    assert check(validator, row(**changes)) == [(field, code)]


def test_delete_needs_only_the_replacement_key(validator: Validator) -> None:
    keep = {*LAYOUT.operational_key, "record_type_code", "reporting_lea"}
    fields = row(**{**{n: "" for n in VALID if n not in keep}, "transaction_type_code": "D"})
    assert check(validator, fields) == []
