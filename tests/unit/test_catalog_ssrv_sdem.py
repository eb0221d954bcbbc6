"""SSRV (CFS v14.1 §3.15, Table 3-15) and SDEM (§3.7, Table 3-7) layouts: field order, keys,
a hand-written valid record of each, and one located issue for each wrong value."""

from __future__ import annotations

import datetime as dt

import pytest

from services.validate.engine import Context, Validator
from shared.catalog.loader import default_catalog
from shared.catalog.models import Layout, Method

LEA = "1964733"
CONTEXT = Context(institution_id=LEA, submitted_on=dt.date(2025, 9, 1))
CATALOG = default_catalog()
SSRV, SDEM = CATALOG.layouts["SSRV"], CATALOG.layouts["SDEM"]

# Written from the Table 3-15 field descriptions, in layout order (15.01 first).
SSRV_VALID = {
    "record_type_code": "SSRV", "transaction_type_code": "", "local_record_id": "1",
    "reporting_lea": LEA, "school_of_attendance": "6000202", "school_of_attendance_nps": "",
    "nonpublic_agency_identifier": "", "academic_year_id": "2025-2026", "ssid": "1234567890",
    "reporting_selpa": "1950", "district_of_special_education_accountability": LEA,
    "meeting_or_amendment_identifier": "IEP-20250915-001",
    "special_education_service_code": "250", "special_education_service_provider_code": "100",
    "special_education_service_location_code": "510", "service_frequency_code": "10",
    "service_duration": "0060", "local_special_education_student_id": "",
}
# Written from the Table 3-7 field descriptions, in layout order (7.01 first).
SDEM_VALID = {
    "record_type_code": "SDEM", "transaction_type_code": "", "local_record_id": "1",
    "effective_start_date": "20250801", "effective_end_date": "", "reporting_lea": LEA,
    "academic_year_id": "2025-2026", "seid": "1000012345", "local_staff_id": "S1001",
    "staff_legal_first_name": "John", "staff_legal_middle_name": "",
    "staff_legal_last_name": "Smith", "staff_alias_first_name": "",
    "staff_alias_middle_name": "", "staff_alias_last_name": "", "staff_birth_date": "19800601",
    "staff_gender_code": "M", "staff_hispanic_ethnicity_indicator": "N",
    "staff_ethnicity_missing_indicator": "", "staff_race_1_code": "600", "staff_race_2_code": "",
    "staff_race_3_code": "", "staff_race_4_code": "", "staff_race_5_code": "",
    "staff_race_missing_indicator": "", "staff_highest_degree_code": "B",
    "staff_employment_status_code": "2", "staff_employment_start_date": "20070801",
    "staff_employment_end_date": "", "staff_service_years_lea": "10",
    "staff_service_years_total": "12",
}
VALID = {"SSRV": SSRV_VALID, "SDEM": SDEM_VALID}


def check(layout: Layout, **changes: str) -> list[tuple[str | None, str]]:
    valid = VALID[layout.record_type]
    assert set(changes) <= set(valid), set(changes) - set(valid)
    fields = list({**valid, **changes}.values())
    return [(i.field, i.code) for i in Validator(layout, CATALOG).validate(fields, 5, CONTEXT)]


def delete_only(layout: Layout, **changes: str) -> dict[str, str]:
    """A Delete with only the record type and the operational key filled (CFS §1.3)."""
    kept = {"record_type_code", *layout.operational_key}
    fields = {n: v if n in kept else "" for n, v in VALID[layout.record_type].items()}
    return {**fields, "transaction_type_code": "D", **changes}


@pytest.mark.parametrize(("layout", "table", "count"), [(SSRV, 15, 18), (SDEM, 7, 31)])
def test_field_ids_run_in_order(layout: Layout, table: int, count: int) -> None:
    assert [f.id for f in layout.fields] == [f"{table}.{n:02d}" for n in range(1, count + 1)]
    assert [f.name for f in layout.fields] == list(VALID[layout.record_type])


def test_ssrv_keys_follow_table_1_1_and_3_15() -> None:
    assert SSRV.method is Method.REPLACEMENT
    assert SSRV.operational_key == ("reporting_lea", "ssid", "reporting_selpa",
                                    "meeting_or_amendment_identifier")
    assert SSRV.group_key == SSRV.operational_key  # the replacement key
    assert SSRV.row_key == ("reporting_lea", "reporting_selpa", "ssid", "academic_year_id",
                            "meeting_or_amendment_identifier", "special_education_service_code",
                            "special_education_service_provider_code")  # §3.15.4
    assert (SSRV.school_field, SSRV.lea_field) == ("school_of_attendance", "reporting_lea")
    assert SSRV.fields[1].allowed == ("", " ", "D", "R")
    assert SSRV.unique_in_file == (("ssid", "meeting_or_amendment_identifier",
                                    "special_education_service_code",
                                    "special_education_service_provider_code"),)


def test_sdem_keys_follow_table_1_1_and_3_7() -> None:
    assert SDEM.method is Method.EFFECTIVE_DATE
    assert SDEM.operational_key == ("reporting_lea", "seid", "effective_start_date")
    assert SDEM.row_key == SDEM.operational_key  # §3.7.4 lists the same three fields
    assert SDEM.timeline_key == SDEM.group_key == ("reporting_lea", "seid")
    assert (SDEM.effective_start_field, SDEM.effective_end_field) == (
        "effective_start_date", "effective_end_date")
    assert (SDEM.school_field, SDEM.lea_field) == (None, "reporting_lea")
    assert SDEM.fields[1].allowed == ("", " ", "A", "D")
    end = SDEM.fields[4]
    assert not end.required and end.note is not None and "neither be stored" in end.note
    pii = {f.id for f in SDEM.fields if f.pii}
    assert {"7.10", "7.11", "7.12", "7.13", "7.14", "7.15", "7.16"} <= pii


