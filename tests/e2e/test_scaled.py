"""Two workers per stage, as a district coordinator uses them: several files of two districts in
flight at once post exactly once, in the order each district sent them; an SSCE file replaces
the active one; an ODE-SSID file posts its valid records and keeps the others to be fixed; a
SINF timeline exports with derived end dates."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.catalog.loader import default_catalog
from shared.db.models import OdsRecord
from shared.matching.ssid import ssid_problem
from shared.windows import collection_year, configured
from tests.fixtures.stack import RunningStack, gen_senr, start_stack

# SSCE files carry the collection's year: its window's (shared/reference/windows.csv).
SSCE_YEAR = collection_year(configured(), "SSCE", dt.date.today()).years[0]

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


@pytest.fixture(scope="module")
def scaled_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    yield from start_stack(tmp_path_factory.mktemp("stack-scaled"),
                           scale={"ingest": 2, "validate": 2, "post": 2})


def as_district(source: Path, target: Path, lea: str) -> Path:
    target.write_text(source.read_text().replace("1964733", lea))
    return target


def test_files_in_flight_on_two_workers_per_stage(scaled_stack: RunningStack,
                                                  tmp_path: Path) -> None:
    assert {"validate-2 metrics", "post-2 metrics"} <= set(scaled_stack.stack.endpoints)
    files = []
    for i in range(4):
        source = gen_senr(tmp_path / f"s{i}.csv", 3000, errors=0.0, seed=40 + i)
        lea = "1964733" if i % 2 == 0 else "0000000"
        files.append((as_district(source, tmp_path / f"f{i}.csv", lea), lea))
    with ThreadPoolExecutor(4) as pool:
        jobs = list(pool.map(lambda f: scaled_stack.submit(f[0], institution=f[1]), files))
    assert [(j["status"], j["records"], j["posted"]) for j in jobs] == [("posted", 3000, 3000)] * 4
    with Session(scaled_stack.engine()) as session:
        by_lea = dict(session.execute(select(OdsRecord.lea, func.count()).group_by(
            OdsRecord.lea)).all())
    # Each district's two files hold different students: all 6,000 of each are stored once.
    assert by_lea == {"1964733": 6000, "0000000": 6000}
    for lea in ("1964733", "0000000"):
        mine = sorted((j for j in jobs if j["institution"] == lea), key=lambda j: j["id"])
        assert mine[0]["finished_at"] <= mine[1]["finished_at"]
    for job in jobs:  # one result email per file
        scaled_stack.wait_for_email(f"submission {job['id']} posted")
    issues = json.loads(scaled_stack.edcs("job", str(jobs[0]["id"]), "--format", "json").stdout)
    assert issues["errors"] == []


def test_ssce_file_replaces_the_active_submission(scaled_stack: RunningStack,
                                                  tmp_path: Path) -> None:
    header = "academic_year,cds_code,ssid,local_student_id,grade_level,doc_type\r\n"
    first = tmp_path / "ssce1.csv"
    first.write_text(header + f"{SSCE_YEAR},19647330000001,1234567890,a1,12,D\r\n"
                              f"{SSCE_YEAR},19647330000002,1000000001,a2,11,T\r\n")
    second = tmp_path / "ssce2.csv"
    second.write_text(header + f"{SSCE_YEAR},19647330000002,2000000002,a3,12,G\r\n")
    one = scaled_stack.submit(first, "SSCE")
    two = scaled_stack.submit(second, "SSCE")
    assert (one["status"], two["status"]) == ("posted", "posted")
    assert json.loads(scaled_stack.edcs("job", str(one["id"]), "--format", "json").stdout)[
        "standing"] == "archived"
    shown = scaled_stack.edcs("job", str(two["id"])).stdout
    assert "active submission" in shown
    export = scaled_stack.edcs("export", "SSCE", "--institution", "1964733").stdout
    assert export.splitlines() == [header.strip(), f"{SSCE_YEAR},19647330000002,2000000002,a3,12,G"]
    # A file without its header row is refused at once, saying which row and what it needs.
    headless = tmp_path / "ssce3.csv"
    headless.write_text(f"{SSCE_YEAR},19647330000002,2000000002,a3,12,G\r\n")
    refused = scaled_stack.submit(headless, "SSCE")
    assert refused["status"] == "rejected"
    assert "Row 1 must be the header row" in refused["message"]
    assert "2000000002" not in refused["message"]


def test_ode_valid_records_post_and_a_held_record_is_fixed(scaled_stack: RunningStack,
                                                           tmp_path: Path) -> None:
    header = ("ssid,legal_last,legal_first,preferred_last,preferred_first,dob,gender,ssn,"
              "resident_district,district_student_id,attending_district,attending_school,"
              "enrolled_grade\r\n")
    path = tmp_path / "ode.csv"
    path.write_text(header + ",Scaledoe,Jo,,,01022015,F,,2180,d1,2180,100,03\r\n"
                             ",Scaleroe,Al,,,13402015,M,,2180,d2,2180,100,04\r\n")
    job = scaled_stack.submit(path, "ODE-SSID", "2180")
    assert (job["status"], job["posted"], job["held"]) == ("posted", 1, 1)
    held = json.loads(scaled_stack.edcs("held", str(job["id"]), "--format", "json").stdout)
    assert [(h["row"], [i["code"] for i in h["issues"]]) for h in held] == [
        (3, ["invalid-date"])]
    assert "row 3:" in scaled_stack.edcs("held", str(job["id"])).stdout
    fixed = scaled_stack.edcs("fix", str(job["id"]), "3", "dob=12312014", "--wait",
                              "--format", "json")
    assert fixed.returncode == 0, fixed.stderr
    assert json.loads(fixed.stdout)["status"] == "posted"
    assert json.loads(scaled_stack.edcs("held", str(job["id"]), "--format", "json").stdout) == []
    export = scaled_stack.edcs("export", "ODE-SSID", "--institution", "2180").stdout
    ssids = [line.split(",")[0] for line in export.splitlines()[1:]]
    assert len(set(ssids)) == 2 and all(ssid_problem(s) is None for s in ssids)  # new SSIDs


def test_sinf_timeline_exports_with_derived_end_dates(scaled_stack: RunningStack,
                                                      tmp_path: Path) -> None:
    def sinf(start: str, address: str) -> str:
        fields = [""] * 49
        fields[0], fields[3], fields[5], fields[7], fields[8] = (
            "SINF", start, "1964733", "2025-2026", "1234567890")
        fields[9], fields[10], fields[12], fields[17], fields[18] = (
            "100001", "Maria", "Garcia", "20100103", "F")
        fields[22], fields[29], fields[30] = "Y", "N", address
        fields[32], fields[33], fields[34] = "Sacramento", "US-CA", "95814"
        return ",".join(fields) + "\r\n"

    # SINF needs the student's enrollment for the LEA on its dates (SINF-S001): post it first.
    names = [f.name for f in default_catalog().layouts["SENR"].fields]
    fields = gen_senr(tmp_path / "senr.csv", 1).read_text().strip().split(",")
    fields[names.index("ssid")], fields[names.index("enrollment_exit_date")] = "1234567890", ""
    fields[names.index("enrollment_start_date")] = "20250701"
    (tmp_path / "senr.csv").write_text(",".join(fields) + "\r\n")
    assert scaled_stack.submit(tmp_path / "senr.csv")["status"] == "posted"
    first = tmp_path / "sinf1.csv"
    first.write_text(sinf("20250801", "1 Main St") + sinf("20251001", "2 Oak Ave"))
    job = scaled_stack.submit(first, "SINF")
    assert job["status"] == "posted", job["message"]
    export = scaled_stack.edcs("export", "SINF", "--institution", "1964733").stdout
    assert [(r[3], r[4], r[30]) for r in (line.split(",") for line in export.splitlines())] == [
        ("20250801", "20250930", "1 Main St"), ("20251001", "", "2 Oak Ave")]
