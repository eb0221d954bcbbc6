"""SSCE (seed 000, Step 2): the academic year is the collection's, from its window, the same in
`edcs validate` and in the validate stage; the other field rules of Step 2.2."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from edcs.offline import validate_file
from services.validate.worker import validate_batch
from shared.catalog.loader import default_catalog
from shared.events.models import Record, RecordBatch
from shared.privacy import Hasher
from shared.windows import collection_year, parse

CATALOG = default_catalog()
HEADER = "academic_year,cds_code,ssid,local_student_id,grade_level,doc_type\r\n"
# Two SSCE windows in spring, as the seed's "Import SSCE Data for 2023-2024".
WINDOWS = tuple(parse("collection,academic_year,window,opens,closes\n"
                      "SSCE,2023-2024,Seal,2024-01-08,2024-06-14\n"
                      "SSCE,2024-2025,Seal,2025-01-13,2025-06-13\n"
                      "SENR,2030-2031,Fall 1,2030-10-01,2030-12-20\n"))
IN_WINDOW = dt.date(2024, 3, 1)


def ssce(year: str = "2023-2024", cds: str = "19647330000001", ssid: str = "1234567890",
         local: str = "a1", grade: str = "12", doc: str = "D") -> str:
    return f"{year},{cds},{ssid},{local},{grade},{doc}\r\n"


def offline(tmp_path: Path, *rows: str, on: dt.date = IN_WINDOW) -> list[tuple[int | None, str |
                                                                              None, str]]:
    path = tmp_path / "ssce.csv"
    path.write_text(HEADER + "".join(rows))
    report = validate_file(path, "SSCE", CATALOG, today=on, windows=WINDOWS)
    return [(i.row, i.field, i.code) for i in report.issues]


def pipeline(*rows: str, on: dt.date = IN_WINDOW) -> list[tuple[int | None, str | None, str]]:
    records = [Record(row=n, fields=r.strip().split(",")) for n, r in enumerate(rows, 2)]
    batch = RecordBatch(submission_id=1, collection="SSCE", institution_id="1964733",
                        submitted_on=on, records=records)
    out = validate_batch(batch, CATALOG, Hasher(b"k" * 32), WINDOWS)
    return [(i.row, i.field, i.code) for r in out.records for i in r.issues]


def test_the_year_of_the_open_window_is_the_only_one_accepted(tmp_path: Path) -> None:
    rows = (ssce(), ssce("2022-2023", ssid="1000000001", local="a2"),
            ssce("2024-2025", ssid="2000000002", local="a3"))
    wrong = [(3, "1", "not-collection-year"), (4, "1", "not-collection-year")]
    assert offline(tmp_path, *rows) == wrong
    assert pipeline(*rows) == wrong  # the validate stage says the same


def test_the_message_names_the_year_and_its_window(tmp_path: Path) -> None:
    path = tmp_path / "ssce.csv"
    path.write_text(HEADER + ssce("2022-2023"))
    [issue] = validate_file(path, "SSCE", CATALOG, today=IN_WINDOW, windows=WINDOWS).issues
    assert "'2022-2023'" in issue.message and "must be 2023-2024" in issue.message
    assert "Seal 2023-2024, open until 2024-06-14" in issue.message


@pytest.mark.parametrize(("on", "year"), [
    (dt.date(2024, 6, 14), "2023-2024"),  # the last day of the window
    (dt.date(2024, 9, 1), "2024-2025"),  # between windows: the next one's
    (dt.date(2023, 5, 1), "2023-2024"),  # before the first
    (dt.date(2026, 2, 1), "2024-2025"),  # after the last: the last one's
])
def test_with_no_window_open_the_next_then_the_last_decides(tmp_path: Path, on: dt.date,
                                                            year: str) -> None:
    assert collection_year(WINDOWS, "SSCE", on).years == (year,)
    assert offline(tmp_path, ssce(year), on=on) == []
    other = "2019-2020"
    assert offline(tmp_path, ssce(other), on=on) == [(2, "1", "not-collection-year")]


def test_a_collection_without_windows_takes_the_year_of_the_day() -> None:
    assert collection_year(WINDOWS, "ODE-SSID", dt.date(2026, 12, 2)).years == ("2026-2027",)
    assert collection_year((), "SSCE", dt.date(2027, 3, 1)).years == ("2026-2027",)


def test_a_malformed_year_is_its_format_error_only(tmp_path: Path) -> None:
    assert offline(tmp_path, ssce("2023-2025")) == [(2, "1", "invalid-academic-year")]


def test_step_2_2_field_rules(tmp_path: Path) -> None:
    rows = (ssce(cds="1964733000001"),  # a spreadsheet dropped the leading 0: 13 digits
            ssce(ssid="123456789", local="a2"), ssce(ssid="1000000001", local="a3", grade="10"),
            ssce(ssid="2000000002", local="a4", doc="X"))
    assert offline(tmp_path, *rows) == [(2, "2", "invalid-format"), (3, "3", "invalid-format"),
                                        (4, "5", "invalid-code"), (5, "6", "invalid-code")]
