"""CRSE and CRSC layouts (CFS v14.1 §3.9, Table 3-9, shared by both record types): fields, keys,
and validation of hand-written records.

Expectations are written from the seed's field table, not from the layout files."""

from __future__ import annotations

import datetime as dt

import pytest

from services.validate.engine import Context, Validator
from shared.catalog.loader import default_catalog
from shared.catalog.models import Method

CATALOG = default_catalog()
LEA = "1964733"
CONTEXT = Context(institution_id=LEA, submitted_on=dt.date(2025, 9, 1))

# A departmentalized grade 9 algebra section (Table 3-9 descriptions), in layout order.
CRSE: dict[str, str] = {
    "record_type_code": "CRSE",
    "transaction_type_code": "",
    "local_record_id": "1",
    "reporting_lea": LEA,
    "school_of_course_delivery": "6000202",
    "academic_year_id": "2025-2026",
    "crs_state_course_code": "2403",
    "crs_local_course_id": "ALG1",
    "crs_course_name": "Algebra 1",
    "filler_1": "",
    "filler_2": "",
    "crs_cte_postsecondary_articulated_course_indicator": "",
    "crs_uc_csu_approved_indicator": "Y",
    "course_section_id": "0101",
    "academic_term_code": "FY",
    "seid": "1000012345",
    "local_staff_id": "78995",
    "class_id": "1234ALG1",
    "course_section_instructional_level_code": "",
    "education_service_code": "",
    "language_of_instruction_code": "",
    "instructional_strategy_code": "",
    "independent_study_indicator": "N",
    "distance_learning_indicator": "N",
    "multiple_teacher_code": "",
    "education_program_funding_source_code": "",
    "cte_course_section_provider_code": "",
    "course_content_area_subcategory_code": "",
    "crs_departmentalized_course_standards_grade_level_range_code": "HS",
    "crs_content_standards_alignment_code": "1",
    "filler_3": "",
    "ap_ib_course_code_cross_reference": "",
    "online_course_instruction_type_code": "",
    "middle_school_core_setting_indicator": "",
    "local_assignment_option_code": "",
    "high_quality_cte_course_indicator": "",
}
VALID = {"CRSE": CRSE,
         "CRSC": {**CRSE, "record_type_code": "CRSC", "academic_year_id": "2024-2025",
                  "class_id": ""}}
SELF_CONTAINED = {"crs_state_course_code": "1000",
                  "crs_departmentalized_course_standards_grade_level_range_code": ""}


def row(record_type: str, **changes: str) -> list[str]:
    valid = VALID[record_type]
    assert set(changes) <= set(valid), set(changes) - set(valid)
    return list({**valid, **changes}.values())


def check(record_type: str, fields: list[str]) -> list[tuple[str | None, str]]:
    validator = Validator(CATALOG.layouts[record_type], CATALOG)
    return [(i.field, i.code) for i in validator.validate(fields, 5, CONTEXT)]


@pytest.mark.parametrize("record_type", ["CRSE", "CRSC"])
def test_fields_run_9_01_to_9_36_in_order(record_type: str) -> None:
    layout = CATALOG.layouts[record_type]
    assert [f.id for f in layout.fields] == [f"9.{n:02d}" for n in range(1, 37)]
    assert [f.name for f in layout.fields] == list(CRSE)
    required = ["9.01", "9.04", "9.05", "9.06", "9.07", "9.08", "9.09", "9.13", "9.14", "9.15",
                "9.16", "9.17", "9.23", "9.24", "9.30"]
    if record_type == "CRSE":
        required.insert(12, "9.18")  # Class ID: If Record Type Code = CRSE Then Y; Else N
    assert [f.id for f in layout.fields if f.required] == required
    assert {f.id for f in layout.fields if f.pii} == {"9.16", "9.17"}  # staff identifiers


@pytest.mark.parametrize("record_type", ["CRSE", "CRSC"])
def test_keys_follow_table_1_1_and_3_9(record_type: str) -> None:
    layout = CATALOG.layouts[record_type]
    assert layout.method is Method.REPLACEMENT
    assert layout.operational_key == ("school_of_course_delivery", "academic_year_id",
                                      "academic_term_code")
    assert layout.row_key == ("school_of_course_delivery", "academic_year_id",
                              "academic_term_code", "crs_local_course_id", "course_section_id",
                              "seid")  # §3.9.4
    assert (layout.school_field, layout.lea_field) == ("school_of_course_delivery",
                                                       "reporting_lea")
    assert layout.fields[1].allowed == ("", " ", "D", "R")
    assert CATALOG.collection(record_type) is not None


