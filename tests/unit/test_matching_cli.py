"""``edcs match --registry REG.csv --input IN.csv --out OUT.csv`` (design.md §8), run as the
installed console script on tiny CSVs written here."""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from shared.matching.ssid import ssid_problem

_VENV_EDCS = Path(sys.executable).parent / "edcs"
EDCS = str(_VENV_EDCS) if _VENV_EDCS.exists() else (shutil.which("edcs") or "edcs")
HEADER = ("ssid,legal_last,legal_first,preferred_last,preferred_first,dob,gender,ssn,"
          "resident_district,district_student_id")
REGISTRY = f"""{HEADER}
1234567890,Smith,John,,,2012-03-14,M,536-22-1408,2180,A100
1000000012,Nguyen,Emma,,,2015-06-01,F,,2180,B1
1000000023,Nguyen,Olivia,,,2015-06-01,F,,2180,B2
"""


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    rows: list[dict[str, str]]
    header: list[str]


def run(tmp_path: Path, incoming: str, registry: str = REGISTRY) -> Run:
    (tmp_path / "reg.csv").write_text(registry, encoding="utf-8")
    (tmp_path / "in.csv").write_text(incoming, encoding="utf-8")
    out = tmp_path / "out.csv"
    done = subprocess.run([EDCS, "match", "--registry", str(tmp_path / "reg.csv"), "--input",
                           str(tmp_path / "in.csv"), "--out", str(out)],
                          capture_output=True, text=True, timeout=120, check=False)
    header: list[str] = []
    rows: list[dict[str, str]] = []
    if out.exists():
        with out.open(encoding="utf-8", newline="") as fh:
            header = next(csv.reader(fh))
        with out.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
    return Run(done.returncode, done.stdout, done.stderr, rows, header)


def test_hard_suggested_and_new_rows(tmp_path: Path) -> None:
    result = run(tmp_path, f"""{HEADER}
1234567890,Smith,John,,,2012-03-14,M,,2180,
,Nguyen,Olivia,,,2015-06-01,F,,2180,
,Quispe,Ana,,,2017-01-01,F,,2180,Q1
,Quispe,Ana,,,2017-01-01,F,,2180,Q1
""")
    assert result.code == 0, result.stderr
    assert result.stderr == ""
    assert result.header == ["row", "level", "decision", "ssid", "candidates"]
    got = [(r["row"], r["level"], r["decision"], r["ssid"], r["candidates"])
           for r in result.rows]
    new = got[2][3]
    assert got == [
        ("1", "1", "hard", "1234567890", "1234567890"),
        ("2", "7", "suggested", "", "1000000023"),  # a suggestion waits for a person
        ("3", "", "new", new, ""),
        ("4", "2", "hard", new, new),  # the same new student again: one SSID
    ]
    assert ssid_problem(new) is None
    assert new > "1234567890"  # the sequence continues after the registry's highest
    assert "4 rows" in result.stdout


def test_bad_rows_are_reported_with_their_row_and_still_get_an_output_row(tmp_path: Path
                                                                          ) -> None:
    result = run(tmp_path, f"""{HEADER}
1234567891,Smith,John,,,2012-03-14,M,,2180,A100
,Nguyen,Emma,,,2015-02-30,F,,2180,B1

,Lee,Ann,,,2011-01-01,F,,2180
,,,,,2011-01-01,F,,2180,Z1
,Smith,John,,,2012-03-14,M,,2180,A100
""")
    assert result.code == 1
    lines = result.stderr.splitlines()
    assert any("row 1 (line 2): ssid has a wrong check digit" in x for x in lines)
    assert any("row 2 (line 3): dob is not a real date" in x for x in lines)
    assert any("row 3 (line 5): 9 fields, expected 10" in x for x in lines)
    assert any("row 4 (line 6): legal_last is blank" in x for x in lines)
    assert not any("2015" in x or "Emma" in x for x in lines)  # no student data echoed
    assert [(r["row"], r["decision"], r["ssid"]) for r in result.rows] == [
        ("1", "error", ""), ("2", "error", ""), ("3", "error", ""), ("4", "error", ""),
        ("5", "hard", "1234567890")]
    # What the rest of a bad row matches is listed, to help fix it.
    assert result.rows[0]["candidates"] == "1234567890"
    assert result.rows[1]["candidates"] == "1000000012"


def test_a_row_with_bytes_that_are_not_utf8_is_an_error_row(tmp_path: Path) -> None:
    (tmp_path / "reg.csv").write_text(REGISTRY, encoding="utf-8")
    (tmp_path / "in.csv").write_bytes(
        f"{HEADER}\n,Lee,Ann,,,2011-01-01,F,,2180,\n".encode()
        + b",Sm\xffth,John,,,2012-03-14,M,,2180,A100\n")
    done = subprocess.run([EDCS, "match", "--registry", str(tmp_path / "reg.csv"), "--input",
                           str(tmp_path / "in.csv"), "--out", str(tmp_path / "out.csv")],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1
    assert "row 2 (line 3): bytes that are not UTF-8" in done.stderr
    with (tmp_path / "out.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["decision"], r["candidates"]) for r in rows] == [("new", ""),
                                                                ("error", "1234567890")]


def test_columns_by_header_name_in_any_order_with_a_bom(tmp_path: Path) -> None:
    header = HEADER.split(",")
    order = [*reversed(header), "note"]
    john = ["1234567890", "Smith", "John", "", "", "2012-03-14", "M", "", "2180", ""]
    values = dict(zip(header, john, strict=True))
    row = ",".join([*(values[c] for c in reversed(header)), "x"])
    result = run(tmp_path, "\ufeff" + ",".join(order).upper() + "\r\n" + row + "\r\n")
    assert result.code == 0, result.stderr
    assert [r["decision"] for r in result.rows] == ["hard"]


@pytest.mark.parametrize(("incoming", "registry", "message"), [
    ("ssid,legal_last\n1,2\n", REGISTRY, "missing column(s)"),
    ("", REGISTRY, "empty file"),
    (f"{HEADER}\n", f"{HEADER},ssid\n", "named twice"),
])
def test_unreadable_files_exit_2(tmp_path: Path, incoming: str, registry: str,
                                 message: str) -> None:
    result = run(tmp_path, incoming, registry)
    assert result.code == 2
    assert message in result.stderr


def test_a_missing_file_exits_2(tmp_path: Path) -> None:
    done = subprocess.run([EDCS, "match", "--registry", str(tmp_path / "nope.csv"),
                           "--input", str(tmp_path / "nope.csv"), "--out",
                           str(tmp_path / "out.csv")],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert "nope.csv" in done.stderr
    assert not (tmp_path / "out.csv").exists()


def test_a_registry_with_merged_ssids(tmp_path: Path) -> None:
    registry = (f"{HEADER},merged_into\n"
                "1234567890,Smith,John,,,2012-03-14,M,,2180,A100,\n"
                "1000000045,Smith,John,,,2012-03-14,M,,2180,,1234567890\n")
    result = run(tmp_path, f"{HEADER}\n1000000045,Smith,John,,,2012-03-14,M,,,\n", registry)
    assert result.code == 0, result.stderr
    assert [(r["decision"], r["ssid"]) for r in result.rows] == [("hard", "1234567890")]
    assert "(+1 merged SSIDs)" in result.stdout
