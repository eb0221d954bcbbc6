"""A state operator loads the CDS directory with `edcs reference load`, and the next file of a
district the directory lists is checked against it at the post barrier; offline says the rule
was not checked (issue 12). Loaded collection windows set the year the next SSCE file must
carry, without restarting the stack."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path

import pytest

from shared.catalog.loader import default_catalog
from tests.fixtures.stack import RunningStack, edcs_command, gen_senr

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

HEADER = "kind,code,name,parent,status,starts,ends\n"


def test_a_loaded_directory_rejects_a_school_that_does_not_report_to_the_lea(
        sqlite_stack: RunningStack, tmp_path: Path) -> None:
    directory = tmp_path / "cds.csv"
    directory.write_text(HEADER + "lea,1964733,Demo USD,,active,,\n"
                                  "school,6000001,Demo Middle,1964733,active,,\n"
                                  "school,6000002,Demo High,1964733,closed,2000-07-01,2020-06-30\n")
    loaded = sqlite_stack.edcs("reference", "load", str(directory))
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == "directory: 3 added, 0 updated"

    school = [f.name for f in default_catalog().layouts["SENR"].fields].index(
        "school_of_attendance")
    lines = gen_senr(tmp_path / "g.csv", 3).read_text().splitlines()
    rows = []
    for line, code in zip(lines, ("6000001", "6000002", "6000005"), strict=True):
        fields = line.split(",")
        fields[school] = code
        rows.append(",".join(fields))
    path = tmp_path / "senr.csv"
    path.write_text("\r\n".join(rows) + "\r\n")
    job = sqlite_stack.submit(path)
    assert job["status"] == "rejected", job["message"]
    errors = json.loads(sqlite_stack.edcs("job", str(job["id"]), "--format", "json").stdout)[
        "errors"]
    assert [(e["row"], e["code"], e["field_name"]) for e in errors] == [
        (2, "school-not-in-directory", "School of Attendance"),
        (3, "school-not-in-directory", "School of Attendance")]

    offline = subprocess.run([edcs_command(), "validate", str(path), "--collection", "SENR",
                              "--format", "json"], capture_output=True, text=True, check=False)
    report = json.loads(offline.stdout)
    assert report["accepted"] and any(s.startswith("SENR-S001") for s in report["skipped"])


def test_a_directory_file_with_problems_loads_nothing_and_says_each(
        sqlite_stack: RunningStack, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "lea,1970001,An LEA,,active,,\nschool,19701,Short,1970001,open,,\n")
    done = sqlite_stack.edcs("reference", "load", str(bad))
    assert done.returncode == 2
    assert "line 3, code: must be a CDS code of 7 digits" in done.stderr
    assert "line 3, status: must be one of active, closed" in done.stderr
    again = sqlite_stack.edcs("reference", "load", str(bad).replace("bad", "missing"))
    assert again.returncode == 2  # click: the file does not exist


SSCE_HEADER = "academic_year,cds_code,ssid,local_student_id,grade_level,doc_type\r\n"


def test_loaded_windows_set_the_year_the_running_stack_asks_of_ssce_files(
        sqlite_stack: RunningStack, tmp_path: Path) -> None:
    today = dt.date.today()
    windows = tmp_path / "windows.csv"
    windows.write_text("collection,academic_year,window,opens,closes\n"
                       f"SSCE,2031-2032,Reopened,{today - dt.timedelta(days=7)},"
                       f"{today + dt.timedelta(days=7)}\n")
    loaded = sqlite_stack.edcs("reference", "load", str(windows))
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == "windows: 1 added, 0 updated"

    fits = tmp_path / "ssce1.csv"
    fits.write_text(SSCE_HEADER + "2031-2032,19647330000001,1234567890,a1,12,D\r\n")
    assert sqlite_stack.submit(fits, "SSCE")["status"] == "posted"
    other = tmp_path / "ssce2.csv"  # the shipped file's year, no longer the collection's
    other.write_text(SSCE_HEADER + "2026-2027,19647330000001,1234567890,a1,12,D\r\n")
    job = sqlite_stack.submit(other, "SSCE")
    assert job["status"] == "rejected"
    errors = json.loads(sqlite_stack.edcs("job", str(job["id"]), "--format", "json").stdout)[
        "errors"]
    assert [(e["row"], e["code"]) for e in errors] == [(2, "not-collection-year")]
    assert "SSCE window Reopened 2031-2032" in errors[0]["message"]


def test_a_windows_file_with_problems_loads_nothing_and_says_each_line(
        sqlite_stack: RunningStack, tmp_path: Path) -> None:
    bad = tmp_path / "windows-bad.csv"
    bad.write_text("collection,academic_year,window,opens,closes\n"
                   "SSCE,2032-2033,Good,2032-01-05,2032-06-13\n"
                   "SSCE,2032-2033,,2032-13-01,2032-06-13\n")
    done = sqlite_stack.edcs("reference", "load", str(bad))
    assert done.returncode == 2
    assert "nothing was loaded" in done.stderr
    assert "line 3: window (its name) is blank" in done.stderr
    assert "line 3: opens is not a date YYYY-MM-DD" in done.stderr
