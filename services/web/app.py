"""The web app: the coordinator's pages and the versioned JSON API (``/api/v1``) behind them,
the ``edcs`` command and vendors' servers.

Run with ``python -m services.web`` (uvicorn). An upload's events are written to the outbox with
its job and published after the commit; the outbox relay (at start and every few seconds)
publishes whatever a crash or a broker outage left there. Every route but ``/health``,
``/metrics``, ``/login`` and the OpenAPI document needs a signed-in user or an API token
(services.web.security), and answers only for the institutions the caller acts for.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.web import downloads, problems
from services.web.api_accounts import accounts_router
from services.web.api_directory import directory_router
from services.web.api_records import records_router
from services.web.api_reference import reference_router
from services.web.api_submissions import submissions_router
from services.web.context import WebContext
from services.web.identity_api import identity_router
from services.web.operations_api import operations_router
from services.web.overview import refresh_store_gauges
from services.web.pages import STATIC
from services.web.pages_admin import admin_router
from services.web.pages_auth import auth_router
from services.web.pages_errors import errors_router
from services.web.pages_identity import identity_pages
from services.web.pages_records import records_pages
from services.web.pages_work import work_router
from services.web.security import Sessions
from services.web.window import window_router
from shared.catalog.loader import default_catalog
from shared.db.session import make_engine, make_session_factory
from shared.errors import reason_of
from shared.filestore import FileStore
from shared.messaging import outbox
from shared.messaging.kafka import make_producer
from shared.metrics import exposition
from shared.privacy import session_key
from shared.settings import Settings

OUTBOX_EVERY = 5.0  # seconds between relay rounds
OUTBOX_GRACE = dt.timedelta(seconds=10)  # rows younger than this are still being published
HEADERS = [
    (b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"content-security-policy", b"default-src 'self'; script-src 'self'; style-src 'self'; "
                                 b"img-src 'self' data:; form-action 'self'; "
                                 b"frame-ancestors 'none'; base-uri 'none'"),
]
log = logging.getLogger(__name__)


class SecurityHeaders:
    """Headers that keep pages from being framed, sniffed or running foreign scripts."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *HEADERS]
            await send(message)

        await self.app(scope, receive, with_headers)


def create_app(settings: Settings, connect: bool = True) -> FastAPI:
    """The app with its database, file store and (unless ``connect`` is false, as in tests of
    the API alone) its Kafka producer."""
    catalog = default_catalog()
    sessions = make_session_factory(make_engine(settings.database.url, reader=True))
    web = WebContext(settings, catalog, sessions, FileStore(settings.files_dir),
                     session_key=session_key(settings))
    auth = Sessions(web)

    async def relay_forever(producer: Any) -> None:
        first = True
        while True:
            try:
                await outbox.relay(sessions, producer, settings.kafka,
                                   older_than=None if first else OUTBOX_GRACE)
                first = False
            except Exception as exc:  # noqa: BLE001 - the rows stay; the next round retries
                log.warning("outbox relay failed (next round in %s s): %s",
                            OUTBOX_EVERY, reason_of(exc))
            await asyncio.sleep(OUTBOX_EVERY)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        for waiting in await run_in_threadpool(downloads.pending, web):
            web.spawn(run_in_threadpool(downloads.build, web, waiting))
        await run_in_threadpool(downloads.clean, web)
        if not connect:
            yield
            return
        producer = make_producer(settings.kafka)
        await producer.start()
        web.state["producer"] = producer
        relay = asyncio.create_task(relay_forever(producer))
        try:
            yield
        finally:
            relay.cancel()
            await producer.stop()

    app = FastAPI(title="edcs", version="1.0", lifespan=lifespan,
                  openapi_url="/api/v1/openapi.json", docs_url="/api/v1/docs",
                  redoc_url=None, description=__doc__)
    app.state.web, app.state.auth = web, auth
    problems.install(app)

    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for router in (submissions_router(web), records_router(web), accounts_router(web),
                   reference_router(web), operations_router(web), auth_router(web, auth),
                   work_router(web), errors_router(web), records_pages(web),
                   admin_router(web), identity_router(web), identity_pages(web),
                   window_router(web), directory_router(web)):
        app.include_router(router)

    @app.get("/health", include_in_schema=False)
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        # The store gauges are read at scrape time: every process's view is the same.
        with sessions() as session:
            refresh_store_gauges(session, dt.datetime.now(dt.UTC).replace(tzinfo=None))
        return Response(generate_latest(exposition("web")), media_type=CONTENT_TYPE_LATEST)

    return app
