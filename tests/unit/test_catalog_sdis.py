"""SDIS layout (CFS v14.1 §3.4, Table 3-4; last effective in AY 2018-2019): fields, keys, and
validation of hand-written records.

Expectations are written from the seed's field table, not from the layout file."""

from __future__ import annotations

import datetime as dt

import pytest

from services.validate.engine import Context, Validator
from shared.catalog.loader import default_catalog
from shared.catalog.models import Method

CATALOG = default_catalog()
LAYOUT = CATALOG.layouts["SDIS"]
LEA = "1964733"
CONTEXT = Context(institution_id=LEA, submitted_on=dt.date(2025, 9, 1))

# A suspension in 2018-2019 (the last year SDIS covers), from the Table 3-4 descriptions and the
# XML sample.
VALID: dict[str, str] = {
    "record_type_code": "SDIS",
    "transaction_type_code": "",
    "local_record_id": "1",
    "reporting_lea": LEA,
    "school_of_attendance": "6000202",
    "academic_year_id": "2018-2019",
    "ssid": "1234567890",
    "local_student_id": "384734",
    "student_legal_first_name": "Peter",
    "student_legal_last_name": "Perrier",
    "student_birth_date": "20030221",
    "student_gender_code": "M",
    "disciplinary_incident_id_local": "77",
    "disciplinary_incident_occurrence_date": "20181215",
    "student_offense_code": "100",
    "incident_most_severe_offense_code": "100",
    "weapon_category_code": "10",
    "incident_disciplinary_action_taken_code": "100",
    "disciplinary_action_authority_code": "10",
    "incident_disciplinary_action_duration_days": "10",
    "student_instructional_support_indicator": "",
    "disciplinary_action_modification_category_code": "",
    "removal_to_interim_alternative_setting_reason_code": "1",
}
NO_ACTION = {"incident_disciplinary_action_taken_code": "300",
             "incident_disciplinary_action_duration_days": "",
             "disciplinary_action_authority_code": ""}


def row(**changes: str) -> list[str]:
    assert set(changes) <= set(VALID), set(changes) - set(VALID)
    return list({**VALID, **changes}.values())


@pytest.fixture(scope="module")
def validator() -> Validator:
    return Validator(LAYOUT, CATALOG)


def check(validator: Validator, fields: list[str]) -> list[tuple[str | None, str]]:
    return [(i.field, i.code) for i in validator.validate(fields, 5, CONTEXT)]


def test_fields_run_4_01_to_4_23_in_order() -> None:
    assert [f.id for f in LAYOUT.fields] == [f"4.{n:02d}" for n in range(1, 24)]
    assert [f.name for f in LAYOUT.fields] == list(VALID)
    # 4.01, 4.04-4.16, 4.18 are Required Y (requirements.md §3.1: 15 fields)
    assert [f.id for f in LAYOUT.fields if f.required] == [
        "4.01", *(f"4.{n:02d}" for n in range(4, 17)), "4.18"]
    assert {f.id for f in LAYOUT.fields if f.pii} == {"4.07", "4.08", "4.09", "4.10", "4.11"}


def test_keys_follow_3_4() -> None:
    assert LAYOUT.method is Method.REPLACEMENT  # §3.4.1, §1.3.3 (Table 1-1 has no SDIS row)
    assert LAYOUT.operational_key == ("school_of_attendance", "academic_year_id")
    assert LAYOUT.row_key == ("school_of_attendance", "academic_year_id", "ssid",
                              "disciplinary_incident_id_local", "student_offense_code")  # §3.4.4
    assert (LAYOUT.school_field, LAYOUT.lea_field) == ("school_of_attendance", "reporting_lea")
    assert LAYOUT.fields[1].allowed == ("", " ", "D", "R")
    assert CATALOG.collection("SDIS") is not None


