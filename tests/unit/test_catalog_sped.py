"""SPED layout (CFS v14.1 §3.14, Table 3-14): fields, keys, and validation of hand-written records.

Expectations are written from the seed's field table, not from the layout file."""

from __future__ import annotations

import datetime as dt

import pytest

from services.validate.engine import Context, Validator
from shared.catalog.loader import default_catalog
from shared.catalog.models import Method

CATALOG = default_catalog()
LAYOUT = CATALOG.layouts["SPED"]
LEA = "1964733"
CONTEXT = Context(institution_id=LEA, submitted_on=dt.date(2025, 9, 1))
TRANSITION = ["iep_includes_postsecondary_goals_indicator",
              "postsecondary_goals_updated_annually_indicator",
              "postsecondary_goals_age_appropriate_transition_assessment_indicator",
              "transition_services_in_iep_indicator", "supportive_services_indicator",
              "transition_services_goals_in_iep_indicator", "student_iep_participation_indicator",
              "agency_representative_iep_participation_code"]

# The annual IEP meeting (type 20, plan 100) of a 15-year-old, from the Table 3-14 descriptions
# and the XML sample, in layout order.
VALID: dict[str, str] = {
    "record_type_code": "SPED",
    "transaction_type_code": "",
    "local_record_id": "1",
    "reporting_lea": LEA,
    "school_of_attendance": "6000202",
    "school_of_attendance_nps": "",
    "academic_year_id": "2025-2026",
    "ssid": "1234567890",
    "local_student_id": "384734",
    "local_special_education_student_id": "SE-384734",
    "student_legal_first_name": "Peter",
    "student_legal_last_name": "Perrier",
    "student_birth_date": "20100221",
    "student_gender_code": "M",
    "reporting_selpa": "1950",
    "district_of_special_education_accountability": LEA,
    "special_education_referral_date": "20180110",
    "referring_party_code": "10",
    "initial_evaluation_parental_consent_date": "",
    "special_education_meeting_type_code": "20",
    "special_education_meeting_date": "20250815",
    "meeting_or_amendment_identifier": "IEP-20250815-001",
    "meeting_delay_code": "",
    "education_plan_type_code": "100",
    "education_plan_amendment_date": "",
    "primary_residence_code": "140",
    "special_education_initial_entry_start_date": "20180301",
    "disability_1_code": "320",
    "disability_2_code": "200",
    "infant_regional_center_services_eligibility_indicator": "",
    "special_education_program_setting_code": "500",
    "preschool_program_setting_service_location_code": "",
    "ten_or_more_weekly_hours_in_setting_indicator": "",
    "general_education_participation_percentage_range_code": "2",
    "special_education_program_type_code": "",
    **dict.fromkeys(TRANSITION, ""),
    "special_transportation_indicator": "N",
    "parental_involvement_facilitation_code": "10",
    "special_education_program_exit_date": "",
    "filler_1": "",
    "filler_2": "",
    "special_education_program_exit_reason_code": "",
    "student_hispanic_ethnicity_indicator": "Y",
    "student_ethnicity_missing_indicator": "",
    "student_race_1_code": "600",
    "student_race_2_code": "",
    "student_race_3_code": "",
    "student_race_4_code": "",
    "student_race_5_code": "",
    "student_race_missing_indicator": "",
}
PLAN_FIELDS = ["primary_residence_code", "special_education_initial_entry_start_date",
               "disability_1_code", "disability_2_code", "special_education_program_setting_code",
               "general_education_participation_percentage_range_code"]
# A pending evaluation: Meeting Type 30 and Plan Type 300, no meeting yet.
PENDING = {"special_education_meeting_type_code": "30", "special_education_meeting_date": "",
           "meeting_or_amendment_identifier": "", "education_plan_type_code": "300",
           **dict.fromkeys(PLAN_FIELDS, "")}
INITIAL = {"special_education_meeting_type_code": "10",
           "initial_evaluation_parental_consent_date": "20250701"}
IFSP = {"education_plan_type_code": "150", "special_education_program_type_code": "100"}


def row(**changes: str) -> list[str]:
    assert set(changes) <= set(VALID), set(changes) - set(VALID)
    return list({**VALID, **changes}.values())


@pytest.fixture(scope="module")
def validator() -> Validator:
    return Validator(LAYOUT, CATALOG)


def check(validator: Validator, fields: list[str]) -> list[tuple[str | None, str]]:
    return [(i.field, i.code) for i in validator.validate(fields, 5, CONTEXT)]


def test_fields_run_14_01_to_14_57_in_order() -> None:
    assert [f.id for f in LAYOUT.fields] == [f"14.{n:02d}" for n in range(1, 58)]
    assert [f.name for f in LAYOUT.fields] == list(VALID)
    # requirements.md §3.1: 14.01, 14.04, 14.05, 14.07, 14.08, 14.10-14.16, 14.20, 14.24
    assert [f.id for f in LAYOUT.fields if f.required] == [
        "14.01", "14.04", "14.05", "14.07", "14.08", "14.10", "14.11", "14.12", "14.13", "14.14",
        "14.15", "14.16", "14.20", "14.24"]
    assert {"14.08", "14.09", "14.10", "14.11", "14.12", "14.13"} <= {
        f.id for f in LAYOUT.fields if f.pii}


