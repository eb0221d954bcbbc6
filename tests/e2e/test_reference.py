"""A state operator loads the CDS directory with `edcs reference load`, and the next file of a
district the directory lists is checked against it at the post barrier; offline says the rule
was not checked (issue 12)."""

from __future__ import annotations

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
