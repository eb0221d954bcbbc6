"""Helpers of the format tests: a file through the offline path (intake, reader, rules)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from edcs.offline import Report, validate_file
from shared.catalog.loader import default_catalog
from tests.unit.senr_rows import senr_row

DATA = Path(__file__).resolve().parents[1] / "data" / "formats"
TODAY = dt.date(2025, 10, 1)
ODE_HEADER = ("ssid,legal_last,legal_first,preferred_last,preferred_first,dob,gender,ssn,"
              "resident_district,district_student_id,attending_district,attending_school,"
              "enrolled_grade")


def check(path: Path, collection: str, **kwargs: object) -> Report:
    """``edcs validate`` of one file, as a Report."""
    return validate_file(path, collection, default_catalog(), today=TODAY,
                         **kwargs)  # type: ignore[arg-type]


def located(report: Report) -> list[tuple[int | None, str | None, str]]:
    """(row, field title, code) of every issue."""
    return [(i.row, i.field_name, i.code) for i in report.issues]


def senr_text(count: int = 3, end: str = "\r\n") -> str:
    """A clean SENR file of ``count`` records (one enrollment each: start dates differ)."""
    return "".join(",".join(senr_row(local_record_id=str(n),
                                     enrollment_start_date=f"202508{n % 28 + 1:02d}")) + end
                   for n in range(1, count + 1))


def ode_row(**changes: str) -> list[str]:
    """A valid ODE-SSID record (design.md §2 columns)."""
    row = {"ssid": "", "legal_last": "Garcia", "legal_first": "Maria", "preferred_last": "",
           "preferred_first": "", "dob": "01032010", "gender": "F", "ssn": "",
           "resident_district": "2180", "district_student_id": "S100",
           "attending_district": "2180", "attending_school": "3001", "enrolled_grade": "10"}
    row.update(changes)
    return list(row.values())
