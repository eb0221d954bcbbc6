"""SENR layout rules counted from CFS Table 3-1 (issue 12) that earlier tests do not cover, each
with a failing and a passing example."""

from __future__ import annotations

import datetime as dt

import pytest

from services.validate.engine import Context, Validator, validator_for
from shared.catalog.loader import default_catalog
from tests.unit.senr_rows import LAYOUT, LEA, senr_row

CONTEXT = Context(institution_id=LEA, submitted_on=dt.date(2025, 9, 1))


@pytest.fixture(scope="module")
def validator() -> Validator:
    return validator_for(LAYOUT, default_catalog())


def graduate(exit_date: str, completion: str) -> list[str]:
    """A student who completed school (E230) on ``exit_date``, enrolled since the August of
    the academic year before (an exit is never before the start: SENR-R032)."""
    first = int(exit_date[:4]) - (1 if exit_date[4:] < "0827" else 0)
    return senr_row(academic_year_id=f"{first}-{first + 1}", student_birth_date="19890505",
                    enrollment_start_date=f"{first}0827", grade_level_code="12",
                    enrollment_exit_date=exit_date, student_exit_reason_code="E230",
                    student_school_completion_status=completion,
                    student_met_all_uc_csu_requirements_indicator="N")


@pytest.mark.parametrize("exit_date", ["20070701", "20090612", "20090630"])
def test_cahsee_exempt_graduation_in_2007_08_or_2008_09_is_rejected(
        validator: Validator, exit_date: str) -> None:
    # 1.25 validation 3 and 1.27 validation 2: 108 not within AY 2007-2008 or 2008-2009.
    found = validator.validate(graduate(exit_date, "108"), 4, CONTEXT)
    assert [(i.field, i.code) for i in found] == [("1.27", "conditional-value")]
    assert "108" in found[0].message and "2008-2009" in found[0].message


@pytest.mark.parametrize(("exit_date", "completion"), [
    ("20070629", "108"), ("20090701", "108"), ("20090612", "100"), ("20090612", "106")])
def test_cahsee_exempt_graduation_outside_those_years_or_another_status_passes(
        validator: Validator, exit_date: str, completion: str) -> None:
    assert validator.validate(graduate(exit_date, completion), 4, CONTEXT) == []


def year_end_exit(exit_date: str, reason: str = "E155") -> list[str]:
    """A student exited at the end of the 2024-25 year, to return to the school (1.26)."""
    return senr_row(academic_year_id="2024-2025", enrollment_start_date="20240820",
                    enrollment_exit_date=exit_date, student_exit_reason_code=reason)


@pytest.mark.parametrize(("exit_date", "reason"), [
    ("20250330", "E155"), ("20250816", "E155"), ("20250110", "E156")])
def test_a_year_end_exit_outside_march_31_to_august_15_is_rejected(
        validator: Validator, exit_date: str, reason: str) -> None:
    # 1.26 validation 5: "If Exit Code equals E155 or E156, then Enrollment Exit Date must be
    # between March 31st and August 15".
    found = validator.validate(year_end_exit(exit_date, reason), 4, CONTEXT)
    assert [(i.field, i.code) for i in found] == [("1.25", "conditional-value")]


@pytest.mark.parametrize(("exit_date", "reason"), [
    ("20250331", "E155"), ("20250612", "E156"), ("20250815", "E155"), ("20250110", "T160")])
def test_a_year_end_exit_in_the_window_or_another_exit_passes(
        validator: Validator, exit_date: str, reason: str) -> None:
    assert validator.validate(year_end_exit(exit_date, reason), 4, CONTEXT) == []


def test_a_student_in_transition_must_be_17_on_the_enrollment_start_date(
        validator: Validator) -> None:
    # 1.34 validation 1: "Student age on Enrollment Start Date must be greater than or equal
    # to 17" (with Grade Level 12, SENR-R023).
    transition = {"adult_age_students_with_disabilities_in_transition_status": "Y",
                  "grade_level_code": "12", "enrollment_start_date": "20250827"}
    young = validator.validate(senr_row(**transition, student_birth_date="20080828"), 4, CONTEXT)
    assert [(i.field, i.code, i.fatal) for i in young] == [("1.22", "age-out-of-range", True)]
    assert validator.validate(senr_row(**transition, student_birth_date="20080827"), 4,
                              CONTEXT) == []


@pytest.mark.parametrize(("grade", "born", "warned"), [
    ("AD", "20100103", True),  # 15: an adult student should be at least 16
    ("AD", "20090827", False),  # 16 on the start date
    ("AD", "19450828", False),  # 79
    ("AD", "19450827", True),  # 80: "less than 80"
    ("10", "20020828", False),  # 22
    ("10", "20020827", True),  # 23: other grades at most 22
    ("KN", "20210827", False),  # 4
    ("KN", "20210828", True),  # 3
    ("KN", "20170828", False),  # 7
    ("KN", "20170827", True),  # 8
])
def test_an_age_unusual_for_the_grade_is_a_warning(validator: Validator, grade: str, born: str,
                                                   warned: bool) -> None:
    # 1.17 validations 1 and 2 ("should"), ages on the Enrollment Start Date 2025-08-27.
    found = validator.validate(senr_row(grade_level_code=grade, student_birth_date=born), 4,
                               CONTEXT)
    assert [(i.field, i.code, i.fatal) for i in found] == (
        [("1.22", "age-unexpected", False)] if warned else [])


@pytest.mark.parametrize(("born", "completion", "fails"), [
    ("20090613", "320", True),  # 15 on the exit date 2025-06-12
    ("20090612", "320", False),  # 16 that day
    ("20090613", "330", False),  # another completion status: not this rule
])
def test_an_e230_exit_with_320_needs_16_on_the_exit_date(
        validator: Validator, born: str, completion: str, fails: bool) -> None:
    # 1.17 validation 3, 1.25 validation 5, 1.27 validation 3: "If Student Exit Category equals
    # E230 and School Completion Status Code equals 320; then Student Age must be greater than
    # or equal to 16 on the Exit Date".
    fields = senr_row(academic_year_id="2024-2025", student_birth_date=born,
                      enrollment_start_date="20240820", enrollment_exit_date="20250612",
                      student_exit_reason_code="E230",
                      student_school_completion_status=completion)
    found = validator.validate(fields, 4, CONTEXT)
    assert [(i.field, i.code) for i in found] == ([("1.25", "age-out-of-range")] if fails else [])


@pytest.mark.parametrize(("school", "grade", "fails"), [
    ("6000202", "05", True),  # a non-ADA student of grade 5 at a public school
    ("0000002", "05", False),  # at the Private School Group
    ("6000202", "PS", False),  # preschool: not KN-12
])
def test_a_non_ada_student_of_kn_to_12_is_at_the_private_school_group(
        validator: Validator, school: str, grade: str, fails: bool) -> None:
    # 1.23 validation 4: "If Enrollment Status Code equal to 50 AND Student Grade Level Code =
    # KN, 01, ... 12 Then Student must be enrolled in Private School-00000002".
    found = validator.validate(senr_row(enrollment_status_code="50", grade_level_code=grade,
                                        school_of_attendance=school), 4, CONTEXT)
    assert [(i.field, i.code) for i in found] == ([("1.05", "conditional-value")] if fails
                                                  else [])
