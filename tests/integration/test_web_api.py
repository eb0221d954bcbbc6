"""The versioned API as a vendor or the CLI uses it: problem details, pagination, fixes of held
records, history, exports, background downloads, users and tokens."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from shared.db.models import OdsRecord, RecordHistory, Submission
from tests.fixtures.webapp import WebApp

pytestmark = pytest.mark.integration


def test_a_bad_request_is_a_problem_document_that_echoes_nothing(webapp: WebApp) -> None:
    answer = webapp.client.get("/api/v1/submissions?limit=<script>",
                               headers=webapp.headers("demo"))
    assert answer.status_code == 422
    body = answer.json()
    assert body["type"].endswith("/invalid-request") and body["status"] == 422
    assert body["errors"][0]["loc"] == ["query", "limit"]
    assert "<script>" not in answer.text
    missing = webapp.client.get("/api/v1/nothing-here", headers=webapp.headers("demo"))
    assert missing.status_code == 404 and missing.json()["status"] == 404


def test_the_openapi_document_describes_the_api(webapp: WebApp) -> None:
    document = webapp.client.get("/api/v1/openapi.json").json()
    paths = document["paths"]
    for path in ("/api/v1/submissions", "/api/v1/submissions/{submission_id}/held/{row}",
                 "/api/v1/records/{collection}/search", "/api/v1/history/{collection}",
                 "/api/v1/downloads", "/api/v1/users", "/api/v1/tokens", "/api/v1/emails",
                 "/api/v1/collections/{code}/lookup-values", "/api/v1/dead-letters"):
        assert path in paths, path
    assert not [p for p in paths if not p.startswith("/api/v1/")]


def test_a_fix_twice_is_one_job_another_fix_waits_and_bad_values_are_refused(
        webapp: WebApp) -> None:
    job = webapp.data.jobs["2180"]
    url = f"/api/v1/submissions/{job}/held/3"
    headers = webapp.headers("oregon")
    first = webapp.client.post(url, json={"fields": {"dob": "12312014"}}, headers=headers)
    assert first.status_code == 201, first.text
    again = webapp.client.post(url, json={"fields": {"dob": "12312014"}}, headers=headers)
    assert again.status_code == 201 and again.json()["id"] == first.json()["id"]
    other = webapp.client.post(url, json={"fields": {"dob": "11302014"}}, headers=headers)
    assert other.status_code == 409
    assert f"submission {first.json()['id']}" in other.json()["detail"]
    held = webapp.client.get(url, headers=headers).json()
    assert held["row"] == 3 and held["fixing"] == first.json()["id"]  # still addressable
    assert first.json()["fixes"] == {"submission": job, "row": 3}
    for fields, says in (({"dob": "1231\r\n2014"}, "line break"),
                         ({"nonsense": "1"}, "no field named")):
        refused = webapp.client.post(url, json={"fields": fields}, headers=headers)
        assert refused.status_code in (409, 422) and (
            refused.status_code == 409 or says in refused.json()["detail"])


def test_line_breaks_in_a_fix_are_refused_before_anything_else(webapp: WebApp) -> None:
    job = webapp.data.jobs["2181"]
    refused = webapp.client.post(f"/api/v1/submissions/{job}/held/3",
                                 json={"fields": {"legal_first": "A\nB"}},
                                 headers=webapp.headers("other-oregon"))
    assert refused.status_code == 422
    assert "line break" in refused.json()["detail"]


def test_history_is_paginated_without_a_cap_and_keys_are_checked(webapp: WebApp) -> None:
    with webapp.sessions.begin() as session:
        job = session.scalar(select(Submission.id).where(Submission.institution_id == "1964733"))
        key = session.scalar(select(OdsRecord.op_key).where(OdsRecord.lea == "1964733"))
        session.add_all([RecordHistory(record_type="SENR", op_key=key, action="update",
                                       before=["a"], after=["b"], submission_id=job)
                         for _ in range(25)])
    seen, cursor = [], None
    while True:
        page = webapp.client.get("/api/v1/history/SENR", headers=webapp.headers("demo"),
                                 params={"institution": "1964733", "key": key, "limit": 10,
                                         **({"cursor": cursor} if cursor else {})}).json()
        seen.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 26 and len({c["id"] for c in seen}) == 26
    bad = webapp.client.get("/api/v1/history/SENR", headers=webapp.headers("demo"),
                            params={"institution": "1964733", "key": "SCHOOL|SSID"})
    assert bad.status_code == 422
    assert "school_of_attendance|ssid|enrollment_start_date" in bad.json()["detail"]


def test_exports_neutralise_formulas_and_show_ssns_only_hashed(webapp: WebApp) -> None:
    with webapp.sessions.begin() as session:
        record = session.get(OdsRecord, webapp.data.records["1964733"])
        assert record is not None
        fields = list(record.fields)
        fields[2], fields[8] = "=HYPERLINK(\"http://x\")", "@SUM(1)"
        record.fields = fields
    for fmt in ("csv", "txt"):
        text = webapp.client.get(f"/api/v1/records/SENR?institution=1964733&format={fmt}",
                                 headers=webapp.headers("demo")).text
        assert "'=HYPERLINK" in text and "'@SUM(1)" in text
        assert ",=" not in text and "^=" not in text and not text.startswith("=")
    xml = webapp.client.get("/api/v1/records/SENR?institution=1964733&format=xml",
                            headers=webapp.headers("demo"))
    assert xml.headers["content-type"].startswith("application/xml")
    assert "<local_record_id>=HYPERLINK(&quot;" in xml.text or "=HYPERLINK(\"" in xml.text


def test_a_production_download_is_built_in_the_background_and_emailed(webapp: WebApp) -> None:
    asked = webapp.client.post("/api/v1/downloads", headers=webapp.headers("demo"),
                               json={"collection": "SENR", "institution": "1964733",
                                     "format": "csv"})
    assert asked.status_code == 202, asked.text
    url = f"/api/v1/downloads/{asked.json()['id']}"
    deadline = time.monotonic() + 30
    while (state := webapp.client.get(url, headers=webapp.headers("demo")).json())[
            "status"] == "pending":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert state["status"] == "ready" and state["records"] == 1
    built = webapp.client.get(url + "/file", headers=webapp.headers("demo"))
    assert built.status_code == 200 and "1234567890" in built.text
    assert webapp.client.get(url + "/file", headers=webapp.headers("other")).status_code == 404
    mails = webapp.client.get("/api/v1/emails", headers=webapp.headers("demo")).json()["items"]
    ready = [m for m in mails if m["milestone"] == "download"]
    assert ready and "is ready" in ready[0]["subject"]
    body = webapp.client.get(f"/api/v1/emails/{ready[0]['id']}",
                             headers=webapp.headers("demo")).json()["body"]
    assert f"/downloads/{asked.json()['id']}" in body and "Smith" not in body


def test_a_security_administrator_manages_only_their_institution(webapp: WebApp) -> None:
    admin = webapp.headers("demo")
    made = webapp.client.post("/api/v1/users", headers=admin, json={
        "email": "New.Person@Demo-USD.example", "institution": "6000001",
        "roles": ["reviewer"]})
    assert made.status_code == 201, made.text
    assert made.json()["email"] == "new.person@demo-usd.example"
    assert len(made.json()["password"]) >= 12
    for body, status in (
            ({"email": "x@other.example", "institution": "1964734", "roles": []}, 403),
            ({"email": "y@demo.example", "institution": "1964733", "roles": ["operator"]},
             403),
            ({"email": "not-an-email", "institution": "1964733", "roles": []}, 422)):
        answer = webapp.client.post("/api/v1/users", headers=admin, json=body)
        assert answer.status_code == status, (body, answer.text)
    changed = webapp.client.patch(f"/api/v1/users/{made.json()['id']}", headers=admin,
                                  json={"grant": ["submitter"], "revoke": ["reviewer"]})
    assert changed.json()["roles"] == ["submitter"]
    listed = webapp.client.get("/api/v1/users", headers=admin).json()
    assert {u["institution"] for u in listed} <= {"1964733", "6000000", "6000001", "6000002"}
    assert webapp.client.get("/api/v1/users", headers=webapp.headers("other")).status_code == 403
    token = webapp.client.post("/api/v1/tokens", headers=admin, json={
        "institution": "1964733", "name": "SIS vendor", "roles": ["submitter", "reviewer"]})
    assert token.status_code == 201 and token.json()["token"].startswith("edcs_")
    vendor = {"Authorization": f"Bearer {token.json()['token']}"}
    assert webapp.client.get("/api/v1/me", headers=vendor).json()["institution"] == "1964733"
