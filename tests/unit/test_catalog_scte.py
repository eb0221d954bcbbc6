"""SCTE layout (CFS v14.1 §3.11, Table 3-11): fields, keys, and validation of hand-written records.

Expectations are written from the seed's field table, not from the layout file."""

from __future__ import annotations

import datetime as dt

import pytest

from services.validate.engine import Context, Validator
from shared.catalog.loader import default_catalog
from shared.catalog.models import Method

CATALOG = default_catalog()
LAYOUT = CATALOG.layouts["SCTE"]
LEA = "1964733"
CONTEXT = Context(institution_id=LEA, submitted_on=dt.date(2025, 9, 1))

# A CTE pathway completer, written from the Table 3-11 descriptions (fields in layout order).
VALID: dict[str, str] = {
    "record_type_code": "SCTE",
    "transaction_type_code": "",
    "local_record_id": "1",
    "reporting_lea": LEA,
    "school_of_attendance": "6000202",
    "academic_year_id": "2024-2025",
    "ssid": "1234567890",
    "local_student_id": "384734",
    "student_legal_first_name": "Peter",
    "student_legal_last_name": "Perrier",
    "student_birth_date": "20070221",
    "student_gender_code": "M",
    "cte_pathway_code": "100",  # the XML sample's pathway
    "cte_pathway_completion_academic_year_id": "2024-2025",
}


def row(**changes: str) -> list[str]:
    assert set(changes) <= set(VALID), set(changes) - set(VALID)
    return list({**VALID, **changes}.values())


@pytest.fixture(scope="module")
def validator() -> Validator:
    return Validator(LAYOUT, CATALOG)


def check(validator: Validator, fields: list[str]) -> list[tuple[str | None, str]]:
    return [(i.field, i.code) for i in validator.validate(fields, 5, CONTEXT)]


def test_fields_run_11_01_to_11_14_in_order() -> None:
    assert [f.id for f in LAYOUT.fields] == [f"11.{n:02d}" for n in range(1, 15)]
    assert [f.name for f in LAYOUT.fields] == list(VALID)
    assert [f.id for f in LAYOUT.fields if not f.required] == ["11.02", "11.03"]
    assert {f.id for f in LAYOUT.fields if f.pii} == {"11.07", "11.08", "11.09", "11.10",
                                                       "11.11"}


def test_keys_follow_table_1_1_and_3_11() -> None:
    assert LAYOUT.method is Method.REPLACEMENT
    assert LAYOUT.operational_key == ("school_of_attendance", "academic_year_id")
    assert LAYOUT.group_key == LAYOUT.operational_key  # the replacement key
    assert LAYOUT.row_key == ("school_of_attendance", "academic_year_id", "ssid",
                              "cte_pathway_code")  # §3.11.4
    assert (LAYOUT.school_field, LAYOUT.lea_field, LAYOUT.operation_field) == (
        "school_of_attendance", "reporting_lea", "transaction_type_code")
    assert LAYOUT.fields[1].allowed == ("", " ", "D", "R")
    assert LAYOUT.unique_in_file == (("ssid", "cte_pathway_code"),)  # 11.07 #2, 11.13
    assert CATALOG.collection("SCTE") is not None


@pytest.mark.parametrize("changes", [
    {},
    {"transaction_type_code": "R", "cte_pathway_code": "171"},  # the code set is not enforced
    {"transaction_type_code": " "},
])
def test_hand_written_valid_records_have_no_issues(validator: Validator,
                                                   changes: dict[str, str]) -> None:
    assert check(validator, row(**changes)) == []


@pytest.mark.parametrize(("changes", "field", "code"), [
    ({"record_type_code": "SCTF"}, "11.01", "invalid-code"),
    ({"transaction_type_code": "A"}, "11.02", "invalid-code"),  # Replacement: no A
    ({"reporting_lea": "7777777"}, "11.04", "reporting-lea-mismatch"),
    ({"school_of_attendance": "600020"}, "11.05", "invalid-format"),
    ({"academic_year_id": "2024"}, "11.06", "invalid-academic-year"),
    ({"ssid": ""}, "11.07", "required"),
    ({"ssid": "0234567890"}, "11.07", "ssid-format"),
    ({"student_legal_last_name": ""}, "11.10", "required"),
    ({"student_gender_code": "Z"}, "11.12", "invalid-code"),
    ({"cte_pathway_code": ""}, "11.13", "required"),
    ({"cte_pathway_code": "1000"}, "11.13", "max-length"),
    ({"cte_pathway_completion_academic_year_id": ""}, "11.14", "required"),
    ({"cte_pathway_completion_academic_year_id": "2010"}, "11.14",  # the XML sample's value
     "invalid-academic-year"),
])
def test_one_wrong_value_gives_one_located_issue(validator: Validator, changes: dict[str, str],
                                                 field: str, code: str) -> None:
    assert check(validator, row(**changes)) == [(field, code)]


def test_delete_needs_only_the_replacement_key(validator: Validator) -> None:
    keep = {*LAYOUT.operational_key, "record_type_code", "reporting_lea"}
    fields = row(**{**{n: "" for n in VALID if n not in keep}, "transaction_type_code": "D"})
    assert check(validator, fields) == []
    fields[list(VALID).index("academic_year_id")] = ""
    assert check(validator, fields) == [("11.06", "required")]
