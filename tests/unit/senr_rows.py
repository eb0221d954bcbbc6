"""Hand-written SENR records for unit tests (CFS v14.1 Table 3-1, fields 1.01-1.34).

The base record is written from the seed's field list, not copied from the code's output: every
value is one the layout's Comments column or code sets allow.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from shared.catalog.loader import default_catalog

GEN_SENR = Path(__file__).resolve().parents[3] / "shared" / "tools" / "gen_senr.py"
LEA = "1964733"  # the institution gen_senr writes in Reporting LEA

# 34 fields, in layout order (field id 1.01 first).
VALID: dict[str, str] = {
    "record_type_code": "SENR",
    "transaction_type_code": "",
    "local_record_id": "1",
    "reporting_lea": LEA,
    "school_of_attendance": "6000202",
    "school_of_attendance_nps": "",
    "academic_year_id": "2025-2026",
    "ssid": "1234567890",  # the seed's own valid example (CFS 1.08)
    "local_student_id": "100001",
    "student_legal_first_name": "Maria",
    "student_legal_middle_name": "",
    "student_legal_last_name": "Garcia",
    "student_legal_name_suffix_code": "",
    "student_alias_first_name": "",
    "student_alias_middle_name": "",
    "student_alias_last_name": "",
    "student_birth_date": "20100103",
    "student_gender_code": "F",
    "student_birth_city": "Los Angeles",
    "student_birth_state_province_code": "US-CA",
    "student_birth_country_code": "US",
    "enrollment_start_date": "20250827",
    "enrollment_status_code": "10",
    "grade_level_code": "10",
    "enrollment_exit_date": "",
    "student_exit_reason_code": "",
    "student_school_completion_status": "",
    "expected_receiver_school_of_attendance": "",
    "student_met_all_uc_csu_requirements_indicator": "",
    "student_school_transfer_code": "",
    "district_of_geographic_residence_code": "",
    "student_golden_state_seal_merit_diploma_indicator": "",
    "student_seal_of_biliteracy_indicator": "",
    "adult_age_students_with_disabilities_in_transition_status": "",
}

LAYOUT = default_catalog().layouts["SENR"]
NAMES = [f.name for f in LAYOUT.fields]
assert list(VALID) == NAMES, "the test record must follow the layout's field order"
INDEX = {name: i for i, name in enumerate(NAMES)}
FIELD_ID = {f.name: f.id for f in LAYOUT.fields}


def senr_row(**changes: str) -> list[str]:
    """A valid SENR record with some fields changed (by field name)."""
    unknown = set(changes) - set(VALID)
    assert not unknown, f"not SENR fields: {unknown}"
    return list({**VALID, **changes}.values())


def line(fields: list[str], delimiter: str = ",", end: str = "\r\n") -> bytes:
    """One physical line of a header-less file."""
    return (delimiter.join(fields) + end).encode("utf-8")


def generate(path: Path, n: int, *, errors: float = 0.0, seed: int = 7,
             caret: bool = False) -> Path:
    """Write a gen_senr file (the project's synthetic load-test generator)."""
    args = [sys.executable, str(GEN_SENR), str(n), str(path), "--seed", str(seed),
            "--errors", str(errors)]
    if caret:
        args.append("--caret")
    subprocess.run(args, check=True, timeout=60)
    return path
