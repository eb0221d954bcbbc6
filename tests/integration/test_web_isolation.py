"""A user of one district never sees or changes another district's students, files, errors,
emails or history: by API (tokens) and by page (signed-in browsers), with forged institution ids
and another district's job ids, rows, record ids and SSIDs in the URL."""

from __future__ import annotations

import pytest

from tests.fixtures.webapp import WebApp, csrf_of

pytestmark = pytest.mark.integration
NOT_FOUND = 404


def test_the_queue_lists_only_the_callers_institutions(webapp: WebApp) -> None:
    for name, mine, theirs in (("demo", "1964733", "1964734"), ("other", "1964734", "1964733"),
                               ("oregon", "2180", "2181")):
        found = webapp.client.get("/api/v1/submissions", headers=webapp.headers(name))
        assert found.status_code == 200
        institutions = {j["institution"] for j in found.json()["items"]}
        assert mine in institutions and theirs not in institutions
    everything = webapp.client.get("/api/v1/submissions", headers=webapp.headers("operator"))
    assert {"1964733", "1964734", "2180", "2181"} <= {
        j["institution"] for j in everything.json()["items"]}


@pytest.mark.parametrize("path", [
    "/api/v1/submissions/{job}", "/api/v1/submissions/{job}/issues",
    "/api/v1/submissions/{job}/issue-groups", "/api/v1/submissions/{job}/issues.csv",
    "/api/v1/submissions/{job}/held", "/api/v1/submissions/{job}/held/3",
    "/api/v1/submissions/{job}/file",
])
def test_another_districts_job_is_not_found_by_api(webapp: WebApp, path: str) -> None:
    theirs = webapp.data.jobs["2181"]
    answer = webapp.client.get(path.format(job=theirs), headers=webapp.headers("oregon"))
    assert answer.status_code == NOT_FOUND
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert "Roe" not in answer.text and "5552" not in answer.text
    mine = webapp.client.get(path.format(job=webapp.data.jobs["2180"]).replace(
        "/file", ""), headers=webapp.headers("oregon"))
    assert mine.status_code == 200


def test_another_districts_held_record_cannot_be_fixed_or_deleted(webapp: WebApp) -> None:
    theirs = webapp.data.jobs["2181"]
    fixed = webapp.client.post(f"/api/v1/submissions/{theirs}/held/3",
                               json={"fields": {"dob": "12312014"}},
                               headers=webapp.headers("oregon"))
    assert fixed.status_code == NOT_FOUND
    gone = webapp.client.delete(f"/api/v1/submissions/{theirs}/held",
                                headers=webapp.headers("oregon"))
    assert gone.status_code == NOT_FOUND
    still = webapp.client.get(f"/api/v1/submissions/{theirs}/held",
                              headers=webapp.headers("other-oregon"))
    assert [h["row"] for h in still.json()["items"]] == [3]


def test_a_forged_institution_is_refused_with_the_seeds_wording(webapp: WebApp) -> None:
    refused = webapp.client.post(
        "/api/v1/submissions", headers=webapp.headers("demo"),
        data={"collection": "SENR", "institution": "1964734"},
        files={"file": ("x.csv", b"SENR,,1,1964734\r\n")})
    assert refused.status_code == 403
    assert refused.json()["detail"] == "You do not have rights to submit this Institution ID."
    for path in ("/api/v1/records/SENR?institution=1964734",
                 "/api/v1/history/SENR?institution=1964734",
                 "/api/v1/records/SENR/search?institution=1964734",
                 "/api/v1/submissions?institution=1964734"):
        answer = webapp.client.get(path, headers=webapp.headers("demo"))
        assert answer.status_code == 403, path
        assert "Jones" not in answer.text


def test_an_esd_acts_for_its_districts_and_a_school_only_for_itself(webapp: WebApp) -> None:
    esd = webapp.client.get("/api/v1/records/SENR?institution=1964734",
                            headers=webapp.headers("esd"))
    assert esd.status_code == 200 and "Jones" in esd.text
    school = webapp.client.get("/api/v1/records/SENR?institution=6000000",
                               headers=webapp.headers("school"))
    assert school.status_code == 200 and "Smith" in school.text
    assert webapp.client.get("/api/v1/records/SENR?institution=1964733",
                             headers=webapp.headers("school")).status_code == 403