@pytest.mark.parametrize("record_type", ["CRSE", "CRSC"])
@pytest.mark.parametrize("changes", [
    {},
    SELF_CONTAINED,
    {"crs_state_course_code": "9130", "course_content_area_subcategory_code": "PIANO"},
    {"crs_departmentalized_course_standards_grade_level_range_code": "NOT",
     "crs_content_standards_alignment_code": "3"},
    {"crs_departmentalized_course_standards_grade_level_range_code": "MID",
     "middle_school_core_setting_indicator": "Y"},
    {"distance_learning_indicator": "Y", "online_course_instruction_type_code": "1"},
    {"education_service_code": "1", "language_of_instruction_code": "01"},
    {"ap_ib_course_code_cross_reference": "2170", "crs_state_course_code": "7100",
     "high_quality_cte_course_indicator": "Y", "cte_course_section_provider_code": "1"},
    {"seid": "9999999999", "course_section_instructional_level_code": "24",
     "crs_state_course_code": "9020"},
], ids=["algebra", "self-contained", "subcategory", "not-applicable", "middle-core",
        "distance", "el-service", "cte", "college"])
def test_hand_written_valid_records_have_no_issues(record_type: str,
                                                   changes: dict[str, str]) -> None:
    assert check(record_type, row(record_type, **changes)) == []


BOTH = [
    ({"transaction_type_code": "A"}, "9.02", "invalid-code"),
    ({"reporting_lea": "7777777"}, "9.04", "reporting-lea-mismatch"),
    # 9.05 #3 "must not be an NPS school or a Private School Group"
    ({"school_of_course_delivery": "0000001"}, "9.05", "invalid-format"),
    ({"school_of_course_delivery": "0000002"}, "9.05", "invalid-format"),
    ({"academic_year_id": "2025-26"}, "9.06", "invalid-academic-year"),
    ({"crs_state_course_code": ""}, "9.07", "required"),  # Required Y (no local mapping)
    ({"crs_course_name": ""}, "9.09", "required"),
    ({"crs_cte_postsecondary_articulated_course_indicator": "X"}, "9.12", "invalid-code"),
    ({"crs_uc_csu_approved_indicator": ""}, "9.13", "required"),
    ({"academic_term_code": "FALL"}, "9.15", "max-length"),
    ({"seid": ""}, "9.16", "required"),
    ({"distance_learning_indicator": "X"}, "9.24", "invalid-code"),
    # 9.28 Required: subcategory for the listed State Course Codes (9130-37 included)
    ({"crs_state_course_code": "9134"}, "9.28", "conditional-required"),
    # 9.28 #2: blank for any other State Course Code (reported on 9.07)
    ({"course_content_area_subcategory_code": "PIANO"}, "9.07", "conditional-value"),
    # 9.29 Required: If State Course Code does not = 1000 Then Y (reported on 9.07)
    ({"crs_departmentalized_course_standards_grade_level_range_code": ""}, "9.07",
     "conditional-value"),
    # 9.30 #1: NOT requires 3; #2: 3 requires NOT (reported on 9.29)
    ({"crs_departmentalized_course_standards_grade_level_range_code": "NOT"}, "9.30",
     "conditional-value"),
    ({"crs_content_standards_alignment_code": "3"}, "9.29", "conditional-value"),
    ({"crs_content_standards_alignment_code": ""}, "9.30", "required"),
    # 9.33: blank when Distance Learning Indicator is N; required when it is Y
    ({"online_course_instruction_type_code": "1"}, "9.33", "conditional-blank"),
    ({"distance_learning_indicator": "Y"}, "9.33", "conditional-required"),
    # 9.34 Required: MID needs Y or N
    ({"crs_departmentalized_course_standards_grade_level_range_code": "MID"}, "9.34",
     "conditional-required"),
    ({"high_quality_cte_course_indicator": "X"}, "9.36", "invalid-code"),
]


@pytest.mark.parametrize(("changes", "field", "code"), BOTH)
@pytest.mark.parametrize("record_type", ["CRSE", "CRSC"])
def test_one_wrong_value_gives_one_located_issue(record_type: str, changes: dict[str, str],
                                                 field: str, code: str) -> None:
    assert check(record_type, row(record_type, **changes)) == [(field, code)]


