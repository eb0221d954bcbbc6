"""SOFF layout (CFS v14.1 §3.20, Table 3-20): fields, keys, and validation of hand-written records.

Expectations are written from the seed's field table, not from the layout file."""

from __future__ import annotations

import datetime as dt

import pytest

from services.validate.engine import Context, Validator
from shared.catalog.loader import default_catalog
from shared.catalog.models import Method

CATALOG = default_catalog()
LAYOUT = CATALOG.layouts["SOFF"]
LEA = "1964733"
CONTEXT = Context(institution_id=LEA, submitted_on=dt.date(2025, 9, 1))

# An offense without a weapon (the XML sample's 506), from the Table 3-20 descriptions.
VALID: dict[str, str] = {
    "record_type_code": "SOFF",
    "transaction_type_code": "",
    "local_record_id": "1",
    "reporting_lea": LEA,
    "school_of_attendance": "6000202",
    "academic_year_id": "2024-2025",
    "ssid": "1234567890",
    "local_student_id": "384734",
    "student_legal_first_name": "Heidi",
    "student_legal_last_name": "Parko",
    "student_birth_date": "20080221",
    "student_gender_code": "F",
    "incident_id_local": "77",
    "student_offense_code": "506",
    "weapon_category_code": "",
}


def row(**changes: str) -> list[str]:
    assert set(changes) <= set(VALID), set(changes) - set(VALID)
    return list({**VALID, **changes}.values())


@pytest.fixture(scope="module")
def validator() -> Validator:
    return Validator(LAYOUT, CATALOG)


def check(validator: Validator, fields: list[str]) -> list[tuple[str | None, str]]:
    return [(i.field, i.code) for i in validator.validate(fields, 5, CONTEXT)]


def test_fields_run_20_01_to_20_15_in_order() -> None:
    assert [f.id for f in LAYOUT.fields] == [f"20.{n:02d}" for n in range(1, 16)]
    assert [f.name for f in LAYOUT.fields] == list(VALID)
    assert [f.id for f in LAYOUT.fields if not f.required] == ["20.02", "20.03", "20.15"]
    assert {f.id for f in LAYOUT.fields if f.pii} == {"20.07", "20.08", "20.09", "20.10",
                                                       "20.11"}


def test_keys_follow_table_1_1_and_3_20() -> None:
    assert LAYOUT.method is Method.REPLACEMENT
    assert LAYOUT.operational_key == ("school_of_attendance", "academic_year_id",
                                      "incident_id_local")
    assert LAYOUT.row_key == ("school_of_attendance", "academic_year_id", "ssid",
                              "incident_id_local", "student_offense_code")  # §3.20.4
    assert (LAYOUT.school_field, LAYOUT.lea_field) == ("school_of_attendance", "reporting_lea")
    assert LAYOUT.fields[1].allowed == ("", " ", "D", "R")
    assert CATALOG.collection("SOFF") is not None


@pytest.mark.parametrize("changes", [
    {},
    {"student_offense_code": "100", "weapon_category_code": "10"},
    {"student_offense_code": "511", "weapon_category_code": "10"},  # a weapon is allowed
    {"transaction_type_code": "R"},
])
def test_hand_written_valid_records_have_no_issues(validator: Validator,
                                                   changes: dict[str, str]) -> None:
    assert check(validator, row(**changes)) == []


@pytest.mark.parametrize(("changes", "field", "code"), [
    ({"record_type_code": "SDIS"}, "20.01", "invalid-code"),
    ({"transaction_type_code": "A"}, "20.02", "invalid-code"),
    ({"reporting_lea": "7777777"}, "20.04", "reporting-lea-mismatch"),
    ({"school_of_attendance": ""}, "20.05", "required"),
    ({"ssid": "123456789"}, "20.07", "ssid-format"),
    ({"student_legal_last_name": "Van Dyke"}, "20.10", "invalid-characters"),
    ({"student_birth_date": "2008-02-21"}, "20.11", "invalid-date"),
    ({"student_offense_code": ""}, "20.14", "required"),
    # 20.15 Required: If Student Offense Code = 100, 101, 103, 104 or 105 Then Y
    ({"student_offense_code": "105"}, "20.15", "conditional-required"),
    ({"student_offense_code": "101"}, "20.15", "conditional-required"),
    ({"weapon_category_code": "100"}, "20.15", "max-length"),
])
def test_one_wrong_value_gives_one_located_issue(validator: Validator, changes: dict[str, str],
                                                 field: str, code: str) -> None:
    assert check(validator, row(**changes)) == [(field, code)]


def test_delete_needs_only_the_replacement_key(validator: Validator) -> None:
    keep = {*LAYOUT.operational_key, "record_type_code", "reporting_lea"}
    fields = row(**{**{n: "" for n in VALID if n not in keep}, "transaction_type_code": "D",
                    "student_offense_code": "100"})
    assert check(validator, fields) == []  # the weapon rule reads a field a Delete may leave out
