"""A state operator loads reference data through the API (`edcs reference load FILE`): the CDS
directory or the institutions, all or nothing, every problem located (issue 12)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from shared.db.directory import DirectoryEntry
from shared.db.models import Institution
from tests.fixtures.webapp import WebApp

pytestmark = pytest.mark.integration

HEADER = "kind,code,name,parent,status,starts,ends\n"


def load(webapp: WebApp, who: str, text: str, name: str = "ref.csv") -> tuple[int, Any]:
    done = webapp.client.post("/api/v1/reference", headers=webapp.headers(who),
                              files={"file": (name, text.encode())})
    return done.status_code, done.json()


def test_the_operator_loads_a_directory_and_loading_it_again_changes_nothing(
        webapp: WebApp) -> None:
    text = HEADER + ("lea,1970001,Loaded USD,,active,,\n"
                     "school,1970002,Loaded School,1970001,active,2020-07-01,\n")
    assert load(webapp, "operator", text) == (200, {"kind": "directory", "added": 2,
                                                    "updated": 0})
    assert load(webapp, "operator", text)[1] == {"kind": "directory", "added": 0, "updated": 0}
    closed = text.replace("active,2020-07-01,", "closed,2020-07-01,2026-06-30")
    assert load(webapp, "operator", closed)[1]["updated"] == 1
    with webapp.sessions() as session:
        school = session.get(DirectoryEntry, ("school", "1970002"))
    assert school is not None and (school.status, str(school.ends)) == ("closed", "2026-06-30")


def test_a_file_with_problems_loads_nothing_and_every_problem_is_located(
        webapp: WebApp) -> None:
    text = HEADER + ("lea,1970101,Good LEA,,active,,\n"
                     "school,19701,Short code,1970101,active,,\n"
                     "school,1970103,Orphan,7777777,open,2020-13-01,\n")
    status, body = load(webapp, "operator", text)
    assert status == 422 and "nothing was loaded" in body["detail"]
    assert [(e["line"], e["column"]) for e in body["errors"]] == [
        (3, "code"), (4, "parent"), (4, "status"), (4, "starts")]
    with webapp.sessions() as session:
        assert session.get(DirectoryEntry, ("lea", "1970101")) is None


def test_only_an_operator_loads_reference_data(webapp: WebApp) -> None:
    status, body = load(webapp, "demo", HEADER + "lea,1970201,X,,active,,\n")
    assert status == 403 and "operator" in body["detail"]


def test_an_institutions_file_is_told_apart_by_its_header(webapp: WebApp) -> None:
    text = ("id,name,kind,parent_id,contact_email\n"
            "6000009,Loaded School,school,1964733,s@x.example\n")
    assert load(webapp, "operator", text)[1] == {"kind": "institutions", "added": 1,
                                                 "updated": 0}
    with webapp.sessions() as session:
        assert session.scalar(select(Institution.parent_id).where(
            Institution.id == "6000009")) == "1964733"


def test_other_files_are_refused_with_the_reason(webapp: WebApp) -> None:
    status, body = load(webapp, "operator", "a,b\n1,2\n")
    assert status == 422 and "neither a directory file" in body["detail"]
    assert "nor a windows file (collection,academic_year,window,opens,closes)" in body["detail"]


WINDOWS = "collection,academic_year,window,opens,closes\n"


def windows_shown(webapp: WebApp, collection: str) -> str:
    """The windows cell of one collection on the collections page."""
    page = webapp.browser("operator").get("/").text
    found = re.search(f'<td class="windows" data-collection="{collection}">(.*?)</td>', page)
    assert found is not None, collection
    return found[1]


def test_a_windows_file_loads_and_the_collections_page_shows_the_loaded_dates(
        webapp: WebApp) -> None:
    text = WINDOWS + ("SENR,2026-2027,Fall 1,2026-10-07,2027-01-29\n"  # the shipped one, later
                      "SSCE,2031-2032,Reopened,2031-01-05,2031-06-13\n")
    assert load(webapp, "operator", text)[1] == {"kind": "windows", "added": 2, "updated": 0}
    assert load(webapp, "operator", text)[1] == {"kind": "windows", "added": 0, "updated": 0}
    senr = windows_shown(webapp, "SENR")
    assert "2026-2027 Fall 1: 2026-10-07 to 2027-01-29" in senr
    assert "2026-2027 Fall 1: 2026-10-07 to 2026-12-18" not in senr  # the file's, replaced
    assert "2026-2027 Fall 2: 2026-10-07 to 2027-03-05" in senr  # the file's others stay
    assert "2031-2032 Reopened: 2031-01-05 to 2031-06-13" in windows_shown(webapp, "SSCE")
    moved = text.replace("2031-06-13", "2031-06-27")
    assert load(webapp, "operator", moved)[1] == {"kind": "windows", "added": 0, "updated": 1}
    assert "2031-2032 Reopened: 2031-01-05 to 2031-06-27" in windows_shown(webapp, "SSCE")


def test_a_windows_file_with_problems_loads_nothing_and_every_problem_has_its_line(
        webapp: WebApp) -> None:
    text = WINDOWS + ("SDIS,2030-2031,Good,2030-10-01,2030-12-20\n"
                      "NOPE,2030-2031,Fall 1,2030-10-01,2030-12-20\n"
                      "SENR,2030-2032,Fall 1,2030-12-20,2030-10-01\n"
                      "SDIS,2030-2031,Good,2030-10-01,2030-12-20\n")
    status, body = load(webapp, "operator", text)
    assert status == 422 and "nothing was loaded" in body["detail"]
    assert [(e["line"], e["message"]) for e in body["errors"]] == [
        (3, "line 3: collection is not a collection of the catalog"),
        (4, "line 4: academic_year is not of the form YYYY-YYYY (consecutive years)"),
        (4, "line 4: closes before it opens"),
        (5, "line 5: the same window of the collection twice")]
    assert "2030-2031 Good" not in windows_shown(webapp, "SDIS")


def test_only_an_operator_loads_windows(webapp: WebApp) -> None:
    status, _ = load(webapp, "demo", WINDOWS + "SSCE,2031-2032,X,2031-01-05,2031-06-13\n")
    assert status == 403
