"""The SSID pages in-process (Review Suggestions, Resolve Duplicates, an SSID's history): what
each role of each district sees, forged ids, CSRF, and escaping. The flows through the real
pipeline and a browser are tests/e2e/test_ssid_pages.py."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from shared.accounts import add_user
from shared.db.models import DuplicatePair, Identity, IdentityChange, Suggestion
from tests.fixtures.webapp import PASSWORD, WebApp, csrf_of

pytestmark = pytest.mark.integration
SISTER, OTHER = "1000000036", "1000000044"
SCRIPT = "<script>alert(1)</script>"
REVIEWER = "reviewer@demo-sd.example"


def _signed_in(webapp: WebApp, email: str) -> TestClient:
    return webapp.signed_in(email, PASSWORD)


def _ode(ssid: str, first: str, district: str) -> list[str]:
    return [ssid, "Nguyen", first, "", "", "03042016", "F", "", district, "S1", district,
            "4001", "03"]


@pytest.fixture(scope="module")
def seeded(webapp: WebApp) -> dict[str, int]:
    with webapp.sessions.begin() as session:
        for ssid, district in ((SISTER, "2180"), (OTHER, "2181")):
            person = [ssid, "nguyen", "linh", "", "", "2016-03-04", "f", "", district, "s1"]
            session.add(Identity(ssid=ssid, person=person, institution_id=district,
                                 record_type="ODE-SSID", fields=_ode(ssid, "Linh", district),
                                 submission_id=webapp.data.jobs[district]))
            session.add(IdentityChange(ssid=ssid, action="created", after=_ode(
                ssid, "Linh", district), submission_id=webapp.data.jobs[district]))
        add_user(session, REVIEWER, "2180", frozenset({"reviewer"}), None, password=PASSWORD)
        session.add(DuplicatePair(low=SISTER, high=OTHER, level=9, status="waiting"))
        waiting = Suggestion(submission_id=webapp.data.jobs["2180"], row=4,
                             institution_id="2180", collection="ODE-SSID",
                             fields=_ode("", SCRIPT, "2180"), level=11, candidates=[SISTER],
                             status="waiting")
        session.add(waiting)
        session.flush()
        return {"suggestion": waiting.id}


def test_the_comparison_is_escaped_and_a_reviewer_sees_it_without_buttons(webapp: WebApp,
                                                               seeded: dict[str, int]) -> None:
    page = webapp.browser("oregon").get("/suggestions")
    assert page.status_code == 200
    assert f'id="suggestion-{seeded["suggestion"]}"' in page.text
    assert SCRIPT not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert 'data-field="legal_first"' in page.text and "≠ differs" in page.text
    assert 'data-choice="match" data-ssid="1000000036"' in page.text
    assert '<a href="/suggestions">Review Suggestions</a>' in page.text
    assert 'href="/window"' not in page.text
    assert "Create a new SSID" in page.text
    assert "Matching level 11: " in page.text  # what the level means, from matching.yaml
    reviewer = _signed_in(webapp, REVIEWER).get("/suggestions")
    assert reviewer.status_code == 200 and 'id="read-only"' in reviewer.text
    assert f'id="suggestion-{seeded["suggestion"]}"' in reviewer.text
    assert "data-choice=" not in reviewer.text
    refused = _signed_in(webapp, REVIEWER).post(f"/suggestions/{seeded['suggestion']}", data={
        "csrf_token": csrf_of(reviewer.text), "choice": "exclude"})
    assert refused.status_code == 403

def test_another_district_sees_nothing_and_forged_ids_are_refused(
        webapp: WebApp, seeded: dict[str, int]) -> None:
    other = webapp.browser("other-oregon")
    mine = other.get("/suggestions")
    assert mine.status_code == 200 and "No records wait" in mine.text
    assert "Nguyen" not in mine.text
    assert other.get("/suggestions?institution=2180").status_code == 403
    token = csrf_of(mine.text)
    forged = other.post(f"/suggestions/{seeded['suggestion']}",
                        data={"csrf_token": token, "choice": "new"})
    assert forged.status_code == 404 and SCRIPT not in forged.text
    assert other.get(f"/identities/{SISTER}").status_code == 404
    assert other.get("/identities/1999999999").status_code == 404
    assert other.get("/duplicates?institution=2180").status_code == 403
    vote = other.post(f"/duplicates/{SISTER}/{OTHER}/vote",
                      data={"csrf_token": token, "institution": "2180", "same": "yes"})
    assert vote.status_code == 403


def test_a_form_without_its_csrf_token_is_refused(webapp: WebApp,
                                                  seeded: dict[str, int]) -> None:
    page = webapp.browser("oregon")
    refused = page.post(f"/suggestions/{seeded['suggestion']}", data={
        "csrf_token": "forged", "choice": "exclude"})
    assert refused.status_code == 403
    refused = page.post(f"/duplicates/{SISTER}/{OTHER}/vote", data={
        "csrf_token": "forged", "institution": "2180", "same": "yes"})
    assert refused.status_code == 403


def test_both_districts_see_the_pair_and_vote_it_into_a_merge(webapp: WebApp,
                                                              seeded: dict[str, int]) -> None:
    ours, theirs = webapp.browser("oregon"), webapp.browser("other-oregon")
    listed = ours.get("/duplicates")
    assert f'id="pair-{SISTER}-{OTHER}"' in listed.text
    done = ours.post(f"/duplicates/{SISTER}/{OTHER}/vote", data={
        "csrf_token": csrf_of(listed.text), "institution": "2180", "same": "yes"})
    assert done.status_code == 200 and "waits for the other district" in done.text
    listed = theirs.get("/duplicates")
    done = theirs.post(f"/duplicates/{SISTER}/{OTHER}/vote", data={
        "csrf_token": csrf_of(listed.text), "institution": "2181", "same": "yes"})
    assert f"they are merged, {SISTER} survives" in done.text
    assert f'<a href="/identities/{OTHER}">{OTHER}</a>' in done.text
    history = theirs.get(f"/identities/{OTHER}")
    assert history.status_code == 200 and "Merged into" in history.text
    assert f"merged with {SISTER}" in history.text
    assert ours.get(f"/identities/{SISTER}").status_code == 200
    assert ours.get(f"/identities/{OTHER}").status_code == 404  # still the other's student


def test_collections_show_their_windows_and_the_operator_has_the_window_page(
        webapp: WebApp) -> None:
    page = webapp.browser("operator").get("/")
    assert 'id="nav-window"' in page.text
    assert 'data-collection="SENR"' in page.text and "2026-2027 Fall 1: 2026-10-07 to" in page.text
    assert 'id="nav-window"' not in webapp.browser("demo").get("/").text
    window = webapp.browser("operator").get("/window")
    assert window.status_code == 200 and 'id="nav-window"' in window.text
