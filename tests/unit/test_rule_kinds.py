"""shared/catalog/rule_kinds.py: one registry of record-rule kinds, each compiled, its parameters
checked by its own model, and its message template naming fields by their titles."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from pydantic import ValidationError

from services.validate.engine import Context, Validator
from services.validate.rules.record import COMPILERS
from shared.catalog.loader import default_catalog
from shared.catalog.rule_kinds import RULE_KINDS, RecordRule
from tests.unit.senr_rows import LAYOUT, senr_row

CONTEXT = Context(institution_id=None, submitted_on=dt.date(2025, 9, 1))


def rule(**changes: Any) -> dict[str, Any]:
    return {"id": "T-1", "kind": "required-when", "field": "ssid",
            "when": {"field": "transaction_type_code", "in": ["R"]},
            "code": "conditional-required", "source": "test", **changes}


def validator_with(*rules: dict[str, Any]) -> Validator:
    layout = LAYOUT.model_copy(update={"record_rules": tuple(
        RecordRule.model_validate(r) for r in rules)})
    return Validator(layout, default_catalog())


def test_every_kind_has_a_compiler_and_every_compiler_a_kind() -> None:
    assert set(COMPILERS) == set(RULE_KINDS.values())


def test_every_kind_is_documented() -> None:
    for kind, model in RULE_KINDS.items():
        assert model.__doc__ and model.__doc__.strip(), kind


def test_unknown_kind_is_an_error_naming_the_rule_and_the_kinds() -> None:
    with pytest.raises(ValidationError, match=r"rule T-1 \(requried-when\).*required-when"):
        RecordRule.model_validate(rule(kind="requried-when"))


def test_a_parameter_of_another_kind_is_an_error() -> None:
    with pytest.raises(ValidationError, match=r"rule T-1 \(required-when\): days"):
        RecordRule.model_validate(rule(days=3))


def test_a_missing_parameter_is_an_error() -> None:
    with pytest.raises(ValidationError, match=r"rule T-1 \(allowed-when\): values"):
        RecordRule.model_validate(rule(kind="allowed-when"))


def test_a_kind_without_template_needs_a_message() -> None:
    with pytest.raises(ValidationError, match="needs a message"):
        RecordRule.model_validate({"id": "T-2", "kind": "date-window",
                                   "field": "enrollment_start_date", "days": 30,
                                   "code": "date-window", "source": "test"})


def test_reads_names_every_field_the_rule_reads() -> None:
    assert RecordRule.model_validate(rule()).reads() == ("ssid", "transaction_type_code")
    order = RecordRule.model_validate({
        "id": "T-3", "kind": "date-order", "earlier": "student_birth_date",
        "later": "enrollment_start_date", "code": "date-order", "message": "m",
        "source": "test"})
    assert set(order.reads()) == {"student_birth_date", "enrollment_start_date"}


@pytest.mark.parametrize(("changes", "fields", "field_id", "message"), [
    ({}, {"transaction_type_code": "R", "ssid": ""}, "1.08",
     "SSID is required when Transaction Type Code is R."),
    ({"kind": "blank-when", "field": "student_alias_first_name",
      "when": {"field": "enrollment_status_code", "in": ["10", "20", "30"]},
      "code": "conditional-blank"},
     {"student_alias_first_name": "Mia"}, "1.14",
     "Student Alias First Name must be blank when Enrollment Status Code is 10, 20 or 30."),
    ({"kind": "allowed-when", "field": "grade_level_code", "values": ["09", "10"],
      "when": {"field": "student_alias_first_name", "populated": True},
      "code": "conditional-value"},
     {"student_alias_first_name": "Mia", "student_alias_last_name": "Lee",
      "grade_level_code": "KN"}, "1.24",
     "Grade Level Code must be 09 or 10 when Student Alias First Name is populated."),
])
def test_template_fills_a_missing_message(changes: dict[str, Any], fields: dict[str, str],
                                          field_id: str, message: str) -> None:
    validator = validator_with(rule(**changes))
    found = [(i.field, i.message) for i in validator.validate(senr_row(**fields), 3, CONTEXT)]
    assert found == [(field_id, message)]


def test_a_layout_message_wins_over_the_template() -> None:
    validator = validator_with(rule(message="Give the SSID of the record you replace."))
    found = validator.validate(senr_row(transaction_type_code="R", ssid=""), 3, CONTEXT)
    assert [i.message for i in found] == ["Give the SSID of the record you replace."]


# The kinds added for STAS (issue 12), on the STAS layout's day counts.
STAS = default_catalog().layouts["STAS"]
STAS_ROW = {f.name: "" for f in STAS.fields} | {
    "record_type_code": "STAS", "reporting_lea": "1964733", "school_of_attendance": "6000202",
    "academic_year_id": "2024-2025", "ssid": "1234567890", "local_student_id": "100001"}


def stas_issues(rule: dict[str, Any], **values: str) -> list[tuple[str | None, str]]:
    layout = STAS.model_copy(update={"record_rules": (RecordRule.model_validate(rule),)})
    fields = list((STAS_ROW | values).values())
    return [(i.field, i.message) for i in
            Validator(layout, default_catalog()).validate(fields, 3, CONTEXT)]


AT_MOST = {"id": "T-4", "kind": "number-at-most", "field": "days_absent_out_of_school_suspension",
           "limit": "expected_attendance_days", "less": "days_attended_in_person",
           "code": "conditional-value", "message": "Too many days.", "source": "test"}


def test_number_at_most_reads_its_three_fields_or_two_without_less() -> None:
    assert set(RecordRule.model_validate(AT_MOST).reads()) == {
        "days_absent_out_of_school_suspension", "expected_attendance_days",
        "days_attended_in_person"}
    two = RecordRule.model_validate({**AT_MOST, "less": None})
    assert set(two.reads()) == {"days_absent_out_of_school_suspension",
                                "expected_attendance_days"}


@pytest.mark.parametrize(("days", "found"), [
    # exactly the difference (0.3 - 0.1 in binary floating point is less than 0.2)
    ({"expected_attendance_days": "0.3", "days_attended_in_person": "0.1",
      "days_absent_out_of_school_suspension": "0.2"}, []),
    ({"expected_attendance_days": "10.3", "days_attended_in_person": "10.1",
      "days_absent_out_of_school_suspension": "0.25"}, [("13.17", "Too many days.")]),
    ({"expected_attendance_days": "150", "days_attended_in_person": "",
      "days_absent_out_of_school_suspension": "200"}, []),  # a blank is not compared
])
def test_number_at_most_compares_with_the_difference(days: dict[str, str],
                                                    found: list[tuple[str, str]]) -> None:
    assert stas_issues(AT_MOST, **days) == found


def test_number_at_most_needs_a_message() -> None:
    with pytest.raises(ValidationError, match="needs a message"):
        RecordRule.model_validate({k: v for k, v in AT_MOST.items() if k != "message"})


@pytest.mark.parametrize(("value", "fails"), [("0", True), ("0.01", False), ("255.99", False),
                                             ("256", True), ("", False)])
def test_open_range_leaves_out_both_bounds(value: str, fails: bool) -> None:
    rule = {"id": "T-5", "kind": "open-range", "field": "expected_attendance_days",
            "above": 0, "below": 256, "code": "conditional-value", "source": "test"}
    message = "Expected Attendance Days must be greater than 0 and less than 256."
    assert stas_issues(rule, expected_attendance_days=value) == (
        [("13.15", message)] if fails else [])


@pytest.mark.parametrize(("start", "fails"), [("20251130", True), ("20251201", False),
                                             ("20260115", False), ("20260131", False),
                                             ("20260201", True)])
def test_month_day_when_a_window_over_the_new_year(start: str, fails: bool) -> None:
    # December 1 to January 31, of any year, when the student is in grade 10.
    validator = validator_with({
        "id": "T-6", "kind": "month-day-when", "field": "enrollment_start_date",
        "when": {"field": "grade_level_code", "in": ["10"]}, "starts": "12-01",
        "ends": "01-31", "code": "conditional-value", "message": "Winter only.",
        "source": "test"})
    found = validator.validate(senr_row(enrollment_start_date=start), 3, CONTEXT)
    assert [i.message for i in found] == (["Winter only."] if fails else [])
    assert validator.validate(senr_row(enrollment_start_date=start, grade_level_code="11"), 3,
                              CONTEXT) == []
