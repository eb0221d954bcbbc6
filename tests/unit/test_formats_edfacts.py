"""EDFacts DISC-LEA / DISC-SCH (seed 004): header record, three framings, name and count rules."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.unit.formats_support import DATA, check, located

HW = [50, 10, 25, 32, 9, 143]
W = [10, 2, 2, 14, 20, 6, 15, 200]
LEA = [["1", "80", "01", "00606EUPHORIA", "", "50", "YESWOREP", "Explanation goes here"],
       ["2", "80", "01", "00610ATKINSDIS", "", "0", "NO", ""]]


def write(path: Path, rows: list[list[str]], sep: str | None, count: int | None = None,
          file_type: str = "LEA DISCIPLINE DATA", period: str = "2010-2011",
          header_name: str | None = None, trailing: str = "", filler: str = "") -> Path:
    head = [file_type, str(len(rows) if count is None else count), header_name or path.name,
            "LEA Discipline Data File", period, filler]
    if sep is None:
        lines = ["".join(v.ljust(w) for v, w in zip(head, HW, strict=True))]
        lines += ["".join(v.ljust(w) for v, w in zip(r, W, strict=True)) for r in rows]
    else:
        lines = [sep.join(head) + trailing] + [sep.join(r) for r in rows]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode())
    return path


@pytest.mark.parametrize("name", sorted(p.name for p in DATA.glob("EU*DISCDATA*")))
def test_the_seed_samples_are_accepted(name: str) -> None:
    report = check(DATA / name, "DISC-" + name[2:5])
    assert (report.records, located(report), report.accepted) == (4, [], True)


def test_the_three_framings_give_the_same_records(tmp_path: Path) -> None:
    reports = [check(write(tmp_path / f"EULEADISCDATAV1.{ext}", LEA, sep), "DISC-LEA")
               for ext, sep in (("txt", None), ("csv", ","), ("tab", "\t"))]
    assert [r.records for r in reports] == [2, 2, 2]
    assert all(located(r) == [] for r in reports)


def test_excel_trailing_delimiters_on_the_header_are_disregarded(tmp_path: Path) -> None:
    path = write(tmp_path / "EULEADISCDATAV1.csv", LEA, ",", trailing=",,,,")
    assert located(check(path, "DISC-LEA")) == []


@pytest.mark.parametrize("sep", [None, ","])
def test_a_count_that_differs_is_an_error_at_the_header_row(tmp_path: Path,
                                                            sep: str | None) -> None:
    ext = "txt" if sep is None else "csv"
    report = check(write(tmp_path / f"EULEADISCDATAV1.{ext}", LEA, sep, count=3), "DISC-LEA")
    assert located(report) == [(1, "Total Records In File", "record-count")]
    assert "says the file has 3 data records; it has 2" in report.issues[0].message
    assert not report.accepted


def test_a_header_with_no_data_records_is_a_count_error(tmp_path: Path) -> None:
    report = check(write(tmp_path / "EULEADISCDATAV1.csv", [], ",", count=4), "DISC-LEA")
    assert located(report) == [(1, "Total Records In File", "record-count")]


@pytest.mark.parametrize(("name", "header_name"), [
    ("EULEADISCDATAVERSION08.csv", None),  # vvvvvvv is at most seven characters
    ("EUSCHDISCDATAV1.csv", None),  # the level is the collection's
    ("EULEADISCDATAV1.dat", None),
    ("EULEADISCDATAV1.csv", "EULEADISCDATAV2.CSV"),  # the header names another file
    ("EULEADISCDATAV1.tab", None),  # .tab names a tab file; this one is comma-delimited
])
def test_file_name_rules(tmp_path: Path, name: str, header_name: str | None) -> None:
    report = check(write(tmp_path / name, LEA, ",", header_name=header_name), "DISC-LEA")
    codes = {code for _, _, code in located(report)}
    assert codes & {"file-name", "unsupported-extension"}, located(report)
    assert not report.accepted


def test_the_header_name_is_compared_without_case(tmp_path: Path) -> None:
    path = write(tmp_path / "EULEADISCDATAV1.csv", LEA, ",", header_name="euleadiscdatav1.CSV")
    assert located(check(path, "DISC-LEA")) == []


@pytest.mark.parametrize(("changes", "expected"), [
    ({"file_type": "SCHOOL DISCIPLINE DATA"}, (1, "File Type", "header-record")),
    ({"period": "2010-2012"}, (1, "File Reporting Period", "header-record")),
    ({"period": "2010 2011"}, None),
])
def test_header_record_fields(tmp_path: Path, changes: dict[str, str],
                              expected: tuple[int, str, str] | None) -> None:
    path = write(tmp_path / "EULEADISCDATAV1.csv", LEA, ",", **changes)  # type: ignore[arg-type]
    assert located(check(path, "DISC-LEA")) == ([expected] if expected else [])


@pytest.mark.parametrize("sep", [None, ","])
def test_the_header_filler_must_be_left_blank(tmp_path: Path, sep: str | None) -> None:
    ext = "txt" if sep is None else "csv"
    path = write(tmp_path / f"EULEADISCDATAV1.{ext}", LEA, sep, filler="x")
    report = check(path, "DISC-LEA")
    assert located(report) == [(1, "Filler", "header-record")]
    assert "Filler in the header record (row 1) must be blank." in report.issues[0].message
    assert not report.accepted


@pytest.mark.parametrize(("level", "truants", "code"), [
    ("LEA", "0", None), ("LEA", "-1", None), ("LEA", "", "required"),
    ("LEA", "-2", "invalid-format"), ("LEA", "12x", "invalid-format"),
    ("SCH", "", None), ("SCH", "-1", None), ("SCH", "0", None), ("SCH", "-5", "invalid-format"),
])
def test_truants_zero_missing_and_blank(tmp_path: Path, level: str, truants: str,
                                        code: str | None) -> None:
    row = [*LEA[0]]
    row[5] = truants
    if level == "SCH":
        row[4] = "EU000001"
    path = write(tmp_path / f"EU{level}DISCDATAV1.csv", [row], ",",
                 file_type=f"{'LEA' if level == 'LEA' else 'SCHOOL'} DISCIPLINE DATA")
    found = [(r, f, c) for r, f, c in located(check(path, f"DISC-{level}"))]
    assert found == ([(2, "Truants", code)] if code else [])


def test_gfsa_status_blank_or_unknown_and_filler_not_blank(tmp_path: Path) -> None:
    rows = [[*LEA[0]], [*LEA[1]], [*LEA[1]]]
    rows[0][6] = ""
    rows[1][6] = "MAYBE"
    rows[2][0], rows[2][3], rows[2][4] = "3", "00614FEDERAL", "X"
    report = check(write(tmp_path / "EULEADISCDATAV1.csv", rows, ","), "DISC-LEA")
    assert located(report) == [(2, "GFSA Reporting Status", "required"),
                               (3, "GFSA Reporting Status", "invalid-code"),
                               (4, "Filler", "invalid-code")]


def test_a_fixed_line_longer_than_the_record_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path / "EULEADISCDATAV1.txt", LEA, None)
    lines = path.read_bytes().split(b"\r\n")
    lines[2] += b"EXTRA"
    lines[1] = lines[1].rstrip()  # a shorter line (trailing blanks trimmed) is fine
    path.write_bytes(b"\r\n".join(lines))
    assert located(check(path, "DISC-LEA")) == [(3, None, "record-length")]


def test_repeated_record_numbers_are_caught_by_the_layout(tmp_path: Path) -> None:
    from shared.catalog.loader import default_catalog

    layout = default_catalog().layouts["DISC-LEA"]
    assert ("file_record_number",) in layout.unique_in_file


def test_sample_copied_under_another_name_fails_the_name_check(tmp_path: Path) -> None:
    path = tmp_path / "EULEADISCDATAVER0008.CSV"
    shutil.copy(DATA / "EULEADISCDATAVER0007.CSV", path)
    assert located(check(path, "DISC-LEA")) == [(1, "File Name (Including file extension)",
                                                 "file-name")]


@pytest.mark.parametrize(("sep", "period", "kept"), [
    (None, "2010 2011", "2010-2011"), (",", "2010-2011", "2010-2011"),
    ("\t", "2010 2011", "2010-2011"), (",", "2010-2012", None)])
def test_the_upload_keeps_the_reporting_period_of_the_header(
        tmp_path: Path, sep: str | None, period: str, kept: str | None) -> None:
    # A full replacement replaces the state's records of this period only (design.md §2).
    from shared.catalog.loader import default_catalog
    from shared.intake import check_upload

    ext = {None: "txt", ",": "csv", "\t": "tab"}[sep]
    path = write(tmp_path / f"EULEADISCDATAV1.{ext}", LEA, sep, period=period)
    with path.open("rb") as stream:
        intake = check_upload(default_catalog(), "DISC-LEA", stream, filename=path.name)
    assert intake.period == kept
    assert intake.accepted == (kept is not None)
