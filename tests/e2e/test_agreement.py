"""`edcs validate` and the pipeline give the same answer for every collection (issue 12).

For each collection a synthetic file (`edcs sample`) with deliberate errors is checked offline
and submitted to the embedded stack as a district would; the errors, by row and code, must be
the same. A clean sample must post whole, and offline must accept it.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from shared.catalog.loader import default_catalog
from shared.windows import academic_year
from tests.fixtures.stack import RunningStack, edcs_command

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

CODES = sorted(default_catalog().collections)
# Records of these need their student's enrollment posted first (store_rules.yaml).
NEEDS_ENROLLMENT = {code for code, c in default_catalog().collections.items() if any(
    r.kind == "enrollment" for r in default_catalog().store_rules(c.layout))}
SUBMITTER = {"ODE-SSID": "2180", "DISC-LEA": "0000000", "DISC-SCH": "0000000"}


def edcs(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([edcs_command(), *args], capture_output=True, text=True, check=False)


def sample(path: Path, code: str, count: int, errors: float, seed: int) -> Path:
    done = edcs("sample", code, str(count), "--errors", str(errors), "--seed", str(seed),
                "--institution", SUBMITTER.get(code, "1964733"), "--out", str(path))
    assert done.returncode == 0, done.stderr
    return path


def located(errors: list[dict[str, Any]]) -> list[tuple[int, str, str]]:
    return sorted((e["row"] or 0, e["code"], e["field_name"] or "") for e in errors)


def offline(path: Path, code: str) -> dict[str, Any]:
    done = edcs("validate", str(path), "--collection", code, "--institution",
                SUBMITTER.get(code, "1964733"), "--format", "json")
    return dict(json.loads(done.stdout))


def pipeline(stack: RunningStack, path: Path, code: str) -> dict[str, Any]:
    job = stack.submit(path, code, SUBMITTER.get(code, "1964733"))
    shown = json.loads(stack.edcs("job", str(job["id"]), "--format", "json").stdout)
    return dict(job) | {"errors": shown["errors"]}


def enroll_students_of(stack: RunningStack, path: Path, code: str, tmp_path: Path) -> None:
    """Post an SENR file enrolling the sample's students at its schools from the first day the
    sampler draws dates on (August 1 of the academic year), as a district does before it sends
    SINF, SPRG or STAS: then the store rules pass and offline and the pipeline agree."""
    catalog = default_catalog()
    layout, senr = catalog.layouts[code], catalog.layouts["SENR"]
    at = {f.name: i for i, f in enumerate(layout.fields)}
    to = {f.name: i for i, f in enumerate(senr.fields)}
    with path.open(newline="") as fh:
        rows = list(csv.reader(fh))
    places = sorted({(r[at[layout.school_field or ""]], r[at["ssid"]]) for r in rows
                     if len(r) == len(layout.fields) and re.fullmatch(r"\d{7}", r[at[
                         layout.school_field or ""]]) and re.fullmatch(r"\d{10}", r[at["ssid"]])})
    source = sample(tmp_path / "enrollments.csv", "SENR", len(places), 0.0, 5)
    with source.open(newline="") as fh:
        enrollments = list(csv.reader(fh))
    start = f"{academic_year(dt.date.today())[:4]}0801"
    for (school, ssid), fields in zip(places, enrollments, strict=True):
        fields[to["school_of_attendance"]], fields[to["ssid"]] = school, ssid
        fields[to["enrollment_start_date"]], fields[to["enrollment_exit_date"]] = start, ""
    with source.open("w", newline="") as fh:
        csv.writer(fh, lineterminator="\r\n").writerows(enrollments)
    job = stack.submit(source, "SENR", "1964733")
    assert job["status"] == "posted", job["message"]


def name_for(code: str, tmp_path: Path, suffix: str) -> Path:
    if code.startswith("DISC-"):  # EDFacts names the file in its header record
        return tmp_path / f"EU{'LEA' if code == 'DISC-LEA' else 'SCH'}DISCDATA{suffix}.csv"
    return tmp_path / f"{code.lower()}-{suffix}.csv"


@pytest.mark.parametrize("code", CODES)
def test_offline_and_pipeline_agree_on_a_file_with_errors(sqlite_stack: RunningStack,
                                                          tmp_path: Path, code: str) -> None:
    path = sample(name_for(code, tmp_path, "BAD"), code, 40, 0.3, 11)
    if code in NEEDS_ENROLLMENT:
        enroll_students_of(sqlite_stack, path, code, tmp_path)
    report = offline(path, code)
    job = pipeline(sqlite_stack, path, code)
    assert report["errors"], "the sample has deliberate errors"
    assert located(job["errors"]) == located(report["errors"])
    if default_catalog().collections[code].acceptance.value == "all-or-nothing":
        assert report["accepted"] is (job["status"] == "posted")
    else:  # valid records post: the file is accepted although some of its records are not
        assert job["status"] == "posted" and job["rejected"] == report["rejected_records"]


@pytest.mark.parametrize("code", CODES)
def test_a_clean_sample_posts_whole_and_offline_accepts_it(sqlite_stack: RunningStack,
                                                           tmp_path: Path, code: str) -> None:
    path = sample(name_for(code, tmp_path, "OK"), code, 25, 0.0, 12)
    if code in NEEDS_ENROLLMENT:
        enroll_students_of(sqlite_stack, path, code, tmp_path)
    report = offline(path, code)
    assert report["accepted"] and not report["errors"], report["errors"][:5]
    job = pipeline(sqlite_stack, path, code)
    assert (job["status"], job["posted"]) == ("posted", 25), job["errors"][:5]
