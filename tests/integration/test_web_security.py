"""Bad input at the door: no or revoked credentials, expired sessions, CSRF, sign-in guessing,
script in every text field, odd file names, oversized and doubled uploads."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from shared.accounts import issue_token
from shared.db.accounts import WebSession
from tests.fixtures.webapp import PEOPLE, WebApp, csrf_of

pytestmark = pytest.mark.integration
SCRIPT = '<script>alert("x")</script>'


def test_the_api_needs_a_token_and_says_how_to_get_one(webapp: WebApp) -> None:
    answer = TestClient(webapp.client.app).get("/api/v1/submissions")
    assert answer.status_code == 401
    assert answer.headers["content-type"] == "application/problem+json"
    body = answer.json()
    assert body["type"].endswith("/sign-in-required") and body["status"] == 401
    assert "Authorization: Bearer" in body["detail"]
    forged = webapp.client.get("/api/v1/submissions",
                               headers={"Authorization": "Bearer edcs_not-a-token"})
    assert forged.status_code == 401 and "revoked" in forged.json()["detail"]


def test_a_revoked_token_stops_working_at_once(webapp: WebApp) -> None:
    with webapp.sessions.begin() as session:
        token, secret = issue_token(session, "1964733", "vendor", frozenset({"submitter"}), None)
        token_id = token.id
    headers = {"Authorization": f"Bearer {secret}"}
    assert webapp.client.get("/api/v1/me", headers=headers).status_code == 200
    revoked = webapp.client.delete(f"/api/v1/tokens/{token_id}", headers=webapp.headers("demo"))
    assert revoked.status_code == 200 and revoked.json()["revoked"] is True
    assert webapp.client.get("/api/v1/me", headers=headers).status_code == 401
    # Another district's security administrator cannot revoke (or see) it.
    assert webapp.client.delete(f"/api/v1/tokens/{token_id}",
                                headers=webapp.headers("other")).status_code in (403, 404)


def test_pages_need_a_sign_in_and_an_expired_session_says_so(webapp: WebApp) -> None:
    anonymous = TestClient(webapp.client.app)
    first = anonymous.get("/queue", follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == "/login?next=%2Fqueue"
    browser = webapp.browser("demo")
    assert browser.get("/queue").status_code == 200
    with webapp.sessions.begin() as session:
        session.execute(update(WebSession).values(
            seen_at=dt.datetime(2020, 1, 1), created_at=dt.datetime(2020, 1, 1)))
    ended = browser.get("/queue", follow_redirects=False)
    assert ended.status_code == 303 and "reason=expired" in ended.headers["location"]
    assert "Your session has ended" in browser.get(ended.headers["location"]).text


def test_a_form_without_the_csrf_token_is_refused(webapp: WebApp) -> None:
    browser = webapp.browser("oregon")
    job = webapp.data.jobs["2180"]
    refused = browser.post(f"/housekeeping/{job}", data={"csrf_token": "forged"})
    assert refused.status_code == 403 and "reload the page" in refused.text
    api = browser.delete(f"/api/v1/submissions/{job}/held")  # the cookie, no X-CSRF-Token
    assert api.status_code == 403
    held = webapp.client.get(f"/api/v1/submissions/{job}/held", headers=webapp.headers("oregon"))
    assert len(held.json()["items"]) == 1
    login = TestClient(webapp.client.app).post("/login", data={
        "email": PEOPLE["demo"][0], "password": "x", "login_token": "forged"})
    assert login.status_code == 403


def test_sign_in_is_throttled_per_account_with_one_message_for_all(webapp: WebApp) -> None:
    client = TestClient(webapp.client.app)
    token = re.search(r'name="login_token" value="([^"]+)"', client.get("/login").text)
    assert token is not None
    messages = set()
    for _ in range(webapp.settings.web.login_failures + 1):
        for email in (PEOPLE["esd"][0], "nobody@nowhere.example"):
            answer = client.post("/login", data={"email": email, "password": "wrong guess",
                                                 "login_token": token[1]})
            assert answer.status_code == 401
            messages.add((email, "Too many" in answer.text))
    assert (PEOPLE["esd"][0], True) in messages and ("nobody@nowhere.example", True) in messages
    # Even the right password waits out the lock.
    locked = client.post("/login", data={"email": PEOPLE["esd"][0],
                                         "password": "correct horse battery staple",
                                         "login_token": token[1]})
    assert locked.status_code == 401 and "Too many failed sign-ins" in locked.text


def test_script_in_every_upload_field_comes_back_escaped(webapp: WebApp) -> None:
    browser = webapp.browser("demo")
    token = csrf_of(browser.get("/upload").text)
    answer = browser.post("/upload", data={"csrf_token": token, "collection": SCRIPT[:40],
                                           "institution": SCRIPT[:20], "email": SCRIPT},
                          files={"file": (SCRIPT + ".csv", b"x")})
    assert "<script>" not in answer.text
    answer = browser.post("/upload", data={"csrf_token": token, "collection": "SENR",
                                           "institution": "1964733", "email": SCRIPT},
                          files={"file": (SCRIPT + ".csv", b"x")})
    assert answer.status_code == 422
    assert "<script>" not in answer.text and "&lt;script&gt;" in answer.text


def test_an_odd_file_name_is_kept_shown_escaped_and_downloaded_by_name(webapp: WebApp) -> None:
    name = 'unié中 "quoted" <b>.csv'
    done = webapp.client.post(
        "/api/v1/submissions", headers=webapp.headers("demo"),
        data={"collection": "SENR", "institution": "1964733"},
        files={"file": (name, b"SENR,,9,1964733\r\n")})
    assert done.status_code == 201, done.text
    job = done.json()
    page = webapp.browser("demo").get(f"/jobs/{job['id']}").text
    assert "<b>.csv" not in page and "&lt;b&gt;.csv" in page
    stored = webapp.client.get(f"/api/v1/submissions/{job['id']}/file",
                               headers=webapp.headers("demo"))
    assert stored.status_code == 200
    header = stored.headers["content-disposition"]
    assert header.isascii()
    plain, _, encoded = header.partition("filename*=UTF-8''")
    assert unquote(encoded) == job["filename"]
    assert plain.count('"') == 2  # the ASCII fallback cannot break out of its quotes
    assert stored.content == b"SENR,,9,1964733\r\n"


def test_the_same_file_twice_while_the_first_is_in_flight_is_refused(webapp: WebApp) -> None:
    content = b"SENR,,77,1964733\r\n"
    first = webapp.client.post("/api/v1/submissions", headers=webapp.headers("demo"),
                               data={"collection": "SENR", "institution": "1964733"},
                               files={"file": ("twice.csv", content)})
    again = webapp.client.post("/api/v1/submissions", headers=webapp.headers("demo"),
                               data={"collection": "SENR", "institution": "1964733"},
                               files={"file": ("twice.csv", content)})
    assert first.status_code == 201
    assert again.status_code == 409
    assert f"submission {first.json()['id']}" in again.json()["detail"]


def test_an_oversized_upload_is_refused_before_it_is_read(webapp: WebApp) -> None:
    limit = webapp.settings.pipeline.max_upload_bytes
    answer = webapp.client.post(
        "/api/v1/submissions", headers={**webapp.headers("demo"),
                                        "content-length": str(limit * 2)},
        data={"collection": "SENR", "institution": "1964733"},
        files={"file": ("big.csv", b"SENR\r\n")})
    assert answer.status_code == 413
    assert str(limit) in answer.json()["detail"]


def test_an_invalid_email_address_is_refused(webapp: WebApp) -> None:
    answer = webapp.client.post("/api/v1/submissions", headers=webapp.headers("demo"),
                                data={"collection": "SENR", "institution": "1964733",
                                      "email": "not-an-email"},
                                files={"file": ("e.csv", b"SENR,,5,1964733\r\n")})
    assert answer.status_code == 422
    assert "not valid" in answer.json()["detail"]


def test_pages_are_not_framed_and_run_no_foreign_script(webapp: WebApp) -> None:
    answer = webapp.client.get("/login")
    assert answer.headers["x-frame-options"] == "DENY"
    assert "script-src 'self'" in answer.headers["content-security-policy"]
    assert answer.headers["x-content-type-options"] == "nosniff"


def test_a_large_original_file_is_downloaded_with_flat_memory(webapp: WebApp) -> None:
    import tracemalloc

    size = 24 * 1024 * 1024
    content = b"SENR,,1,1964733" + b"x" * (size - 17) + b"\r\n"
    done = webapp.client.post("/api/v1/submissions", headers=webapp.headers("demo"),
                              data={"collection": "SENR", "institution": "1964733"},
                              files={"file": ("big.csv", content)})
    assert done.status_code == 201, done.text
    del content
    tracemalloc.start()
    received = 0
    with webapp.client.stream("GET", f"/api/v1/submissions/{done.json()['id']}/file",
                              headers=webapp.headers("demo")) as answer:
        assert answer.status_code == 200
        for chunk in answer.iter_bytes():
            received += len(chunk)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert received == size
    assert peak < size / 4  # streamed in chunks, never read whole
