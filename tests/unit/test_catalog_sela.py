"""SELA layout (CFS v14.1 §3.12, Table 3-12): fields, keys, and validation of hand-written records.

Expectations are written from the seed's field table, not from the layout file."""

from __future__ import annotations

import datetime as dt

import pytest

from services.validate.engine import Context, Validator
from shared.catalog.loader import default_catalog
from shared.catalog.models import Method

CATALOG = default_catalog()
LAYOUT = CATALOG.layouts["SELA"]
LEA = "1964733"
CONTEXT = Context(institution_id=LEA, submitted_on=dt.date(2025, 9, 1))

# An English-only student (EO, primary language 00 English), from the Table 3-12 descriptions.
VALID: dict[str, str] = {
    "record_type_code": "SELA",
    "transaction_type_code": "",
    "local_record_id": "1",
    "reporting_lea": LEA,
    "school_of_attendance": "6000202",
    "academic_year_id": "2025-2026",
    "ssid": "1234567890",  # the seed's own valid example (CFS 1.08)
    "student_legal_first_name": "Peter",
    "student_legal_last_name": "Perrier",
    "student_birth_date": "20100221",
    "student_gender_code": "M",
    "local_student_id": "384734",
    "english_language_acquisition_status_code": "EO",
    "english_language_acquisition_status_start_date": "20250827",
    "primary_language_code": "00",
    "correction_reason_code": "",
}


def row(**changes: str) -> list[str]:
    assert set(changes) <= set(VALID), set(changes) - set(VALID)
    return list({**VALID, **changes}.values())


@pytest.fixture(scope="module")
def validator() -> Validator:
    return Validator(LAYOUT, CATALOG)


def check(validator: Validator, fields: list[str]) -> list[tuple[str | None, str]]:
    return [(i.field, i.code) for i in validator.validate(fields, 5, CONTEXT)]


def test_fields_run_12_01_to_12_16_in_order() -> None:
    assert [f.id for f in LAYOUT.fields] == [f"12.{n:02d}" for n in range(1, 17)]
    assert [f.name for f in LAYOUT.fields] == list(VALID)
    # Required Y in Table 3-12, and 12.13 (conditional on a grade 12.01 already restricts)
    assert [f.id for f in LAYOUT.fields if f.required] == [
        "12.01", "12.04", "12.05", "12.06", "12.07", "12.08", "12.09", "12.10", "12.11",
        "12.12", "12.13", "12.14", "12.15"]
    assert {f.id for f in LAYOUT.fields if f.pii} == {"12.07", "12.08", "12.09", "12.10",
                                                       "12.12"}


def test_keys_follow_table_1_1() -> None:
    assert LAYOUT.method is Method.TRANSACTION
    assert LAYOUT.operational_key == ("reporting_lea", "ssid",
                                      "english_language_acquisition_status_code")
    assert LAYOUT.row_key == LAYOUT.operational_key  # §3.12.4 lists the same fields
    assert LAYOUT.replace_set == ("academic_year_id", "reporting_lea", "ssid")  # design.md §4
    assert (LAYOUT.school_field, LAYOUT.lea_field, LAYOUT.operation_field) == (
        "school_of_attendance", "reporting_lea", "transaction_type_code")
    assert LAYOUT.fields[1].allowed == ("", " ", "A", "D", "R")
    assert LAYOUT.unique_in_file == (("ssid", "english_language_acquisition_status_start_date"),)
    assert CATALOG.collection("SELA") is not None


@pytest.mark.parametrize("changes", [
    {},
    {"english_language_acquisition_status_code": "TBD", "primary_language_code": "01"},
    {"english_language_acquisition_status_code": "RFEP", "primary_language_code": "01",
     "transaction_type_code": "A"},
    {"english_language_acquisition_status_code": "EL", "primary_language_code": "01",
     "correction_reason_code": "5"},
    {"english_language_acquisition_status_code": "EO", "primary_language_code": "37",
     "transaction_type_code": "R"},
], ids=["EO", "TBD", "RFEP", "EL-corrected", "EO-sign-language"])
def test_hand_written_valid_records_have_no_issues(validator: Validator,
                                                   changes: dict[str, str]) -> None:
    assert check(validator, row(**changes)) == []


@pytest.mark.parametrize(("changes", "field", "code"), [
    ({"record_type_code": "SENR"}, "12.01", "invalid-code"),  # Must equal SELA
    ({"transaction_type_code": "X"}, "12.02", "invalid-code"),
    ({"reporting_lea": "196473"}, "12.04", "invalid-format"),
    ({"reporting_lea": "1111111"}, "12.04", "reporting-lea-mismatch"),
    ({"school_of_attendance": ""}, "12.05", "required"),
    ({"academic_year_id": "2025-2027"}, "12.06", "invalid-academic-year"),
    ({"ssid": "1234567891"}, "12.07", "ssid-check-digit"),  # the XML sample's SSID
    ({"student_legal_first_name": ""}, "12.08", "required"),
    ({"student_birth_date": "20100230"}, "12.10", "invalid-date"),
    ({"student_gender_code": "Q"}, "12.11", "invalid-code"),
    ({"local_student_id": ""}, "12.12", "required"),
    ({"english_language_acquisition_status_code": ""}, "12.13", "required"),
    ({"english_language_acquisition_status_code": "LEP"}, "12.13", "invalid-code"),
    ({"english_language_acquisition_status_start_date": "20251301"}, "12.14", "invalid-date"),
    # 12.14 #1 "Must be greater than Student Birth Date": equal is wrong
    ({"english_language_acquisition_status_start_date": "20100221"}, "12.14", "date-order"),
    # 12.14 #2 "less than or equal to current system date"
    ({"english_language_acquisition_status_start_date": "20250902"}, "12.14", "date-window"),
    ({"primary_language_code": ""}, "12.15", "required"),
    # 12.13 #5 / 12.15 #2: EO requires 00 or 37
    ({"primary_language_code": "01"}, "12.15", "conditional-value"),
    # 12.15 #1: EL, RFEP or IFEP requires a language other than 00 and 37
    ({"english_language_acquisition_status_code": "RFEP"}, "12.13", "conditional-value"),
    ({"english_language_acquisition_status_code": "IFEP", "primary_language_code": "37",
      "correction_reason_code": "5"}, "12.13", "conditional-value"),
    # 12.16 #3: EL and IFEP must be submitted with a Correction Reason Code
    ({"english_language_acquisition_status_code": "EL", "primary_language_code": "01"},
     "12.16", "conditional-required"),
    ({"correction_reason_code": "12"}, "12.16", "max-length"),
])
def test_one_wrong_value_gives_one_located_issue(validator: Validator, changes: dict[str, str],
                                                 field: str, code: str) -> None:
    assert check(validator, row(**changes)) == [(field, code)]


def test_delete_needs_only_its_key_fields(validator: Validator) -> None:
    keep = {*LAYOUT.operational_key, "record_type_code", "reporting_lea"}
    fields = row(**{**{n: "" for n in VALID if n not in keep}, "transaction_type_code": "D",
                    "english_language_acquisition_status_code": "EL"})
    assert check(validator, fields) == []  # no correction reason needed to delete an EL record
    fields[list(VALID).index("ssid")] = ""
    assert check(validator, fields) == [("12.07", "required")]


def test_pii_values_stay_out_of_messages(validator: Validator) -> None:
    found = validator.validate(row(student_birth_date="20101399"), 5, CONTEXT)
    assert [(i.field, i.code) for i in found] == [("12.10", "invalid-date")]
    assert "20101399" not in found[0].message