def test_keys_follow_table_1_1_and_3_14() -> None:
    key = ("reporting_lea", "ssid", "reporting_selpa", "special_education_meeting_date",
           "meeting_or_amendment_identifier", "education_plan_type_code",
           "education_plan_amendment_date")
    assert LAYOUT.method is Method.TRANSACTION
    assert LAYOUT.operational_key == LAYOUT.row_key == key  # §3.14.4: the same fields
    assert LAYOUT.replace_set == ("academic_year_id", "reporting_lea", "ssid")  # design.md §4
    assert (LAYOUT.school_field, LAYOUT.lea_field) == ("school_of_attendance", "reporting_lea")
    assert LAYOUT.fields[1].allowed == ("", " ", "A", "D", "R")
    assert ("reporting_lea", "meeting_or_amendment_identifier") in LAYOUT.unique_in_file
    assert CATALOG.collection("SPED") is not None


@pytest.mark.parametrize("changes", [
    {},
    INITIAL,
    {"education_plan_amendment_date": "20250820", "transaction_type_code": "A"},
    IFSP,
    PENDING,
    {"special_education_program_exit_date": "20250830",
     "special_education_program_exit_reason_code": "70"},
    {**dict.fromkeys(TRANSITION[:7], "Y"), "agency_representative_iep_participation_code": "1"},
    {"school_of_attendance": "0000001", "school_of_attendance_nps": "9999999"},
    {"disability_2_code": "281", "transaction_type_code": "R"},
], ids=["annual", "initial", "amendment", "ifsp", "pending", "exit", "transition", "nps",
        "replace"])
def test_hand_written_valid_records_have_no_issues(validator: Validator,
                                                   changes: dict[str, str]) -> None:
    assert check(validator, row(**changes)) == []


