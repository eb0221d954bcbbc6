"""shared/catalog/layouts/SINF.yaml: the Student Information layout (CFS v14.1 Table 3-2.3)."""

from __future__ import annotations

import datetime as dt

import pytest

from services.validate.engine import Context, Validator
from shared.catalog.loader import default_catalog
from shared.catalog.models import Method

CATALOG = default_catalog()
LAYOUT = CATALOG.layouts["SINF"]
LEA = "1964733"
CONTEXT = Context(institution_id=LEA, submitted_on=dt.date(2025, 9, 1))

# A valid record written from the seed's field descriptions, 49 fields in layout order.
VALID: dict[str, str] = {
    "record_type_code": "SINF", "transaction_type_code": "", "local_record_id": "7",
    "effective_start_date": "20250827", "effective_end_date": "", "reporting_lea": LEA,
    "school_of_attendance": "6000202", "academic_year_id": "2025-2026", "ssid": "1234567890",
    "local_student_id": "100001", "student_legal_first_name": "Maria",
    "student_legal_middle_name": "", "student_legal_last_name": "Garcia",
    "student_legal_name_suffix_code": "", "student_alias_first_name": "",
    "student_alias_middle_name": "", "student_alias_last_name": "",
    "student_birth_date": "20100103", "student_gender_code": "F",
    "student_birth_city": "Los Angeles", "student_birth_state_province_code": "US-CA",
    "student_birth_country_code": "US", "student_hispanic_ethnicity_indicator": "Y",
    "student_ethnicity_missing_indicator": "", "student_race_1_code": "600",
    "student_race_2_code": "", "student_race_3_code": "", "student_race_4_code": "",
    "student_race_5_code": "", "student_race_missing_indicator": "N",
    "residential_address_line_1": "123 Main Street", "residential_address_line_2": "",
    "residential_address_city_name": "Sacramento",
    "residential_address_state_province_code": "US-CA", "residential_address_zip_code": "95814",
    "student_initial_us_school_enrollment_date_k12": "20150819",
    "enrolled_in_us_school_less_than_three_cumulative_years_indicator": "N",
    "parent_guardian_highest_education_level_code": "", "guardian_1_first_name": "Ana",
    "guardian_1_last_name": "Garcia", "guardian_2_first_name": "", "guardian_2_last_name": "",
    "student_preferred_first_name": "", "student_preferred_last_name": "",
    "mailing_address_line_1": "", "mailing_address_line_2": "", "mailing_address_city_name": "",
    "mailing_address_state_province_code": "", "mailing_address_zip_code": "",
}
KEY_FIELDS = {"record_type_code", "transaction_type_code", "reporting_lea", "ssid",
              "effective_start_date"}


def row(**changes: str) -> list[str]:
    assert set(changes) <= set(VALID), set(changes) - set(VALID)
    return list({**VALID, **changes}.values())


def delete(**changes: str) -> list[str]:
    """A Delete with only the operational key, LEA, record type and transaction type filled."""
    blanked = {name: "" for name in VALID if name not in KEY_FIELDS}
    return row(**{**blanked, "transaction_type_code": "D", **changes})


def check(fields: list[str]) -> list[tuple[str | None, str]]:
    return [(i.field, i.code) for i in Validator(LAYOUT, CATALOG).validate(fields, 5, CONTEXT)]


def test_fields_run_2_01_to_2_49_in_order() -> None:
    assert [f.id for f in LAYOUT.fields] == [f"2.{n:02d}" for n in range(1, 50)]
    assert [f.name for f in LAYOUT.fields] == list(VALID)


def test_keys_are_effective_date_per_lea_and_student() -> None:
    assert LAYOUT.method is Method.EFFECTIVE_DATE
    assert LAYOUT.operational_key == ("reporting_lea", "ssid", "effective_start_date")
    assert LAYOUT.row_key == LAYOUT.operational_key
    assert LAYOUT.timeline_key == LAYOUT.group_key == ("reporting_lea", "ssid")
    assert (LAYOUT.effective_start_field, LAYOUT.effective_end_field) == (
        "effective_start_date", "effective_end_date")
    assert (LAYOUT.school_field, LAYOUT.lea_field, LAYOUT.operation_field) == (
        "school_of_attendance", "reporting_lea", "transaction_type_code")
    by_name = {f.name: f for f in LAYOUT.fields}
    assert by_name["transaction_type_code"].allowed == ("", " ", "A", "D")
    end = by_name["effective_end_date"]
    assert (end.type, end.required) == ("DT", False)
    assert by_name["ssid"].pii and by_name["ssid"].required


def test_hand_written_valid_record_has_no_issues() -> None:
    assert check(row()) == []
    assert check(row(transaction_type_code="A", effective_end_date="20260630")) == []


def test_delete_with_only_its_keys_passes_and_still_needs_them() -> None:
    assert check(delete()) == []
    assert check(delete(effective_start_date="")) == [("2.04", "required")]
    assert check(delete(ssid="")) == [("2.09", "required")]


