"""SIRS layout (CFS v14.1 §3.19, Table 3-19): fields, keys, and validation of hand-written records.

Expectations are written from the seed's field table, not from the layout file."""

from __future__ import annotations

import datetime as dt

import pytest

from services.validate.engine import Context, Validator
from shared.catalog.loader import default_catalog
from shared.catalog.models import Method

CATALOG = default_catalog()
LAYOUT = CATALOG.layouts["SIRS"]
LEA = "1964733"
CONTEXT = Context(institution_id=LEA, submitted_on=dt.date(2025, 9, 1))

# An expulsion (200) with a modification, from the Table 3-19 descriptions.
VALID: dict[str, str] = {
    "record_type_code": "SIRS",
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
    "incident_result_code": "200",
    "incident_result_authority_code": "10",
    "incident_result_duration_days": "10",
    "incident_result_modification_code": "200",
}
OTHER_MEANS = {"incident_result_code": "300", "incident_result_authority_code": "",
               "incident_result_duration_days": "", "incident_result_modification_code": ""}


def row(**changes: str) -> list[str]:
    assert set(changes) <= set(VALID), set(changes) - set(VALID)
    return list({**VALID, **changes}.values())


@pytest.fixture(scope="module")
def validator() -> Validator:
    return Validator(LAYOUT, CATALOG)


def check(validator: Validator, fields: list[str]) -> list[tuple[str | None, str]]:
    return [(i.field, i.code) for i in validator.validate(fields, 5, CONTEXT)]


def test_fields_run_19_01_to_19_17_in_order() -> None:
    assert [f.id for f in LAYOUT.fields] == [f"19.{n:02d}" for n in range(1, 18)]
    assert [f.name for f in LAYOUT.fields] == list(VALID)
    assert [f.id for f in LAYOUT.fields if not f.required] == ["19.02", "19.03", "19.15",
                                                                "19.16", "19.17"]
    assert {f.id for f in LAYOUT.fields if f.pii} == {"19.07", "19.08", "19.09", "19.10",
                                                       "19.11"}


def test_keys_follow_table_1_1_and_3_19() -> None:
    assert LAYOUT.method is Method.REPLACEMENT
    assert LAYOUT.operational_key == ("school_of_attendance", "academic_year_id",
                                      "incident_id_local")
    assert LAYOUT.row_key == ("school_of_attendance", "academic_year_id", "ssid",
                              "incident_id_local", "incident_result_code")  # §3.19.4
    assert (LAYOUT.school_field, LAYOUT.lea_field) == ("school_of_attendance", "reporting_lea")
    assert LAYOUT.fields[1].allowed == ("", " ", "D", "R")
    assert CATALOG.collection("SIRS") is not None


@pytest.mark.parametrize("changes", [
    {},
    OTHER_MEANS,
    {"incident_result_code": "100", "incident_result_modification_code": ""},
    {"incident_result_code": "110", "incident_result_duration_days": "0.5",
     "incident_result_modification_code": ""},
    {"incident_result_duration_days": "0", "incident_result_modification_code": "100"},
], ids=["expulsion", "other-means", "suspension", "half-day", "zero-days-suspended"])
def test_hand_written_valid_records_have_no_issues(validator: Validator,
                                                   changes: dict[str, str]) -> None:
    assert check(validator, row(**changes)) == []


@pytest.mark.parametrize(("changes", "field", "code"), [
    ({"record_type_code": "SINC"}, "19.01", "invalid-code"),  # as the XML sample writes it
    ({"transaction_type_code": "A"}, "19.02", "invalid-code"),
    ({"reporting_lea": "7777777"}, "19.04", "reporting-lea-mismatch"),
    ({"school_of_attendance": "600020A"}, "19.05", "invalid-format"),
    ({"academic_year_id": "2024-2026"}, "19.06", "invalid-academic-year"),
    ({"ssid": ""}, "19.07", "required"),
    ({"student_legal_first_name": "Heidi/Ann"}, "19.09", "invalid-characters"),
    ({"incident_id_local": ""}, "19.13", "required"),
    ({"incident_result_code": ""}, "19.14", "required"),
    ({"incident_result_code": "1000"}, "19.14", "max-length"),
    # 19.14 #1 / 19.17 Required: expulsion needs a modification code
    ({"incident_result_modification_code": ""}, "19.17", "conditional-required"),
    # 19.16 Required: 100, 110, 200 need the duration
    ({"incident_result_duration_days": ""}, "19.16", "conditional-required"),
    ({"incident_result_duration_days": "ten"}, "19.16", "invalid-number"),
    ({"incident_result_duration_days": "1234567"}, "19.16", "max-length"),
    # 19.16 #3: the duration only for 100, 110 or 200
    ({**OTHER_MEANS, "incident_result_duration_days": "2"}, "19.14", "conditional-value"),
    # 19.16 #2 / 19.17 #1: 0 days requires modification 100 or 200
    ({"incident_result_duration_days": "0", "incident_result_modification_code": "300"},
     "19.17", "conditional-value"),
    ({"incident_result_code": "110", "incident_result_duration_days": "0.0",
      "incident_result_modification_code": ""}, "19.17", "conditional-value"),
])
def test_one_wrong_value_gives_one_located_issue(validator: Validator, changes: dict[str, str],
                                                 field: str, code: str) -> None:
    assert check(validator, row(**changes)) == [(field, code)]


def test_delete_needs_only_the_replacement_key(validator: Validator) -> None:
    keep = {*LAYOUT.operational_key, "record_type_code", "reporting_lea"}
    fields = row(**{**{n: "" for n in VALID if n not in keep}, "transaction_type_code": "D"})
    assert check(validator, fields) == []
