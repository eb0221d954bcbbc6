"""A security administrator adds a user and a token in the browser, within their institution."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tests.fixtures.webapp import WebApp, csrf_of

pytestmark = pytest.mark.integration


def test_a_security_administrator_adds_a_user_who_then_signs_in(webapp: WebApp) -> None:
    admin = webapp.browser("demo")
    page = admin.get("/admin")
    assert page.status_code == 200 and "operator" not in re.findall(
        r'name="role" value="([^"]+)"', page.text)
    token = csrf_of(page.text)
    added = admin.post("/admin/users", data={
        "csrf_token": token, "email": "helper@demo-usd.example", "institution": "6000002",
        "name": "<i>Helper</i>", "role": ["reviewer"]})
    assert added.status_code == 200
    password = re.search(r"Their password, shown once: (\S+) ", added.text)
    assert password is not None and "<i>Helper</i>" not in added.text
    forged = admin.post("/admin/users", data={
        "csrf_token": token, "email": "x@other-usd.example", "institution": "1964734",
        "role": ["submitter"]})
    assert forged.status_code == 403
    issued = admin.post("/admin/tokens", data={"csrf_token": token, "name": "vendor",
                                               "institution": "1964733",
                                               "role": ["submitter"]})
    secret = re.search(r"again: (edcs_\S+)<", issued.text)
    assert secret is not None
    me = webapp.client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret[1]}"})
    assert me.json()["roles"] == ["submitter"]

    helper = TestClient(webapp.client.app)
    form = helper.get("/login")
    login = re.search(r'name="login_token" value="([^"]+)"', form.text)
    assert login is not None
    done = helper.post("/login", data={"email": "helper@demo-usd.example",
                                       "password": password[1], "login_token": login[1]},
                       follow_redirects=False)
    assert done.status_code == 303
    assert helper.get("/admin").status_code == 403  # a reviewer manages nobody
    assert "6000002" in helper.get("/").text


def test_a_reviewer_sees_no_admin_page(webapp: WebApp) -> None:
    assert webapp.browser("demo-reviewer").get("/admin").status_code == 403