@pytest.mark.parametrize(("changes", "expected"), [
    ({"transaction_type_code": "R"}, ("2.02", "invalid-code")),
    ({"student_gender_code": "Q"}, ("2.19", "invalid-code")),
    ({"student_race_missing_indicator": "U"}, ("2.30", "invalid-code")),
    ({"effective_start_date": "20250230"}, ("2.04", "invalid-date")),
    ({"student_birth_date": "2010-01-03"}, ("2.18", "invalid-date")),
    ({"local_student_id": ""}, ("2.10", "required")),
    ({"ssid": "1234567891"}, ("2.09", "ssid-check-digit")),
    ({"academic_year_id": "2025-2027"}, ("2.08", "invalid-academic-year")),
    ({"school_of_attendance": "600020"}, ("2.07", "invalid-format")),
    ({"student_legal_middle_name": "Ann Marie"}, ("2.12", "invalid-characters")),
    ({"student_alias_first_name": "Mary"}, ("2.17", "conditional-required")),
    ({"student_ethnicity_missing_indicator": "N",
      "student_hispanic_ethnicity_indicator": ""}, ("2.23", "conditional-required")),
    ({"guardian_1_first_name": ""}, ("2.39", "conditional-required")),
    ({"student_preferred_last_name": "Lopez"}, ("2.43", "conditional-required")),
    # 2.36: "student age as of that date must be at least 4 years" (born 2010-01-03)
    ({"student_initial_us_school_enrollment_date_k12": "20091231"}, ("2.36", "age-out-of-range")),
    ({"student_initial_us_school_enrollment_date_k12": "20140102"}, ("2.36", "age-out-of-range")),
    # 2.04 #2: "Must be within Academic Year specified" (2025-2026: July 1 to June 30)
    ({"effective_start_date": "20250630"}, ("2.04", "date-outside-year")),
    ({"effective_start_date": "20260701"}, ("2.04", "date-outside-year")),
])
def test_one_wrong_value_gives_one_located_issue(changes: dict[str, str],
                                                 expected: tuple[str, str]) -> None:
    assert check(row(**changes)) == [expected]


def test_missing_indicator_y_with_a_value_is_reported_on_both_fields() -> None:
    assert check(row(student_race_missing_indicator="Y")) == [
        ("2.25", "conditional-blank"), ("2.30", "conditional-value")]
    assert check(row(student_ethnicity_missing_indicator="Y")) == [
        ("2.23", "conditional-blank"), ("2.24", "conditional-value")]


def test_partial_addresses_need_every_part() -> None:
    assert check(row(residential_address_zip_code="")) == [("2.35", "conditional-required")] * 3
    found = check(row(mailing_address_line_2="Apt 4"))
    assert sorted(found) == [(f, "conditional-required") for f in ("2.45", "2.47", "2.48",
                                                                     "2.49")]


def test_age_and_year_limits_themselves_pass() -> None:
    # 4th birthday (born 2010-01-03); the academic year's first and last day
    assert check(row(student_initial_us_school_enrollment_date_k12="20140103")) == []
    assert check(row(effective_start_date="20250701")) == []
    assert check(row(effective_start_date="20260630")) == []


def test_a_leap_day_birthday_comes_on_march_1() -> None:
    leap = {"student_birth_date": "20120229"}
    assert check(row(**leap, student_initial_us_school_enrollment_date_k12="20160228")) == [
        ("2.36", "age-out-of-range")]
    assert check(row(**leap, student_initial_us_school_enrollment_date_k12="20160229")) == []
    assert check(row(**leap, student_initial_us_school_enrollment_date_k12="20170228")) == []


def test_blank_indicators_need_their_values() -> None:
    # 2.23 Required "If Student Ethnicity Missing Indicator is null or N Then Y" and 2.24
    # Required "If Student Hispanic Ethnicity Indicator is null Then Y": both blank fail both.
    assert check(row(student_hispanic_ethnicity_indicator="",
                     student_ethnicity_missing_indicator="")) == [
        ("2.23", "conditional-required"), ("2.24", "conditional-required")]
    assert check(row(student_hispanic_ethnicity_indicator="",
                     student_ethnicity_missing_indicator="Y")) == []
    assert check(row(student_hispanic_ethnicity_indicator="N",
                     student_ethnicity_missing_indicator="")) == []
    # 2.25 Required "If Student Race Missing Indicator is null Then Y" and 2.30 Required "If all
    # of the Student Race Codes are null Then Y"
    assert check(row(student_race_1_code="", student_race_missing_indicator="")) == [
        ("2.25", "conditional-required"), ("2.30", "conditional-required")]
    assert check(row(student_race_1_code="", student_race_missing_indicator="Y")) == []
    assert check(row(student_race_1_code="600", student_race_missing_indicator="")) == []
    # the indicator is N: no race code is required by 2.25, none populated is allowed by 2.30
    assert check(row(student_race_1_code="", student_race_2_code="700",
                     student_race_missing_indicator="N")) == []


def test_a_delete_needs_no_indicator() -> None:
    # The blank-condition rules read fields a Delete leaves blank (CFS §1.3.1 Scenario 2).
    assert check(delete(student_hispanic_ethnicity_indicator="",
                        student_race_missing_indicator="")) == []