def test_a_search_by_another_districts_ssid_finds_nothing(webapp: WebApp) -> None:
    theirs = webapp.data.ssids["1964734"]
    found = webapp.client.get(f"/api/v1/records/SENR/search?ssid={theirs}",
                              headers=webapp.headers("demo"))
    assert found.status_code == 200
    assert found.json()["total"] == 0 and found.json()["items"] == []
    by_name = webapp.client.get("/api/v1/records/SENR/search?last=Jo",
                                headers=webapp.headers("demo"))
    assert by_name.json()["total"] == 0
    mine = webapp.client.get(f"/api/v1/records/SENR/search?ssid={theirs}",
                             headers=webapp.headers("other"))
    assert mine.json()["total"] == 1


def test_another_districts_record_and_its_history_are_not_found(webapp: WebApp) -> None:
    theirs = webapp.data.records["1964734"]
    for method, body in (("GET", None), ("PUT", {"fields": {"grade_level_code": "06"}})):
        answer = webapp.client.request(method, f"/api/v1/records/SENR/{theirs}", json=body,
                                       headers=webapp.headers("demo"))
        assert answer.status_code == NOT_FOUND, method
        assert "Jones" not in answer.text
    history = webapp.client.get("/api/v1/history/SENR?institution=1964733",
                                headers=webapp.headers("demo"))
    assert history.status_code == 200
    assert {h["institution"] for h in history.json()["items"]} == {"1964733"}


def test_review_email_shows_only_the_callers_emails(webapp: WebApp) -> None:
    mine = webapp.client.get("/api/v1/emails", headers=webapp.headers("demo")).json()["items"]
    assert webapp.data.emails["1964733"] in {e["id"] for e in mine}
    assert webapp.data.emails["1964734"] not in {e["id"] for e in mine}
    theirs = webapp.client.get(f"/api/v1/emails/{webapp.data.emails['1964734']}",
                               headers=webapp.headers("demo"))
    assert theirs.status_code == NOT_FOUND


def test_operator_actions_are_refused_to_districts(webapp: WebApp) -> None:
    job = webapp.data.jobs["2180"]
    for method, path in (("GET", "/api/v1/dead-letters"), ("GET", "/api/v1/dead-letters/1"),
                         ("POST", f"/api/v1/submissions/{job}/replay"),
                         ("POST", f"/api/v1/submissions/{job}/fail")):
        answer = webapp.client.request(method, path, headers=webapp.headers("oregon"),
                                       json={"reason": "x"} if path.endswith("fail") else None)
        assert answer.status_code == 403, path
        assert answer.json()["detail"] == "Only a state operator can do this."


def test_pages_refuse_another_districts_job_record_and_rows(webapp: WebApp) -> None:
    browser = webapp.browser("oregon")
    theirs = webapp.data.jobs["2181"]
    for path in (f"/jobs/{theirs}", f"/jobs/{theirs}/errors",
                 f"/jobs/{theirs}/errors/invalid-date", f"/jobs/{theirs}/held/3",
                 f"/students/SENR/{webapp.data.records['1964734']}"):
        answer = browser.get(path)
        assert answer.status_code == NOT_FOUND, path
        assert "Roe" not in answer.text and "Jones" not in answer.text
    queue = browser.get("/queue").text
    assert f'id="job-{webapp.data.jobs["2180"]}"' in queue
    assert f'id="job-{theirs}"' not in queue
    # A forged post: the right CSRF token, another district's held rows.
    token = csrf_of(browser.get("/housekeeping").text)
    forged = browser.post(f"/housekeeping/{theirs}", data={"csrf_token": token},
                          follow_redirects=False)
    assert forged.status_code == NOT_FOUND
    upload = browser.post("/upload", data={"csrf_token": token, "collection": "ODE-SSID",
                                           "institution": "2181"},
                          files={"file": ("x.csv", b"x\r\n")})
    assert "You do not have rights to submit this Institution ID." in upload.text
    shown = browser.get(f"/emails?show={webapp.data.emails['1964734']}")
    assert shown.status_code == 200 and 'id="opened-body"' not in shown.text


def test_a_reviewer_cannot_submit_or_fix(webapp: WebApp) -> None:
    refused = webapp.client.post(
        "/api/v1/submissions", headers=webapp.headers("demo-reviewer"),
        data={"collection": "SENR", "institution": "1964733"},
        files={"file": ("x.csv", b"SENR\r\n")})
    assert refused.status_code == 403
    assert "submitter role" in refused.json()["detail"]