@pytest.mark.parametrize(("changes", "field", "code"), [
    ({"record_type_code": "SSRV"}, "14.01", "invalid-code"),
    ({"transaction_type_code": "X"}, "14.02", "invalid-code"),
    ({"reporting_lea": "7777777"}, "14.04", "reporting-lea-mismatch"),
    # 14.05 #2: NPS populated -> School of Attendance 0000001
    ({"school_of_attendance_nps": "1891011"}, "14.05", "conditional-value"),
    ({"academic_year_id": "2025/2026"}, "14.07", "invalid-academic-year"),
    # 14.07: "no more than one year in the future" (submitted in 2025-2026)
    ({"academic_year_id": "2027-2028"}, "14.07", "date-window"),
    ({"ssid": "1234567891"}, "14.08", "ssid-check-digit"),  # the XML sample's SSID
    ({"local_special_education_student_id": ""}, "14.10", "required"),
    ({"local_special_education_student_id": "SE#1"}, "14.10", "invalid-characters"),
    ({"student_legal_first_name": "Pe@ter"}, "14.11", "invalid-characters"),
    ({"reporting_selpa": "19A0"}, "14.15", "invalid-format"),  # "valid 4-digit SELPA code"
    ({"district_of_special_education_accountability": "234567"}, "14.16", "invalid-format"),
    # 14.17 #1 cannot be a future date; #2 on or after Student Birth Date
    ({"special_education_referral_date": "20250902"}, "14.17", "date-window"),
    ({"special_education_referral_date": "20100220"}, "14.17", "date-order"),
    # 14.17 Required: If Initial Entry Start Date is on or after 07/01/2006 Then Y
    ({"special_education_referral_date": "", "referring_party_code": ""}, "14.17",
     "conditional-required"),
    # 14.18 Required: If Special Education Referral Date is populated Then Y
    ({"referring_party_code": ""}, "14.18", "conditional-required"),
    # 14.19 Required for Meeting Types 10 and 15; #1 on or after the Referral Date
    ({"special_education_meeting_type_code": "15"}, "14.19", "conditional-required"),
    ({**INITIAL, "initial_evaluation_parental_consent_date": "20180109"}, "14.19",
     "date-order"),
    # 14.21 #1 on or after the consent date; #2 not later than the current date
    ({**INITIAL, "special_education_meeting_date": "20250630"}, "14.21", "date-order"),
    ({"special_education_meeting_date": "20250902"}, "14.21", "date-window"),
    # 14.21 Required: If Meeting Type Code does not = 30 Then Y (reported on 14.20)
    ({"special_education_meeting_date": ""}, "14.20", "conditional-value"),
    # 14.22 Required: If Special Education Meeting Date is not null Then Y
    ({"meeting_or_amendment_identifier": ""}, "14.22", "conditional-required"),
    ({"meeting_or_amendment_identifier": "IEP#1"}, "14.22", "invalid-characters"),
    # 14.25 #2 after the Meeting Date; #3 only for plans 100, 150, 200 (reported on 14.24)
    ({"education_plan_amendment_date": "20250815"}, "14.25", "date-order"),
    ({"education_plan_amendment_date": "20250902"}, "14.25", "date-window"),
    ({**PENDING, "special_education_meeting_date": "20250815",
      "meeting_or_amendment_identifier": "P-1", "education_plan_amendment_date": "20250820"},
     "14.24", "conditional-value"),
    # Required for Education Plan Type Code = 100, 150 or 200
    ({"primary_residence_code": ""}, "14.26", "conditional-required"),
    ({"special_education_initial_entry_start_date": ""}, "14.27", "conditional-required"),
    ({"special_education_initial_entry_start_date": "20250902"}, "14.27", "date-window"),
    ({"disability_2_code": ""}, "14.29", "conditional-required"),
    ({"special_education_program_setting_code": ""}, "14.31", "conditional-required"),
    # 14.28 #2 cannot = 200 (None); 14.29 #4 cannot = 310 (MD)
    ({"disability_1_code": "200"}, "14.28", "invalid-format"),
    ({"disability_2_code": "310"}, "14.29", "invalid-format"),
    # 14.29 #2: Disability 2 Code cannot = Disability 1 Code
    ({"disability_2_code": "320"}, "14.29", "conditional-value"),
    # 14.26: Primary Residence 140 (parent or guardian, or homeless) -> Program Setting not 301
    # (Residential Facility) or 402 (Correctional Facility)
    ({"special_education_program_setting_code": "301"}, "14.31", "conditional-value"),
    ({"special_education_program_setting_code": "402"}, "14.31", "conditional-value"),
    # 14.30 Required: If the Education Plan = 150 (IFSP) AND Disability 1 Code = 220, 230, 250,
    # 270, or 300 Then Y
    ({**IFSP, "disability_1_code": "270"}, "14.30", "conditional-required"),
    # 14.28 #3 / 14.29 #3: Disability 2 blank when Disability 1 is blank
    ({**PENDING, "disability_2_code": "320"}, "14.29", "conditional-blank"),
    # 14.35: populated only for plan 150, and required for it
    ({"special_education_program_type_code": "100"}, "14.24", "conditional-value"),
    ({"education_plan_type_code": "150"}, "14.35", "conditional-required"),
    # 14.36-14.43 #1: populated only for plan 100 (reported on 14.24)
    ({**IFSP, "transition_services_in_iep_indicator": "Y"}, "14.24", "conditional-value"),
    ({**IFSP, "agency_representative_iep_participation_code": "1"}, "14.24",
     "conditional-value"),
    ({"iep_includes_postsecondary_goals_indicator": "X"}, "14.36", "invalid-code"),
    # 14.46: after the meeting date, not in the future
    ({"special_education_program_exit_date": "20250815",
      "special_education_program_exit_reason_code": "70"}, "14.46", "date-order"),
    ({"special_education_program_exit_date": "20250902",
      "special_education_program_exit_reason_code": "70"}, "14.46", "date-window"),
    # 14.49 Required when the exit date is populated; populated only for plans 100, 150, 200
    ({"special_education_program_exit_date": "20250830"}, "14.49", "conditional-required"),
    ({**PENDING, "special_education_program_exit_reason_code": "70"}, "14.24",
     "conditional-value"),
    ({"student_race_missing_indicator": "X"}, "14.57", "invalid-code"),
])
def test_one_wrong_value_gives_one_located_issue(validator: Validator, changes: dict[str, str],
                                                 field: str, code: str) -> None:
    assert check(validator, row(**changes)) == [(field, code)]


def test_the_limits_of_the_newer_rules_pass(validator: Validator) -> None:
    # 14.07: one year ahead is allowed
    assert check(validator, row(academic_year_id="2026-2027")) == []
    # 14.17 Required holds from 07/01/2006 on: an earlier entry needs no referral date
    assert check(validator, row(student_birth_date="20000115",
                                special_education_initial_entry_start_date="20060630",
                                special_education_referral_date="",
                                referring_party_code="")) == []
    assert check(validator, row(student_birth_date="20000115",
                                special_education_initial_entry_start_date="20060701",
                                special_education_referral_date="",
                                referring_party_code="")) == [("14.17", "conditional-required")]
    # 14.26: a residential or correctional setting is fine for another Primary Residence Code
    assert check(validator, row(primary_residence_code="110",
                                special_education_program_setting_code="301")) == []
    # 14.30 Required: given for an IFSP with Disability 1 270; not required for an IEP with it
    assert check(validator, row(**IFSP, disability_1_code="270",
                                infant_regional_center_services_eligibility_indicator="N")) == []
    assert check(validator, row(disability_1_code="270")) == []
    # 14.29 #2: two different disabilities
    assert check(validator, row(disability_1_code="281", disability_2_code="320")) == []


def test_delete_needs_only_its_key_fields(validator: Validator) -> None:
    keep = {*LAYOUT.operational_key, "record_type_code", "reporting_lea"}
    fields = row(**{**{n: "" for n in VALID if n not in keep}, "transaction_type_code": "D"})
    assert check(validator, fields) == []
    fields[list(VALID).index("reporting_selpa")] = ""
    assert check(validator, fields) == [("14.15", "required")]
