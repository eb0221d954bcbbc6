"""SENR Enrollment Exit Date against the Enrollment Start Date (CFS v14.1 Table 3-1, 1.25
validation 2): "If Student Exit Reason Code = N470 (NoShow) THEN Enrollment Exit Date must be
equal to or one day prior to the Enrollment Start Date ELSE Must be greater than or equal to
Enrollment Start Date". Found in the new-user trial: an exit before the start was accepted.

The records are hand-written (tests/unit/senr_rows.py); the start date is 20250827 there.
"""

from __future__ import annotations

import datetime as dt

import pytest

from services.validate.engine import Context, Validator
from shared.catalog.loader import default_catalog
from tests.unit.senr_rows import LAYOUT, senr_row

CONTEXT = Context(institution_id=None, submitted_on=dt.date(2025, 9, 1))
VALIDATOR = Validator(LAYOUT, default_catalog())


def exit_issues(exit_date: str, reason: str) -> list[tuple[str | None, str, str | None]]:
    record = senr_row(enrollment_exit_date=exit_date, student_exit_reason_code=reason,
                      enrollment_start_date="20250827")
    return [(i.field_name, i.code, i.rule_id) for i in VALIDATOR.validate(record, 4, CONTEXT)]


@pytest.mark.parametrize("exit_date", ["20250827", "20250828", "20250829"])
def test_an_exit_on_or_after_the_start_is_valid(exit_date: str) -> None:
    assert exit_issues(exit_date, "E140") == []


@pytest.mark.parametrize("exit_date", ["20250826", "20250101"])
def test_an_exit_before_the_start_is_a_date_order_error_on_the_exit_date(exit_date: str) -> None:
    assert exit_issues(exit_date, "E140") == [
        ("Enrollment Exit Date", "date-order", "SENR-R032")]


@pytest.mark.parametrize("exit_date", ["20250827", "20250826"])
def test_a_no_show_exits_on_the_start_or_the_day_before(exit_date: str) -> None:
    assert exit_issues(exit_date, "N470") == []


@pytest.mark.parametrize("exit_date", ["20250825", "20250828", "20250915"])
def test_a_no_show_exit_on_any_other_day_is_an_error(exit_date: str) -> None:
    assert exit_issues(exit_date, "N470") == [
        ("Enrollment Exit Date", "date-order", "SENR-R033")]


def test_the_no_show_day_before_crosses_a_month() -> None:
    record = senr_row(enrollment_exit_date="20250831", student_exit_reason_code="N470",
                      enrollment_start_date="20250901")
    assert VALIDATOR.validate(record, 4, CONTEXT) == []
