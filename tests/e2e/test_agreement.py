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
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from edcs.cli import main
from shared.catalog.loader import default_catalog
from shared.windows import academic_year, collection_year, configured
from tests.fixtures.stack import RunningStack

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

CODES = sorted(default_catalog().collections)
# Records of these need their student's enrollment posted first (store_rules.yaml).
NEEDS_ENROLLMENT = {code for code, c in default_catalog().collections.items() if any(
    r.kind == "enrollment" for r in default_catalog().store_rules(c.layout))}
Checked = tuple[dict[str, Any], dict[str, Any]]  # (offline report, final job)
SUBMITTER = {"ODE-SSID": "2180", "DISC-LEA": "0000000", "DISC-SCH": "0000000"}


def edcs(*args: str) -> Result:
    """The offline commands (``edcs sample``, ``edcs validate``), run in this process: the same
    code as the command line, without 96 interpreter starts."""
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def sample(path: Path, code: str, count: int, errors: float, seed: int) -> Path:
    done = edcs("sample", code, str(count), "--errors", str(errors), "--seed", str(seed),
                "--institution", SUBMITTER.get(code, "1964733"), "--out", str(path))
    assert done.exit_code == 0, done.output
    return path


def located(errors: list[dict[str, Any]]) -> list[tuple[int, str, str]]:
    return sorted((e["row"] or 0, e["code"], e["field_name"] or "") for e in errors)


def offline(path: Path, code: str) -> dict[str, Any]:
    done = edcs("validate", str(path), "--collection", code, "--institution",
                SUBMITTER.get(code, "1964733"), "--format", "json")
    return dict(json.loads(done.stdout))


def enrollments_for(path: Path, code: str, folder: Path) -> Path:
    """An SENR file enrolling the sample's students at its schools from the first day the
    sampler draws dates on (August 1 of the academic year), as a district sends before SINF,
    SPRG or STAS: then the store rules pass and offline and the pipeline agree."""
    catalog = default_catalog()
    layout, senr = catalog.layouts[code], catalog.layouts["SENR"]
    at = {f.name: i for i, f in enumerate(layout.fields)}
    to = {f.name: i for i, f in enumerate(senr.fields)}
    school = at[layout.school_field or ""]
    with path.open(newline="") as fh:
        rows = list(csv.reader(fh))
    places = sorted({(r[school], r[at["ssid"]]) for r in rows
                     if len(r) == len(layout.fields) and re.fullmatch(r"\d{7}", r[school])
                     and re.fullmatch(r"\d{10}", r[at["ssid"]])})
    source = sample(folder / f"enrollments-{path.stem}.csv", "SENR", len(places), 0.0, 5)
    with source.open(newline="") as fh:
        enrollments = list(csv.reader(fh))
    start = f"{academic_year(dt.date.today())[:4]}0801"
    for (at_school, ssid), fields in zip(places, enrollments, strict=True):
        fields[to["school_of_attendance"]], fields[to["ssid"]] = at_school, ssid
        fields[to["enrollment_start_date"]], fields[to["enrollment_exit_date"]] = start, ""
        if fields[to["enrollment_status_code"]] == "50":  # a non-ADA KN-12 student is at the
            fields[to["grade_level_code"]] = "PS"  # Private School Group (SENR-R031), not here
    with source.open("w", newline="") as fh:
        csv.writer(fh, lineterminator="\r\n").writerows(enrollments)
    return source


def name_for(code: str, tmp_path: Path, suffix: str) -> Path:
    if code.startswith("DISC-"):  # EDFacts names the file in its header record
        return tmp_path / f"EU{'LEA' if code == 'DISC-LEA' else 'SCH'}DISCDATA{suffix}.csv"
    return tmp_path / f"{code.lower()}-{suffix}.csv"


def run_together(stack: RunningStack, files: dict[str, Path]) -> dict[str, dict[str, Any]]:
    """Submit every file at once (as districts do in a window), then read each final job with
    its errors: one wait for all, not one per file."""
    ids = {code: stack.upload(path, code, SUBMITTER.get(code, "1964733"))
           for code, path in files.items()}
    jobs: dict[str, dict[str, Any]] = {}
    for code, job_id in ids.items():
        stack.wait_for(job_id, lambda status, *_: status in ("posted", "rejected", "failed"),
                       "final", timeout=300)
        shown = json.loads(stack.edcs("job", str(job_id), "--format", "json").stdout)
        jobs[code] = dict(shown)
    return jobs