@pytest.mark.parametrize("changes", [
    {},
    {**NO_ACTION, "student_offense_code": "511", "weapon_category_code": "",
     "incident_most_severe_offense_code": "511"},
    # 300 with "zero" days (4.18 #4), which 4.20 #4 gives a Modification Category 100 or 200
    {**NO_ACTION, "incident_disciplinary_action_duration_days": "0",
     "disciplinary_action_modification_category_code": "100"},
    {"incident_disciplinary_action_taken_code": "200",
     "disciplinary_action_modification_category_code": "200"},
    {"incident_disciplinary_action_duration_days": "0",
     "disciplinary_action_modification_category_code": "100"},
    {"disciplinary_incident_occurrence_date": "20190630"},  # the last day SDIS allows
], ids=["suspension", "no-action", "no-action-zero", "expulsion", "suspended", "june-30-2019"])
def test_hand_written_valid_records_have_no_issues(validator: Validator,
                                                   changes: dict[str, str]) -> None:
    assert check(validator, row(**changes)) == []


@pytest.mark.parametrize(("changes", "field", "code"), [
    ({"record_type_code": "SINC"}, "4.01", "invalid-code"),
    ({"transaction_type_code": "A"}, "4.02", "invalid-code"),
    ({"reporting_lea": "7777777"}, "4.04", "reporting-lea-mismatch"),
    ({"school_of_attendance": "123456"}, "4.05", "invalid-format"),
    ({"ssid": "1234567891"}, "4.07", "ssid-check-digit"),  # the XML sample's SSID
    ({"student_legal_first_name": "Peter Paul"}, "4.09", "invalid-characters"),
    ({"disciplinary_incident_id_local": ""}, "4.13", "required"),
    # 4.14 #6: not permitted for incidents on or after July 1, 2019
    ({"disciplinary_incident_occurrence_date": "20190701"}, "4.14", "invalid-format"),
    ({"disciplinary_incident_occurrence_date": "20250815"}, "4.14", "invalid-format"),
    ({"disciplinary_incident_occurrence_date": "20181232"}, "4.14", "invalid-date"),
    ({"incident_most_severe_offense_code": ""}, "4.16", "required"),
    # 4.17 Required: If Student Offense Code = '100', '101', '103', '104', or '105' Then Y
    ({"weapon_category_code": ""}, "4.17", "conditional-required"),
    ({"student_offense_code": "104", "weapon_category_code": ""}, "4.17",
     "conditional-required"),
    ({"incident_disciplinary_action_taken_code": "120"}, "4.18", "invalid-code"),
    # 4.18 #1 / 4.22 Required: expulsion needs a Modification Category
    ({"incident_disciplinary_action_taken_code": "200"}, "4.22", "conditional-required"),
    # 4.18 #4 / 4.20 #5: 300 leaves the duration blank or zero
    ({**NO_ACTION, "incident_disciplinary_action_duration_days": "3"}, "4.20",
     "conditional-value"),
    # 4.20 Required: If Action Taken <> 300 Then Y
    ({"incident_disciplinary_action_duration_days": ""}, "4.20", "conditional-required"),
    ({"incident_disciplinary_action_duration_days": "1O"}, "4.20", "invalid-number"),
    # 4.20 #4 / 4.22 #2: 0 days requires Modification Category 100 or 200
    ({"incident_disciplinary_action_duration_days": "0"}, "4.22", "conditional-value"),
    ({"student_instructional_support_indicator": "X"}, "4.21", "invalid-code"),
])
def test_one_wrong_value_gives_one_located_issue(validator: Validator, changes: dict[str, str],
                                                 field: str, code: str) -> None:
    assert check(validator, row(**changes)) == [(field, code)]


def test_delete_needs_only_the_replacement_key(validator: Validator) -> None:
    keep = {*LAYOUT.operational_key, "record_type_code", "reporting_lea"}
    fields = row(**{**{n: "" for n in VALID if n not in keep}, "transaction_type_code": "D"})
    assert check(validator, fields) == []
