"""services/validate/engine.py: field checks and record rules of the SENR layout, located."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from services.validate.engine import Context, Validator, validator_for
from services.validate.rules.field import compile_field
from shared.catalog.loader import default_catalog
from shared.catalog.models import FieldSpec
from shared.issues import Issue
from shared.reader import SNIFF_BYTES, read_records, sniff
from tests.unit.senr_rows import FIELD_ID, INDEX, LAYOUT, LEA, generate, senr_row

SUBMITTED = dt.date(2025, 9, 1)  # gen_senr's start dates are 2025-08-10..30
CONTEXT = Context(institution_id=LEA, submitted_on=SUBMITTED)


@pytest.fixture(scope="module")
def validator() -> Validator:
    return validator_for(LAYOUT, default_catalog())


def check(validator: Validator, fields: list[str], row: int = 7,
          context: Context = CONTEXT) -> list[tuple[int | None, str | None, str]]:
    return [(i.row, i.field, i.code) for i in validator.validate(fields, row, context)]


def issues(validator: Validator, fields: list[str], row: int = 7) -> list[Issue]:
    return validator.validate(fields, row, CONTEXT)


def test_validator_for_builds_once(validator: Validator) -> None:
    assert validator_for(LAYOUT, default_catalog()) is validator


def test_the_hand_written_valid_record_has_no_issues(validator: Validator) -> None:
    assert check(validator, senr_row()) == []


def test_generated_clean_rows_have_no_issues(validator: Validator, tmp_path: Path) -> None:
    path = generate(tmp_path / "senr.csv", 300, errors=0.0)
    with path.open("rb") as fh:
        delimiter, problems = sniff(fh.read(SNIFF_BYTES), LAYOUT)
        assert (delimiter, problems) == (",", [])
        assert delimiter is not None
        fh.seek(0)
        found, rows = [], 0
        for raw in read_records(fh, LAYOUT, delimiter):
            rows += 1
            assert raw.fields is not None, raw.issues
            found += validator.validate(raw.fields, raw.row, CONTEXT)
    assert rows == 300
    assert found == []


# gen_senr's five deliberate errors, each planted in an otherwise valid record.
PLANTED = [
    pytest.param({"student_birth_date": "2010-13-45"}, "1.17", "invalid-date", id="bad-date"),
    pytest.param({"enrollment_status_code": "77"}, "1.23", "invalid-code", id="status-77"),
    pytest.param({"student_legal_last_name": "X" * 60}, "1.12", "max-length", id="long-last"),
    pytest.param({"ssid": "0123456789"}, "1.08", "ssid-format", id="ssid-leading-zero"),
    pytest.param({"reporting_lea": ""}, "1.04", "required", id="blank-lea"),
]


@pytest.mark.parametrize(("change", "field", "code"), PLANTED)
def test_each_generator_error_is_located(validator: Validator, change: dict[str, str],
                                         field: str, code: str) -> None:
    assert check(validator, senr_row(**change), row=12) == [(12, field, code)]


def test_generated_error_rows_each_have_their_one_expected_issue(validator: Validator,
                                                                 tmp_path: Path) -> None:
    path = generate(tmp_path / "bad.csv", 120, errors=1.0, seed=3)
    planted = [  # what gen_senr writes in which field -> (field id, code)
        ("student_birth_date", "2010-13-45", ("1.17", "invalid-date")),
        ("enrollment_status_code", "77", ("1.23", "invalid-code")),
        ("student_legal_last_name", "X" * 60, ("1.12", "max-length")),
        ("ssid", "0123456789", ("1.08", "ssid-format")),
        ("reporting_lea", "", ("1.04", "required")),
    ]
    seen = set()
    with path.open("rb") as fh:
        for raw in read_records(fh, LAYOUT, ","):
            assert raw.fields is not None
            wants = [want for name, value, want in planted if raw.fields[INDEX[name]] == value]
            assert len(wants) == 1, raw.row
            assert check(validator, raw.fields, raw.row) == [(raw.row, *wants[0])]
            seen.add(wants[0][1])
    assert seen == {"invalid-date", "invalid-code", "max-length", "ssid-format", "required"}


def test_reporting_lea_other_than_the_submitter(validator: Validator) -> None:
    other = Context(institution_id="1234567", submitted_on=SUBMITTED)
    assert check(validator, senr_row(), row=3, context=other) == [
        (3, "1.04", "reporting-lea-mismatch")]


def test_reporting_lea_not_checked_offline(validator: Validator) -> None:
    offline = Context(institution_id=None, submitted_on=SUBMITTED)
    assert check(validator, senr_row(reporting_lea="1234567"), context=offline) == []


def delete_record(**changes: str) -> list[str]:
    """A Delete (CFS §1.3.1): only School, LEA, SSID and start date (and record type) filled."""
    keep = {"record_type_code", "reporting_lea", "school_of_attendance", "ssid",
            "enrollment_start_date"}
    blanked = {name: "" for name in INDEX if name not in keep}
    return senr_row(**{**blanked, "transaction_type_code": "D", **changes})


def test_delete_with_only_its_key_fields_passes(validator: Validator) -> None:
    fields = delete_record()
    assert fields[INDEX["student_legal_first_name"]] == ""
    assert check(validator, fields) == []


def test_delete_still_needs_its_key_fields(validator: Validator) -> None:
    assert check(validator, delete_record(school_of_attendance="")) == [(7, "1.05", "required")]
    assert check(validator, delete_record(enrollment_start_date="")) == [(7, "1.22", "required")]


def test_a_blank_a_delete_passes_is_still_required_after_it() -> None:
    # The engine remembers values that passed a field's checks; a Delete passes a blank
    # Grade Level Code, an Add after it (same validator) must not.
    fresh = Validator(LAYOUT, default_catalog())
    assert check(fresh, delete_record(grade_level_code=" ")) == []
    assert check(fresh, senr_row(grade_level_code=" ")) == [(7, "1.24", "required")]


def test_add_with_blank_first_name_fails_required(validator: Validator) -> None:
    for op in ("", "A"):
        fields = senr_row(transaction_type_code=op, student_legal_first_name="")
        assert check(validator, fields) == [(7, "1.10", "required")]


def test_start_date_before_birth_date_is_date_order(validator: Validator) -> None:
    fields = senr_row(student_birth_date="20100103", enrollment_start_date="20090801")
    assert check(validator, fields) == [(7, "1.22", "date-order")]


def test_start_date_on_birth_date_is_date_order(validator: Validator) -> None:
    # "must be after Student Birth Date": equal is not after
    fields = senr_row(student_birth_date="20250827", enrollment_start_date="20250827")
    assert check(validator, fields) == [(7, "1.22", "date-order")]


def test_delete_without_ssid_is_conditional_required(validator: Validator) -> None:
    assert check(validator, delete_record(ssid="")) == [(7, "1.08", "conditional-required")]


def test_replace_without_ssid_is_conditional_required(validator: Validator) -> None:
    fields = senr_row(transaction_type_code="R", ssid="")
    assert check(validator, fields) == [(7, "1.08", "conditional-required")]


def test_add_without_ssid_is_allowed(validator: Validator) -> None:
    assert check(validator, senr_row(ssid="")) == []


def test_alias_first_name_without_alias_last_name(validator: Validator) -> None:
    fields = senr_row(student_alias_first_name="Mary")
    assert check(validator, fields) == [(7, "1.16", "conditional-required")]
    fields = senr_row(student_alias_last_name="Smith")
    assert check(validator, fields) == [(7, "1.14", "conditional-required")]
    assert check(validator, senr_row(student_alias_first_name="Mary",
                                     student_alias_last_name="Smith")) == []


def test_start_date_far_after_submission_is_date_window(validator: Validator) -> None:
    late = (SUBMITTED + dt.timedelta(days=200)).strftime("%Y%m%d")
    assert check(validator, senr_row(enrollment_start_date=late)) == [(7, "1.22", "date-window")]
    soon = (SUBMITTED + dt.timedelta(days=90)).strftime("%Y%m%d")
    assert check(validator, senr_row(enrollment_start_date=soon)) == []


@pytest.mark.parametrize(("name", "value"), [
    ("student_legal_first_name", "J@ne"),
    ("student_legal_first_name", "Maria" * 7),
    ("student_legal_last_name", "X" * 60),
    ("student_legal_last_name", "Gar<cia"),
    ("student_birth_date", "2010-13-45"),
    ("student_birth_date", "20100230"),
    ("ssid", "0123456789"),
    ("ssid", "1234567891"),
    ("ssid", "12345678901"),
    ("local_student_id", "9" * 16),
    ("student_birth_city", "L.A.#5"),
])
def test_pii_values_never_appear_in_messages(validator: Validator, name: str,
                                             value: str) -> None:
    found = issues(validator, senr_row(**{name: value}))
    assert [i.field for i in found] == [FIELD_ID[name]]
    assert value not in found[0].message
    assert found[0].field_name is not None
    assert found[0].field_name in found[0].message  # the seed's name of the field


def test_non_pii_code_value_is_quoted(validator: Validator) -> None:
    found = issues(validator, senr_row(enrollment_status_code="77"))
    assert [(i.field, i.code) for i in found] == [("1.23", "invalid-code")]
    assert "'77'" in found[0].message
    assert "Enrollment Status Code" in found[0].message


def test_every_problem_of_a_row_is_reported(validator: Validator) -> None:
    fields = senr_row(reporting_lea="", student_legal_first_name="J@ne",
                      student_birth_date="2010-13-45", enrollment_status_code="77",
                      grade_level_code="99", student_alias_first_name="Mary",
                      student_gender_code="Q")
    assert sorted(check(validator, fields)) == sorted([
        (7, "1.04", "required"),
        (7, "1.10", "invalid-characters"),
        (7, "1.16", "conditional-required"),
        (7, "1.17", "invalid-date"),
        (7, "1.18", "invalid-code"),
        (7, "1.23", "invalid-code"),
        (7, "1.24", "invalid-code"),
    ])


@pytest.mark.parametrize("name", [
    "José", "Jose\u0301",  # é precomposed and as e + combining acute (NFD)
    "Nguyễn", "O'Brien", "O\u2019Brien", "Smith-Jones", "St. John", "Mary Ann", "Zoë",
    "Muñoz", "Ørsted", "Łukasz", "Anne/Marie",
])
def test_names_with_accents_and_punctuation_pass(validator: Validator, name: str) -> None:
    fields = senr_row(student_legal_first_name=name, student_legal_last_name=name)
    assert check(validator, fields) == []


@pytest.mark.parametrize("name", ["J@ne", "Jane!", "Ja_ne", "Jane\t", "~", "Jo\u00b4se", "Jane;"])
def test_names_with_other_characters_fail(validator: Validator, name: str) -> None:
    fields = senr_row(student_legal_first_name=name)
    assert check(validator, fields) == [(7, "1.10", "invalid-characters")]


@pytest.mark.parametrize(("submitted", "action", "year", "expected"), [
    (dt.date(2025, 9, 1), "R", "2025-2026", []),
    (dt.date(2026, 6, 30), "R", "2025-2026", []),  # the year runs July 1 to June 30
    (dt.date(2026, 7, 1), "R", "2025-2026", [(7, "1.07", "replace-prior-year")]),
    (dt.date(2026, 7, 1), "A", "2025-2026", []),  # only Replace is limited to this year
])
def test_replace_only_in_the_current_academic_year(
        validator: Validator, submitted: dt.date, action: str, year: str,
        expected: list[tuple[int, str, str]]) -> None:
    fields = senr_row(transaction_type_code=action, academic_year_id=year)
    issues = validator.validate(fields, 7, Context(institution_id=LEA, submitted_on=submitted))
    assert [(i.row, i.field, i.code) for i in issues] == expected


def test_catalog_text_reaches_the_generated_checks_as_values_never_as_code() -> None:
    """The field checks are generated Python (services/validate/codegen.py); a layout's
    names, codes and patterns are read as objects, so quotes, newlines and code in them are
    just text in a message."""
    hostile = '")\nraise SystemExit(1)\n#'
    spec = FieldSpec(id=hostile, name="x", title=f"{hostile}'''", max_length=40,
                     required=True, allowed=(hostile, "A\"B"), pattern='[A-Z"\']+\\n?')
    check = compile_field(spec, default_catalog().codesets)
    assert check('A"B', 1) is None
    blank = check("", 3)
    assert blank is not None and (blank.code, blank.field) == ("required", hostile)
    assert blank.message == f"{hostile}''' ({hostile}) is required."
    wrong = check("C", 4)
    assert wrong is not None and wrong.code == "invalid-code"
    assert wrong.message == f"{hostile}''' ({hostile}) 'C' is not a valid allowed code."
    odd = check(hostile, 5)  # an allowed code that the pattern refuses
    assert odd is not None and odd.code == "invalid-format"