@pytest.mark.parametrize(("record_type", "changes", "expected"), [
    ("CRSE", {"record_type_code": "CRSC"}, [("9.01", "invalid-code")]),
    ("CRSC", {"record_type_code": "CRSE"}, [("9.01", "invalid-code")]),
    ("CRSE", {"class_id": ""}, [("9.18", "required")]),
    ("CRSC", {"class_id": "1234ALG1"}, []),  # not required, not stored
    # 9.21 Required: If Record Type Code = CRSE AND Education Service Code = 1 Then Y
    ("CRSE", {"education_service_code": "1"}, [("9.21", "conditional-required")]),
    ("CRSC", {"education_service_code": "1"}, []),
])
def test_the_two_record_types_differ(record_type: str, changes: dict[str, str],
                                     expected: list[tuple[str, str]]) -> None:
    assert check(record_type, row(record_type, **changes)) == expected


@pytest.mark.parametrize("record_type", ["CRSE", "CRSC"])
def test_delete_needs_only_the_replacement_key(record_type: str) -> None:
    layout = CATALOG.layouts[record_type]
    keep = {*layout.operational_key, "record_type_code", "reporting_lea"}
    fields = row(record_type, **{**{n: "" for n in CRSE if n not in keep},
                                 "transaction_type_code": "D"})
    assert check(record_type, fields) == []


def located(record_type: str, fields: list[str]) -> list[tuple[int, str | None, str]]:
    validator = Validator(CATALOG.layouts[record_type], CATALOG)
    return [(i.row, i.field, i.code) for i in validator.validate(fields, 5, CONTEXT)]


CTE = {"crs_state_course_code": "7100", "cte_course_section_provider_code": "1",
       "high_quality_cte_course_indicator": "N"}


@pytest.mark.parametrize("record_type", ["CRSE", "CRSC"])
@pytest.mark.parametrize(("changes", "expected"), [
    # 9.07 #1: a CTE Course Section Provider Code needs a CTE State Course Code (7000-8999)
    ({"cte_course_section_provider_code": "1"}, [("9.07", "conditional-value")]),
    ({"crs_state_course_code": "6999", "cte_course_section_provider_code": "1"},
     [("9.07", "conditional-value")]),
    # 9.27 Required and 9.36 part 2: a CTE State Course Code needs both fields
    ({"crs_state_course_code": "7100"}, [("9.27", "conditional-required"),
                                         ("9.36", "conditional-required")]),
    ({**CTE, "cte_course_section_provider_code": ""}, [("9.27", "conditional-required")]),
    ({**CTE, "crs_state_course_code": "8999", "high_quality_cte_course_indicator": ""},
     [("9.36", "conditional-required")]),
    # 9.32 #1: an AP/IB cross reference needs a CTE State Course Code
    ({"ap_ib_course_code_cross_reference": "2170"}, [("9.07", "conditional-value")]),
    # 9.36 part 1: High Quality CTE Course Indicator blank outside 7000-8999
    ({"high_quality_cte_course_indicator": "Y"}, [("9.07", "conditional-value")]),
    # 9.06: the academic year cannot be in the future (submitted in 2025-2026)
    ({"academic_year_id": "2026-2027"}, [("9.06", "date-window")]),
    ({**CTE, "crs_state_course_code": "7000", "ap_ib_course_code_cross_reference": "2170",
      "academic_year_id": "2025-2026"}, []),
])
def test_cte_range_and_future_year(record_type: str, changes: dict[str, str],
                                   expected: list[tuple[str, str]]) -> None:
    assert located(record_type, row(record_type, **changes)) == [(5, f, c) for f, c in expected]


@pytest.mark.parametrize(("record_type", "language", "expected"), [
    # 9.21: If Record Type Code = CRSE AND Education Service Code = 1 Then not 00 or 37
    ("CRSE", "00", [(5, "9.21", "conditional-value")]),
    ("CRSE", "37", [(5, "9.21", "conditional-value")]),
    ("CRSE", "01", []),
    ("CRSC", "00", []),
])
def test_english_learner_service_is_not_in_english(record_type: str, language: str,
                                                   expected: list[tuple[int, str, str]]) -> None:
    fields = row(record_type, education_service_code="1", language_of_instruction_code=language)
    assert located(record_type, fields) == expected
