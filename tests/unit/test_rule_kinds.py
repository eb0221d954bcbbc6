"""shared/catalog/rule_kinds.py: one registry of record-rule kinds, each compiled, its parameters
checked by its own model, and its message template naming fields by their titles."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from pydantic import ValidationError

from services.validate.engine import Context, Validator
from services.validate.rules.registry import COMPILERS
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


AGE = {"id": "T-4", "kind": "age-on", "born": "student_birth_date", "at": "enrollment_start_date",
       "minimum": 16, "maximum": 17, "code": "age-out-of-range", "message": "m",
       "source": "test"}
IN_YEAR = {"id": "T-5", "kind": "date-in-year", "field": "enrollment_start_date",
           "year": "academic_year_id", "code": "date-outside-year", "source": "test"}
CURRENT = {"id": "T-6", "kind": "current-year-date-when", "field": "enrollment_start_date",
           "when": {"field": "transaction_type_code", "in": ["R"]},
           "code": "date-outside-year", "message": "m", "source": "test"}


@pytest.mark.parametrize(("start", "found"), [
    ("20260102", ["1.22"]),  # born 2010-01-03: 15 the day before the 16th birthday
    ("20260103", []),  # 16 on the birthday
    ("20280102", []),  # 17 the day before the 18th birthday
    ("20280103", ["1.22"]),  # 18: above the maximum
])
def test_age_on_counts_whole_years_to_the_date(start: str, found: list[str]) -> None:
    issues = validator_with(AGE).validate(senr_row(enrollment_start_date=start), 3, CONTEXT)
    assert [i.field for i in issues] == found


@pytest.mark.parametrize(("start", "year", "found"), [
    ("20250701", "2025-2026", []), ("20260630", "2025-2026", []),
    ("20250630", "2025-2026", ["1.22"]), ("20260701", "2025-2026", ["1.22"]),
    ("20250630", "2024-2025", []),
])
def test_date_in_year_runs_july_to_june_of_the_named_year(start: str, year: str,
                                                          found: list[str]) -> None:
    issues = validator_with(IN_YEAR).validate(
        senr_row(enrollment_start_date=start, academic_year_id=year), 3, CONTEXT)
    assert [i.field for i in issues] == found
    if found:
        assert issues[0].message == ("Enrollment Start Date must be within the academic year "
                                     "given in Academic Year ID.")


def test_date_in_year_with_another_year_start() -> None:
    # a year starting on September 1: August 2025 is still in 2024-2025
    validator = validator_with({**IN_YEAR, "year_starts": "09-01"})
    assert validator.validate(senr_row(enrollment_start_date="20250815",
                                       academic_year_id="2025-2026"), 3, CONTEXT) != []
    assert validator.validate(senr_row(enrollment_start_date="20250815",
                                       academic_year_id="2024-2025"), 3, CONTEXT) == []


@pytest.mark.parametrize(("action", "start", "found"), [
    ("R", "20250701", []), ("R", "20250630", ["1.22"]), ("R", "20260701", ["1.22"]),
    ("", "20250630", []),  # the condition does not hold
])
def test_current_year_date_when_uses_the_submission_date(action: str, start: str,
                                                         found: list[str]) -> None:
    issues = validator_with(CURRENT).validate(
        senr_row(transaction_type_code=action, enrollment_start_date=start), 3, CONTEXT)
    assert [i.field for i in issues] == found

def test_at_most_compares_the_numbers_not_the_text() -> None:
    sdem = default_catalog().layouts["SDEM"]
    layout = sdem.model_copy(update={"record_rules": (RecordRule.model_validate({
        "id": "T-4", "kind": "at-most", "field": "staff_service_years_lea",
        "other": "staff_service_years_total", "code": "conditional-value", "source": "test"}),)})
    validator = Validator(layout, default_catalog())
    names = [f.name for f in sdem.fields]

    def issues(lea: str, total: str) -> list[tuple[str | None, str]]:
        fields = ["" for _ in names]
        fields[names.index("staff_service_years_lea")] = lea
        fields[names.index("staff_service_years_total")] = total
        rule_issues = [i for i in validator.validate(fields, 2, CONTEXT) if i.rule_id == "T-4"]
        return [(i.field, i.message) for i in rule_issues]

    assert issues("9", "12") == []  # as text "9" > "12"; as numbers it is less
    assert issues("12", "12") == []
    assert issues("13", "9") == [
        ("7.30", "Staff Service Years LEA must not be greater than Staff Service Years Total.")]


def test_required_when_both_needs_both_conditions_and_reads_both_fields() -> None:
    both = rule(kind="required-when-both", field="student_alias_first_name",
                when={"field": "enrollment_status_code", "in": ["10"]},
                also={"field": "grade_level_code", "in": ["KN"]})
    assert set(RecordRule.model_validate(both).reads()) == {
        "student_alias_first_name", "enrollment_status_code", "grade_level_code"}
    validator = validator_with(both)

    def issues(status: str, grade: str) -> list[tuple[str | None, str]]:
        fields = senr_row(enrollment_status_code=status, grade_level_code=grade,
                          student_alias_first_name="")
        return [(i.field, i.message) for i in validator.validate(fields, 3, CONTEXT)
                if i.rule_id == "T-1"]

    assert issues("10", "KN") == [("1.14", "Student Alias First Name is required when Enrollment "
                                           "Status Code is 10 and Grade Level Code is KN.")]
    assert issues("10", "01") == []
    assert issues("20", "KN") == []


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


DIFFERENCE = {"id": "T-7", "kind": "at-most-difference",
              "field": "days_absent_out_of_school_suspension",
              "other": "expected_attendance_days", "less": "days_attended_in_person",
              "code": "conditional-value", "source": "test"}
TOO_MANY = ("13.17", "Days Absent Out-of-School Suspension must not be greater than Expected "
                     "Attendance Days less Days Attended In-Person.")


def test_at_most_difference_reads_its_three_fields() -> None:
    assert set(RecordRule.model_validate(DIFFERENCE).reads()) == {
        "days_absent_out_of_school_suspension", "expected_attendance_days",
        "days_attended_in_person"}


@pytest.mark.parametrize(("days", "found"), [
    # exactly the difference (0.3 - 0.1 in binary floating point is less than 0.2)
    ({"expected_attendance_days": "0.3", "days_attended_in_person": "0.1",
      "days_absent_out_of_school_suspension": "0.2"}, []),
    ({"expected_attendance_days": "10.3", "days_attended_in_person": "10.1",
      "days_absent_out_of_school_suspension": "0.25"}, [TOO_MANY]),
    ({"expected_attendance_days": "150", "days_attended_in_person": "",
      "days_absent_out_of_school_suspension": "200"}, []),  # a blank is not compared
])
def test_at_most_difference_compares_with_the_difference(days: dict[str, str],
                                                         found: list[tuple[str, str]]) -> None:
    assert stas_issues(DIFFERENCE, **days) == found


@pytest.mark.parametrize(("value", "fails"), [("0", True), ("0.01", False), ("255.99", False),
                                             ("256", True), ("", False)])
def test_open_range_leaves_out_both_bounds(value: str, fails: bool) -> None:
    rule = {"id": "T-8", "kind": "open-range", "field": "expected_attendance_days",
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
        "id": "T-9", "kind": "month-day-when", "field": "enrollment_start_date",
        "when": {"field": "grade_level_code", "in": ["10"]}, "starts": "12-01",
        "ends": "01-31", "code": "conditional-value", "message": "Winter only.",
        "source": "test"})
    found = validator.validate(senr_row(enrollment_start_date=start), 3, CONTEXT)
    assert [i.message for i in found] == (["Winter only."] if fails else [])
    assert validator.validate(senr_row(enrollment_start_date=start, grade_level_code="11"), 3,
                              CONTEXT) == []
