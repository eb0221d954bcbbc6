"""SSID matching on the real stack with two validate and two post workers (issue 10): records
without an SSID find theirs or get one, one student never gets two SSIDs, a suggestion waits
for a person and posts when chosen, and a likely duplicate is merged by two votes."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.db.models import DuplicatePair, Identity, Institution, OdsRecord
from tests.e2e.test_faults import FAST, senr_file, ssid
from tests.fixtures.stack import RunningStack, start_stack

pytestmark = [pytest.mark.e2e, pytest.mark.integration]
OTHER = "0000001"


@pytest.fixture(scope="module")
def matched(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    for stack in start_stack(tmp_path_factory.mktemp("stack-matching"),
                             scale={"validate": 2, "post": 2}, env_extra=FAST):
        with Session(stack.engine()) as session, session.begin():
            session.add(Institution(id=OTHER, name="Second USD", contact_email="o@second.example"))
        yield stack


def senr_rows(path: Path) -> list[list[str]]:
    return [line.split(",") for line in path.read_text().splitlines() if line]


def write(path: Path, rows: list[list[str]]) -> Path:
    path.write_text("".join(",".join(r) + "\r\n" for r in rows))
    return path


def identities(stack: RunningStack) -> int:
    with Session(stack.engine()) as session:
        return session.scalar(select(func.count()).select_from(Identity)) or 0


def test_records_without_an_ssid_get_one_and_keep_it(matched: RunningStack,
                                                     tmp_path: Path) -> None:
    rows = senr_rows(senr_file(tmp_path / "src.csv", 300, 51))
    for r in rows[:40]:
        r[7] = ""  # new students: no SSID yet
    job = matched.submit(write(tmp_path / "blank.csv", rows))
    assert (job["status"], job["posted"]) == ("posted", 300), job["message"]
    assert "40 students were given a new one" in job["message"]
    with Session(matched.engine()) as session:
        stored = [f[7] for f in session.scalars(select(OdsRecord.fields).where(
            OdsRecord.submission_id == job["id"]))]
    assert "" not in stored and len(set(stored)) == 300
    again = matched.submit(write(tmp_path / "again.csv", rows[:40]))  # sent again, still blank
    assert "40 records matched a student's SSID" in again["message"]


def test_one_new_student_in_two_files_at_once_gets_one_ssid(matched: RunningStack,
                                                            tmp_path: Path) -> None:
    rows = senr_rows(senr_file(tmp_path / "src.csv", 2, 52))
    ours, theirs = rows[0][:], rows[0][:]
    ours[7] = theirs[7] = ""
    theirs[3] = theirs[30] = OTHER  # the same child, enrolled by a second district
    before = identities(matched)
    first = matched.upload(write(tmp_path / "a.csv", [ours]))
    second = matched.upload(write(tmp_path / "b.csv", [theirs]), institution=OTHER)
    for job in (first, second):
        matched.wait_for(job, lambda status, *_: status == "posted", "posted")
    assert identities(matched) == before + 1  # the second found the first's new student


def test_a_suggestion_waits_for_a_person_and_posts_when_chosen(matched: RunningStack,
                                                               tmp_path: Path) -> None:
    header = ("ssid,legal_last,legal_first,preferred_last,preferred_first,dob,gender,ssn,"
              "resident_district,district_student_id,attending_district,attending_school,"
              "enrolled_grade\r\n")
    sister = "{ssid},Nguyen,Linh,,,03042016,F,,2180,S1,2180,100,03\r\n"
    (tmp_path / "one.csv").write_text(header + sister.format(ssid=""))
    first = matched.submit(tmp_path / "one.csv", "ODE-SSID", "2180")
    assert first["status"] == "posted", first["message"]
    with Session(matched.engine()) as session:
        (given,) = session.scalars(select(Identity.ssid).where(
            Identity.institution_id == "2180")).all()
    twin = f"{given},Nguyen,Mai,,,03042016,F,,2180,S2,2180,100,03\r\n"
    (tmp_path / "twin.csv").write_text(header + twin)
    second = matched.submit(tmp_path / "twin.csv", "ODE-SSID", "2180")
    assert (second["status"], second["posted"], second["suggested"]) == ("posted", 0, 1)
    listed = json.loads(matched.edcs("suggestions", "--institution", "2180", "--format",
                                     "json").stdout)
    (item,) = [i for i in listed["items"] if i["submission"] == second["id"]]
    assert [c["ssid"] for c in item["candidates"]] == [given]
    agrees = {f["field"]: f["agrees"] for f in item["candidates"][0]["fields"]}
    assert agrees["legal_last"] and agrees["dob"] and not agrees["legal_first"]
    said = matched.edcs("suggestions", "--institution", "2180").stdout  # as the page marks them
    assert "legal_first ≠" in said and "legal_last =" in said and "preferred_last ?" in said
    matched.wait_for_email(f"submission {second['id']}: 1 records wait in Review Suggestions")
    chosen = matched.edcs("suggestions", "choose", str(item["id"]), "--new", "--wait")
    assert chosen.returncode == 0, chosen.stdout + chosen.stderr
    with Session(matched.engine()) as session:
        ssids = set(session.scalars(select(Identity.ssid).where(
            Identity.institution_id == "2180")))
    assert len(ssids) == 2 and given in ssids
    again = matched.edcs("suggestions", "choose", str(item["id"]), "--new")
    assert again.returncode == 2 and "decided already" in again.stderr


def test_a_likely_duplicate_is_found_and_merged_by_two_votes(matched: RunningStack,
                                                             tmp_path: Path) -> None:
    rows = senr_rows(senr_file(tmp_path / "src.csv", 1, 53))
    ours, theirs = rows[0][:], rows[0][:]
    ours[7], theirs[7] = ssid(7_000_001), ssid(7_000_002)  # one child, two SSIDs
    theirs[3] = theirs[30] = OTHER
    assert matched.submit(write(tmp_path / "a.csv", [ours]))["status"] == "posted"
    assert matched.submit(write(tmp_path / "b.csv", [theirs]), institution=OTHER)[
        "status"] == "posted"
    low, high = sorted((ours[7], theirs[7]))
    deadline = time.monotonic() + 60
    while True:  # the identity stage files them and finds the pair
        with Session(matched.engine()) as session:
            if session.get(DuplicatePair, (low, high)) is not None:
                break
        assert time.monotonic() < deadline, "no duplicate pair found"
        time.sleep(0.5)
    listed = matched.edcs("duplicates", "--institution", OTHER)
    assert f"{low} / {high}" in listed.stdout
    for lea in ("1964733", OTHER):
        voted = matched.edcs("duplicates", "vote", low, high, "--institution", lea, "--yes")
        assert voted.returncode == 0, voted.stderr
    assert "merged" in voted.stdout
    history = matched.edcs("history", "--ssid", high)
    assert f"merged with {low}" in history.stdout
    moved = ours[:]
    moved[7], moved[8] = high, "L-moved"  # a file that still carries the retired SSID
    job = matched.submit(write(tmp_path / "c.csv", [moved]))
    with Session(matched.engine()) as session:
        (posted,) = session.scalars(select(OdsRecord.fields).where(
            OdsRecord.submission_id == job["id"])).all()
    assert posted[7] == low
    scanned = matched.edcs("duplicates", "scan")
    assert scanned.returncode == 0 and "identities compared" in scanned.stdout
    with Session(matched.engine()) as session:
        assert session.get(DuplicatePair, (low, high)).status == "merged"  # type: ignore[union-attr]
