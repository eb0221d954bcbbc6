"""Review Suggestions, Resolve Duplicates, SSID history and the window answer only for the
institutions the caller acts for (issue 11's scoping applied to issue 10's and 13's routes)."""

from __future__ import annotations

import pytest

from shared.db.models import DuplicatePair, Identity, Suggestion
from tests.fixtures.webapp import WebApp

pytestmark = pytest.mark.integration
OURS, THEIRS = "1000000010", "1000000028"


@pytest.fixture(scope="module")
def seeded(webapp: WebApp) -> WebApp:
    with webapp.sessions.begin() as session:
        for ssid, lea in ((OURS, "1964733"), (THEIRS, "1964734")):
            person = [ssid, "smith", "ann", "", "", "20150101", "f", "", lea, "l1"]
            session.add(Identity(ssid=ssid, person=person, institution_id=lea,
                                 record_type="SENR", fields=[""] * 34, submission_id=1))
        session.add(DuplicatePair(low=OURS, high=THEIRS, level=8, status="waiting"))
        session.flush()
        session.add(Suggestion(submission_id=1, row=7, institution_id="1964733",
                               collection="SENR", fields=[""] * 34, level=8,
                               candidates=[OURS], status="waiting"))
    return webapp


def test_a_district_sees_only_its_own_suggestions(seeded: WebApp) -> None:
    mine = seeded.client.get("/api/v1/suggestions", params={"institution": "1964733"},
                             headers=seeded.headers("demo"))
    assert mine.status_code == 200 and mine.json()["total"] == 1
    theirs = seeded.client.get("/api/v1/suggestions", params={"institution": "1964733"},
                               headers=seeded.headers("other"))
    assert theirs.status_code == 403
    suggestion = mine.json()["items"][0]["id"]
    forged = seeded.client.post(f"/api/v1/suggestions/{suggestion}", json={"choice": "new"},
                                headers=seeded.headers("other"))
    assert forged.status_code == 404
    reviewer = seeded.client.post(f"/api/v1/suggestions/{suggestion}",
                                  json={"choice": "exclude"},
                                  headers=seeded.headers("demo-reviewer"))
    assert reviewer.status_code == 403
    excluded = seeded.client.post(f"/api/v1/suggestions/{suggestion}",
                                  json={"choice": "exclude"}, headers=seeded.headers("demo"))
    assert excluded.status_code == 201 and excluded.json()["status"] == "excluded"


def test_a_district_votes_only_for_its_own_student(seeded: WebApp) -> None:
    url = f"/api/v1/duplicates/{OURS}/{THEIRS}/vote"
    forged = seeded.client.post(url, json={"institution": "1964733", "same_student": True},
                                headers=seeded.headers("other"))
    assert forged.status_code == 403
    listed = seeded.client.get("/api/v1/duplicates", params={"institution": "1964734"},
                               headers=seeded.headers("other"))
    assert [p["low"] for p in listed.json()["items"]] == [OURS]
    mine = seeded.client.post(url, json={"institution": "1964733", "same_student": True},
                              headers=seeded.headers("demo"))
    assert mine.status_code == 200 and mine.json()["votes"]["low"] == "Y"


def test_an_ssids_history_is_its_districts_and_the_states(seeded: WebApp) -> None:
    url = f"/api/v1/identities/{OURS}/history"
    assert seeded.client.get(url, headers=seeded.headers("other")).status_code == 404
    assert seeded.client.get(url, headers=seeded.headers("demo")).status_code == 200
    assert seeded.client.get(url, headers=seeded.headers("operator")).status_code == 200


def test_the_window_and_the_full_scan_are_the_state_operators(seeded: WebApp) -> None:
    assert seeded.client.get("/api/v1/window", headers=seeded.headers("demo")).status_code == (
        403)
    assert seeded.client.get("/api/v1/window",
                             headers=seeded.headers("operator")).status_code == 200
    scan = "/api/v1/duplicates/scan"
    assert seeded.client.post(scan, headers=seeded.headers("demo")).status_code == 403
    assert seeded.client.post(scan, headers=seeded.headers("operator")).status_code == 200
    assert seeded.browser("operator").get("/window").status_code == 200
    assert seeded.browser("demo").get("/window").status_code == 403
