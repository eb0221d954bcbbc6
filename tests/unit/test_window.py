"""The window page and the store gauges, on a SQLite store: files per collection and district,
districts that have not submitted, the oldest file not final, the backlog, and what Prometheus
says when it runs (a stand-in answering its HTTP API here; the e2e test uses the real one)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import REGISTRY
from sqlalchemy.orm import Session, sessionmaker

from services.web.context import WebContext
from services.web.overview import refresh_store_gauges
from services.web.security import api_principal, page_principal
from services.web.window import window_router
from shared.accounts import OPERATOR, Principal
from shared.catalog.loader import default_catalog
from shared.db.migrate import upgrade
from shared.db.models import Email, Institution, OutboxMessage, Submission
from shared.db.session import make_engine, make_session_factory
from shared.filestore import FileStore
from shared.settings import MonitoringSettings, Settings

NOW = dt.datetime(2026, 12, 1, 12, 0, 0)


@pytest.fixture
def sessions(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    upgrade(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    with factory.begin() as session:
        for ident, name in (("1964733", "Demo USD"), ("2180", "Demo SD"), ("0000000", "State")):
            session.add(Institution(id=ident, name=name, contact_email="c@example.org"))
        session.flush()
        for n, (inst, status, age) in enumerate([
                ("1964733", "posted", 90), ("1964733", "rejected", 80),
                ("1964733", "processing", 30), ("1964733", "posting", 10),
                ("1964733", "received", 5)], start=1):
            session.add(Submission(id=n, collection="SENR", institution_id=inst, filename="f",
                                   submitted_by="c@example.org", status=status,
                                   received_at=NOW - dt.timedelta(minutes=age)))
        session.add(Submission(id=9, collection="SINF", institution_id="2180", filename="f",
                               submitted_by="c@example.org", status="failed",
                               received_at=NOW - dt.timedelta(minutes=200)))
        session.flush()  # the email refers to a submission
        session.add(Email(submission_id=1, milestone="received", recipient="c@example.org",
                          subject="", body="", status="retry", attempts=1, created_at=NOW))
        session.add(OutboxMessage(topic="files.received", key=b"5", value=b"{}"))
    yield factory
    engine.dispose()


class Client:
    """GET on the app in this process (httpx's ASGI transport; no server)."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def get(self, path: str) -> httpx.Response:
        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://edcs") as c:
                return await c.get(path)

        return asyncio.run(go())


def client(sessions: sessionmaker[Session], tmp_path: Path,
           prometheus_url: str | None = None) -> Client:
    settings = Settings(data_dir=tmp_path,
                        monitoring=MonitoringSettings(prometheus_url=prometheus_url))
    app = FastAPI()
    app.include_router(window_router(WebContext(settings, default_catalog(), sessions,
                                                FileStore(tmp_path / "files"))))
    # Who may see the window is tested with the whole app (tests/integration/test_web_api.py);
    # here the caller is the state operator.
    operator = Principal(kind="token", id=1, label="operator", institution_id="0000000",
                         roles=frozenset({OPERATOR}), scope=None)
    app.dependency_overrides[api_principal] = lambda: operator
    app.dependency_overrides[page_principal] = lambda: operator
    return Client(app)


def test_the_window_from_the_store(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    data = client(sessions, tmp_path).get("/api/v1/window").json()
    assert [d["id"] for d in data["districts"]] == ["2180", "1964733"]  # not the state
    senr = next(c for c in data["collections"] if c["code"] == "SENR")
    assert senr["totals"] == {"received": 1, "processing": 2, "posted": 1, "rejected": 1,
                              "failed": 0}
    assert senr["not_submitted"] == 1
    assert senr["districts"]["2180"]["submitted"] is False
    sinf = next(c for c in data["collections"] if c["code"] == "SINF")
    assert sinf["districts"]["2180"]["failed"] == 1
    assert data["oldest_open"]["id"] == 3  # the failed one is final, however old
    assert data["backlog"] == {"web → broker (outbox)": 1, "ingest + validate (received)": 1,
                               "post: staging (processing)": 1, "post: posting": 1,
                               "notify (emails owed)": 1}
    assert data["monitoring"]["url"] is None


def test_the_page_shows_it_and_refreshes(sessions: sessionmaker[Session],
                                         tmp_path: Path) -> None:
    page = client(sessions, tmp_path).get("/window")
    assert page.status_code == 200
    assert '<meta http-equiv="refresh"' in page.text
    assert "not yet submitted" in page.text
    assert 'href="/jobs/3"' in page.text
    assert "Monitoring is not running" in page.text


class FakePrometheus(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path.startswith("/api/v1/alerts"):
            data: Any = {"alerts": [{"state": "firing", "activeAt": "2026-12-01T11:59:00Z",
                                     "labels": {"alertname": "EdcsWorkerDown",
                                                "severity": "critical"},
                                     "annotations": {"summary": "Worker validate is down"}}]}
        elif "up" in self.path and "%3D%3D" in self.path:
            data = {"result": [{"metric": {"process": "validate"}, "value": [0, "0"]}]}
        else:
            data = {"result": [{"metric": {"stage": "validate"}, "value": [0, "42"]}]}
        body = json.dumps({"status": "success", "data": data}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        return


def test_what_prometheus_says_is_shown(sessions: sessionmaker[Session],
                                       tmp_path: Path) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakePrometheus)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        web = client(sessions, tmp_path, url)
        data = web.get("/api/v1/window").json()["monitoring"]
        page = web.get("/window").text
    finally:
        server.shutdown()
        server.server_close()
    assert data["reachable"] is True
    assert data["by_stage"]["validate"]["lag"] == 42
    assert data["down"] == ["validate"]
    assert [a["name"] for a in data["alerts"]] == ["EdcsWorkerDown"]
    assert "EdcsWorkerDown" in page and "Not answering scrapes: validate" in page


def test_an_unreachable_prometheus_is_said(sessions: sessionmaker[Session],
                                           tmp_path: Path) -> None:
    page = client(sessions, tmp_path, "http://127.0.0.1:9").get("/window").text
    assert "does not answer" in page


def test_store_gauges(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        refresh_store_gauges(session, NOW)
    def get(name: str, **labels: str) -> float | None:
        return REGISTRY.get_sample_value(name, labels)
    assert get("edcs_store_files", collection="SENR", status="processing") == 1
    assert get("edcs_store_files", collection="SINF", status="failed") == 1
    assert get("edcs_store_oldest_open_file_age_seconds") == 30 * 60
    assert get("edcs_store_outbox_messages") == 1
    assert get("edcs_store_emails", status="retry") == 1