@pytest.fixture(scope="module")
def checked(sqlite_stack: RunningStack, tmp_path_factory: pytest.TempPathFactory
            ) -> dict[tuple[str, str], Checked]:
    """(code, "bad" | "ok") -> (the offline report, the pipeline's job). The files with errors
    go first, then the clean ones (each collection once per round)."""
    folder = tmp_path_factory.mktemp("agreement")
    found: dict[tuple[str, str], Checked] = {}
    for kind, count, errors, seed in (("bad", 40, 0.3, 11), ("ok", 25, 0.0, 12)):
        files = {code: sample(name_for(code, folder, kind.upper()), code, count, errors, seed)
                 for code in CODES}
        reports = {code: offline(path, code) for code, path in files.items()}
        for code in sorted(NEEDS_ENROLLMENT):  # the enrollments first, as a district does
            job = sqlite_stack.submit(enrollments_for(files[code], code, folder), "SENR")
            assert job["status"] == "posted", job["message"]
        jobs = run_together(sqlite_stack, files)
        found |= {(code, kind): (reports[code], jobs[code]) for code in CODES}
    return found


@pytest.mark.parametrize("code", CODES)
def test_offline_and_pipeline_agree_on_a_file_with_errors(checked: dict[tuple[str, str], Checked],
                                                          code: str) -> None:
    report, job = checked[code, "bad"]
    assert report["errors"], "the sample has deliberate errors"
    assert located(job["errors"]) == located(report["errors"])
    if default_catalog().collections[code].acceptance.value == "all-or-nothing":
        assert report["accepted"] is (job["status"] == "posted")
    else:  # valid records post: the file is accepted although some of its records are not
        assert job["status"] == "posted" and job["rejected"] == report["rejected_records"]


@pytest.mark.parametrize("code", CODES)
def test_a_clean_sample_posts_whole_and_offline_accepts_it(checked: dict[tuple[str, str], Checked],
                                                           code: str) -> None:
    report, job = checked[code, "ok"]
    assert report["accepted"] and not report["errors"], report["errors"][:5]
    assert (job["status"], job["posted"]) == ("posted", 25), job["errors"][:5]


SSCE_YEAR = collection_year(configured(), "SSCE", dt.date.today()).years[0]
# Files a new user made by hand (issue 12's trial) on which offline and the pipeline once
# disagreed: (collection, file name, content, the located errors both must give).
HAND_MADE = [
    # Only the header row: the pipeline posted "0 of 0" (for SSCE, a full replacement that
    # archives the active submission); offline said rejected with no reason.
    ("SSCE", "ssce-header-only.csv",
     b"academic_year,cds_code,ssid,local_student_id,grade_level,doc_type\r\n",
     [(0, "empty-file", "")]),
    # An exit before the start (CFS 1.25 #2) was accepted by both.
    ("SENR", "senr-exit-before-start.csv",
     b"SENR,A,L1,1964733,1234567,,2026-2027,,LS001,Ana,,Smith,,,,,20100115,F,,,US,20260815,"
     b"10,08,20260801,E230,100,,Y,,,,,\r\n",
     [(1, "date-order", "Enrollment Exit Date")]),
    # A repeated SSID where the later row also has a bad grade: the repeat was said only after
    # the grade was fixed (a second round); an all-or-nothing file now says both at once.
    ("SSCE", "ssce-repeat-and-bad-grade.csv",
     b"academic_year,cds_code,ssid,local_student_id,grade_level,doc_type\r\n"
     + f"{SSCE_YEAR},19647330000000,1000000001,L1,11,D\r\n"
       f"{SSCE_YEAR},19647330000000,1000000001,L2,99,D\r\n".encode(),
     [(3, "duplicate-in-file", "ssid"), (3, "invalid-code", "grade_level")]),
    # 200,000 elements nested in a field: one issue per element, 13 GB, a stuck worker.
    ("SENR", "senr-deep.xml",
     b'<?xml version="1.0"?>\n<CALPADSRecords><Record><Ssid>' + b"<a>" * 200_000
     + b"</a>" * 200_000 + b"</Ssid></Record></CALPADSRecords>\n",
     [(2, "xml-structure", "")]),
]


@pytest.mark.parametrize(("code", "name", "content", "expected"), HAND_MADE,
                         ids=[c[1] for c in HAND_MADE])
def test_offline_and_pipeline_agree_on_hand_made_files(
        sqlite_stack: RunningStack, tmp_path: Path, code: str, name: str, content: bytes,
        expected: list[tuple[int, str, str]]) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    report = offline(path, code)
    job = sqlite_stack.submit(path, code, SUBMITTER.get(code, "1964733"))
    shown = json.loads(sqlite_stack.edcs("job", str(job["id"]), "--format", "json").stdout)
    assert located(report["errors"]) == expected
    assert located(shown["errors"]) == expected
    assert job["status"] == "rejected" and not report["accepted"]
