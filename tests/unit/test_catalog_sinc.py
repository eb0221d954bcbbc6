"""SINC layout (CFS v14.1 §3.18, Table 3-18): fields, keys, and validation of hand-written records.

Expectations are written from the seed's field table, not from the layout file."""

from __future__ import annotations

import datetime as dt

import pytest

from services.validate.engine import Context, Validator
from shared.catalog.loader import default_catalog
from shared.catalog.models import Method

CATALOG = default_catalog()
LAYOUT = CATALOG.layouts["SINC"]
LEA = "1964733"
CONTEXT = Context(institution_id=LEA, submitted_on=dt.date(2025, 9, 1))

# A student in an incident with a statutory offense, from the Table 3-18 descriptions.
VALID: dict[str, str] = {
    "record_type_code": "SINC",
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
    "incident_occurrence_date": "20250312",
    "statutory_offense_indicator": "Y",
    "student_instructional_support_indicator": "Y",
    "removal_to_interim_alternative_setting_reason_code": "1",
}
NO_OFFENSE = {"statutory_offense_indicator": "N", "student_instructional_support_indicator": "",
              "removal_to_interim_alternative_setting_reason_code": ""}


def row(**changes: str) -> list[str]:
    assert set(changes) <= set(VALID), set(changes) - set(VALID)
    return list({**VALID, **changes}.values())


@pytest.fixture(scope="module")
def validator() -> Validator:
    return Validator(LAYOUT, CATALOG)


def check(validator: Validator, fields: list[str]) -> list[tuple[str | None, str]]:
    return [(i.field, i.code) for i in validator.validate(fields, 5, CONTEXT)]


def test_fields_run_18_01_to_18_17_in_order() -> None:
    assert [f.id for f in LAYOUT.fields] == [f"18.{n:02d}" for n in range(1, 18)]
    assert [f.name for f in LAYOUT.fields] == list(VALID)
    assert [f.id for f in LAYOUT.fields if not f.required] == ["18.02", "18.03", "18.16",
                                                                "18.17"]
    assert {f.id for f in LAYOUT.fields if f.pii} == {"18.07", "18.08", "18.09", "18.10",
                                                       "18.11"}


def test_keys_follow_table_1_1_and_3_18() -> None:
    assert LAYOUT.method is Method.REPLACEMENT
    assert LAYOUT.operational_key == ("school_of_attendance", "academic_year_id",
                                      "incident_id_local")
    assert LAYOUT.row_key == ("school_of_attendance", "academic_year_id", "ssid",
                              "incident_id_local")  # §3.18.4
    assert (LAYOUT.school_field, LAYOUT.lea_field, LAYOUT.operation_field) == (
        "school_of_attendance", "reporting_lea", "transaction_type_code")
    assert LAYOUT.fields[1].allowed == ("", " ", "D", "R")
    assert CATALOG.collection("SINC") is not None


@pytest.mark.parametrize("changes", [
    {},
    NO_OFFENSE,
    {**NO_OFFENSE, "removal_to_interim_alternative_setting_reason_code": "3"},  # No Removal
    {"transaction_type_code": "R", "student_legal_last_name": "O'Neil-Smith"},
    {"incident_occurrence_date": "20250901"},  # on the submission date
], ids=["offense", "no-offense", "no-offense-no-removal", "replace", "today"])
def test_hand_written_valid_records_have_no_issues(validator: Validator,
                                                   changes: dict[str, str]) -> None:
    assert check(validator, row(**changes)) == []


@pytest.mark.parametrize(("changes", "field", "code"), [
    ({"record_type_code": "SIRS"}, "18.01", "invalid-code"),
    ({"transaction_type_code": "A"}, "18.02", "invalid-code"),
    ({"reporting_lea": "7777777"}, "18.04", "reporting-lea-mismatch"),
    # 18.05 "Must not equal '0000002' Private Schools Group"
    ({"school_of_attendance": "0000002"}, "18.05", "invalid-format"),
    ({"school_of_attendance": "12345678"}, "18.05", "max-length"),
    ({"academic_year_id": ""}, "18.06", "required"),
    ({"ssid": "1234567891"}, "18.07", "ssid-check-digit"),  # the XML sample's SSID
    # 18.09/18.10 "May only include Alphabetic letters, numbers, periods, hyphens and apostrophes"
    ({"student_legal_first_name": "Mary Ann"}, "18.09", "invalid-characters"),
    ({"student_legal_last_name": "Parko/Smith"}, "18.10", "invalid-characters"),
    ({"student_gender_code": "Q"}, "18.12", "invalid-code"),
    ({"incident_id_local": ""}, "18.13", "required"),
    ({"incident_id_local": "I" * 21}, "18.13", "max-length"),
    ({"incident_occurrence_date": "200191215"}, "18.14", "invalid-date"),  # the XML sample's
    ({"incident_occurrence_date": "20250902"}, "18.14", "date-window"),  # after today
    ({"statutory_offense_indicator": ""}, "18.15", "required"),
    ({"statutory_offense_indicator": "X"}, "18.15", "invalid-code"),
    ({"student_instructional_support_indicator": "X"}, "18.16", "invalid-code"),
    ({**NO_OFFENSE, "student_instructional_support_indicator": "N"}, "18.16",
     "conditional-blank"),
    ({**NO_OFFENSE, "removal_to_interim_alternative_setting_reason_code": "1"}, "18.17",
     "conditional-value"),
])
def test_one_wrong_value_gives_one_located_issue(validator: Validator, changes: dict[str, str],
                                                 field: str, code: str) -> None:
    assert check(validator, row(**changes)) == [(field, code)]


def test_delete_needs_only_the_replacement_key(validator: Validator) -> None:
    keep = {*LAYOUT.operational_key, "record_type_code", "reporting_lea"}
    fields = row(**{**{n: "" for n in VALID if n not in keep}, "transaction_type_code": "D"})
    assert check(validator, fields) == []
    fields[list(VALID).index("incident_id_local")] = ""
    assert check(validator, fields) == [("18.13", "required")]