@pytest.mark.parametrize("layout", [SSRV, SDEM], ids=["SSRV", "SDEM"])
def test_hand_written_records_are_valid(layout: Layout) -> None:
    assert check(layout) == []


@pytest.mark.parametrize(("change", "field", "code"), [
    ({"transaction_type_code": "A"}, "15.02", "invalid-code"),
    ({"record_type_code": "SENR"}, "15.01", "invalid-code"),
    ({"meeting_or_amendment_identifier": ""}, "15.12", "required"),
    ({"ssid": "1111111111"}, "15.09", "ssid-check-digit"),  # Scenario 5's SSID
    ({"academic_year_id": "2025-2027"}, "15.08", "invalid-academic-year"),
    ({"service_duration": "60"}, "15.17", "invalid-format"),
    ({"school_of_attendance_nps": "1234567"}, "15.05", "conditional-value"),
    ({"special_education_service_provider_code": "400"}, "15.07", "conditional-required"),
    ({"nonpublic_agency_identifier": "NPA000001"}, "15.14", "conditional-value"),
    ({"service_frequency_code": ""}, "15.16", "conditional-required"),
    ({"academic_year_id": "2027-2028"}, "15.08", "date-window"),  # submitted in 2025-2026
    ({"service_duration": "0009"}, "15.17", "conditional-value"),
])
def test_ssrv_wrong_value_is_located(change: dict[str, str], field: str, code: str) -> None:
    assert check(SSRV, **change) == [(field, code)]


def test_ssrv_limits_themselves_pass() -> None:
    # "no more than one year in the future" (15.08); "greater than or equal to 10 minutes" (15.17)
    assert check(SSRV, academic_year_id="2026-2027") == []
    assert check(SSRV, service_duration="0010") == []


@pytest.mark.parametrize(("change", "field", "code"), [
    ({"transaction_type_code": "R"}, "7.02", "invalid-code"),
    ({"effective_start_date": "20251301"}, "7.04", "invalid-date"),
    ({"reporting_lea": "123456"}, "7.06", "invalid-format"),
    ({"staff_highest_degree_code": ""}, "7.26", "required"),
    ({"staff_gender_code": "Q"}, "7.17", "invalid-code"),
    ({"staff_service_years_lea": "x1"}, "7.30", "invalid-number"),
    ({"staff_alias_first_name": "Jo Ann", "staff_alias_last_name": "Li"}, "7.13",
     "invalid-characters"),
    ({"staff_alias_last_name": "Jones"}, "7.13", "conditional-required"),
    ({"staff_ethnicity_missing_indicator": "Y"}, "7.18", "conditional-blank"),
    ({"staff_ethnicity_missing_indicator": "N", "staff_hispanic_ethnicity_indicator": ""},
     "7.18", "conditional-required"),
    ({"staff_race_missing_indicator": "Y"}, "7.20", "conditional-blank"),
    ({"staff_employment_end_date": "20070731"}, "7.29", "date-order"),
    ({"staff_employment_start_date": "20260401"}, "7.28", "date-window"),
    # 7.18 and 7.19 Required: with the Ethnicity Missing Indicator blank, the Hispanic Ethnicity
    # Indicator is required
    ({"staff_hispanic_ethnicity_indicator": ""}, "7.18", "conditional-required"),
    # 7.20 Required: with the Race Missing Indicator blank, Race 1 is required (7.25 Required: no
    # race code at all)
    ({"staff_race_1_code": ""}, "7.20", "conditional-required"),
    ({"staff_race_1_code": "", "staff_race_2_code": "600"}, "7.20", "conditional-required"),
    # 7.30 #3, 7.31 #2: at least 1 year
    ({"staff_service_years_lea": "0"}, "7.30", "conditional-value"),
    # 7.30 #1: the years in this LEA are at most the years in all LEAs (12 in the record)
    ({"staff_service_years_lea": "13"}, "7.30", "conditional-value"),
])
def test_sdem_wrong_value_is_located(change: dict[str, str], field: str, code: str) -> None:
    assert check(SDEM, **change) == [(field, code)]


def test_sdem_missing_indicators_and_first_years_pass() -> None:
    # 7.18-7.25: an ethnicity or race intentionally left blank is said by its Missing Indicator
    assert check(SDEM, staff_hispanic_ethnicity_indicator="",
                 staff_ethnicity_missing_indicator="Y") == []
    assert check(SDEM, staff_race_1_code="", staff_race_missing_indicator="Y") == []
    # 7.30, 7.31: "If this is the first year of service, enter 1"
    assert check(SDEM, staff_service_years_lea="1", staff_service_years_total="1") == []
    # 7.30 #1: all of the years in this LEA
    assert check(SDEM, staff_service_years_lea="12") == []


def test_sdem_total_service_years_of_0_is_reported_on_both_service_fields() -> None:
    # 7.31 #2 at least 1; and the LEA's 10 years are then more than the total (7.30 #1)
    assert sorted(check(SDEM, staff_service_years_total="0")) == [
        ("7.30", "conditional-value"), ("7.31", "conditional-value")]


def test_deletes_need_only_their_keys() -> None:
    assert check(SSRV, **delete_only(SSRV)) == []
    # the Required columns conditioned on a blank Missing Indicator do not apply to a Delete
    assert check(SDEM, **delete_only(SDEM)) == []
    assert check(SDEM, **delete_only(SDEM)) == []
    assert check(SDEM, **delete_only(SDEM, seid="")) == [("7.08", "required")]


def test_sdem_submitted_end_date_is_not_checked_against_the_start() -> None:
    assert check(SDEM, effective_end_date="20240101") == []  # before the start: not validated
