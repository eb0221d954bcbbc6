"""The web app: upload page, job pages, and the JSON API behind ``edcs submit``.

Run with ``python -m services.web`` (uvicorn). An upload's events are written to the outbox with
its job and published after the commit; the outbox relay (at start and every few seconds)
publishes whatever a crash or a broker outage left there.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import html
import io
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, File, Form, HTTPException, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import (
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from fastapi.templating import Jinja2Templates
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from sqlalchemy import delete, select, update

from services.web.context import WebContext
from services.web.identity_api import identity_router
from services.web.operations_api import operations_router
from services.web.overview import refresh_store_gauges
from services.web.records import DELIMITERS, export_lines, history_of, upload_text
from services.web.submissions import (
    Accepted,
    UploadRefused,
    accept_upload,
    issues_of,
    job_json,
)
from services.web.window import window_router
from shared.catalog.loader import default_catalog
from shared.catalog.models import Layout
from shared.db.models import HeldRecord, Institution, Submission
from shared.db.session import make_engine, make_session_factory
from shared.errors import reason_of
from shared.filestore import FileStore
from shared.messaging import outbox
from shared.messaging.kafka import make_producer
from shared.metrics import exposition
from shared.settings import Settings


class Fix(BaseModel):
    """A correction of a held record: the fields to change, by name."""

    fields: dict[str, str]
    email: str | None = None


TEMPLATES = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))
ISSUES_ON_PAGE = 200
OUTBOX_EVERY = 5.0  # seconds between relay rounds
OUTBOX_GRACE = dt.timedelta(seconds=10)  # rows younger than this are still being published
log = logging.getLogger(__name__)


def create_app(settings: Settings) -> FastAPI:  # noqa: C901 - one closure per route
    """The app with its database, file store and Kafka producer."""
    catalog = default_catalog()
    sessions = make_session_factory(make_engine(settings.database.url))
    store = FileStore(settings.files_dir)
    web = WebContext(settings, catalog, sessions, store)

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
        producer = make_producer(settings.kafka)
        await producer.start()
        web.state["producer"] = producer
        relay = asyncio.create_task(relay_forever(producer))
        try:
            yield
        finally:
            relay.cancel()
            await producer.stop()

    app = FastAPI(title="edcs", lifespan=lifespan)
    app.include_router(operations_router(web))
    app.include_router(identity_router(web))
    app.include_router(window_router(web))

    async def submit(file: UploadFile, collection: str, institution: str,
                     email: str | None, fixes: tuple[int, int] | None = None) -> Submission:
        def work() -> Accepted:
            with sessions.begin() as session:
                return accept_upload(
                    session, catalog, store, stream=file.file,
                    filename=file.filename or "upload", collection=collection.strip(),
                    institution_id=institution.strip(), submitted_by=email or None,
                    max_bytes=settings.pipeline.max_upload_bytes, fixes=fixes)

        accepted = await run_in_threadpool(work)
        await web.publish(accepted.outbox_ids)
        return accepted.submission

    def job(submission_id: int) -> dict[str, Any]:
        with sessions() as session:
            submission = session.get(Submission, submission_id)
            if submission is None:
                raise HTTPException(404, f"no submission {submission_id}")
            return job_json(session, submission, settings.base_url)

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/metrics")
    def metrics() -> Response:
        # The store gauges are read at scrape time: every process's view is the same.
        with sessions() as session:
            refresh_store_gauges(session, dt.datetime.now(dt.UTC).replace(tzinfo=None))
        return Response(generate_latest(exposition("web")), media_type=CONTENT_TYPE_LATEST)

    @app.post("/api/submissions", status_code=201)
    async def api_submit(file: Annotated[UploadFile, File()],
                         collection: Annotated[str, Form()],
                         institution: Annotated[str, Form()],
                         email: Annotated[str | None, Form()] = None) -> JSONResponse:
        try:
            submission = await submit(file, collection, institution, email)
        except UploadRefused as refused:
            return JSONResponse({"errors": [refused.issue.model_dump(mode="json")]},
                                status_code=refused.status)
        return JSONResponse(job(submission.id), status_code=201)

    @app.get("/api/submissions")
    def api_list(institution: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        with sessions() as session:
            query = select(Submission).order_by(Submission.id.desc()).limit(min(limit, 500))
            if institution:
                query = query.where(Submission.institution_id == institution)
            return [job_json(session, s, settings.base_url) for s in session.scalars(query)]

    @app.get("/api/submissions/{submission_id}")
    def api_job(submission_id: int) -> dict[str, Any]:
        return job(submission_id)

    @app.get("/api/submissions/{submission_id}/issues")
    def api_issues(submission_id: int) -> list[dict[str, Any]]:
        job(submission_id)
        with sessions() as session:
            return [{"row": i.row, "field": i.field, "field_name": i.field_name,
                     "code": i.code, "severity": i.severity, "message": i.message,
                     "rule_id": i.rule_id} for i in issues_of(session, submission_id)]

    @app.get("/api/submissions/{submission_id}/issues.csv")
    def api_issues_csv(submission_id: int) -> Response:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["row", "field", "field_name", "code", "severity", "message", "rule_id"])
        for i in api_issues(submission_id):
            writer.writerow(i.values())
        return Response(out.getvalue(), media_type="text/csv", headers={
            "Content-Disposition": f'attachment; filename="submission-{submission_id}-'
                                   'errors.csv"'})

    def layout_of(collection: str) -> Layout:
        found = catalog.collection(collection)
        if found is None:
            raise HTTPException(404, f"unknown collection {collection}")
        return catalog.layout_of(found)

    @app.get("/api/records/{collection}")
    def api_export(collection: str, institution: str, format: str = "csv",  # noqa: A002
                   changed_since: dt.date | None = None) -> StreamingResponse:
        layout = layout_of(collection)
        if format not in DELIMITERS:
            raise HTTPException(422, f"format must be one of {', '.join(DELIMITERS)}")

        def lines() -> Iterator[str]:
            with sessions() as session:
                yield from export_lines(session, layout, institution, format, changed_since)

        return StreamingResponse(lines(), media_type="text/plain; charset=utf-8", headers={
            "Content-Disposition": f'attachment; filename="{layout.record_type}-{institution}'
                                   f'.{format}"'})

    @app.get("/api/history/{collection}")
    def api_history(collection: str, institution: str, key: str | None = None,
                    submission: int | None = None) -> list[dict[str, Any]]:
        layout = layout_of(collection)
        with sessions() as session:
            return history_of(session, layout, institution, key=key, submission_id=submission)

    def held_of(submission_id: int) -> tuple[Layout, list[HeldRecord]]:
        data = job(submission_id)
        with sessions() as session:
            held = list(session.scalars(select(HeldRecord).where(
                HeldRecord.submission_id == submission_id).order_by(HeldRecord.row)))
        return layout_of(data["collection"]), held

    @app.get("/api/submissions/{submission_id}/held")
    def api_held(submission_id: int) -> list[dict[str, Any]]:
        """Records with errors kept to be fixed (valid-records-post: Oregon Review Errors)."""
        layout, held = held_of(submission_id)
        names = [f.name for f in layout.fields]
        return [{"row": h.row, "issues": h.issues,
                 "fields": dict(zip(names, h.fields, strict=True)) if h.fields else None}
                for h in held]

    @app.post("/api/submissions/{submission_id}/held/{row}", status_code=201)
    async def api_fix(submission_id: int, row: int, fix: Fix) -> JSONResponse:
        """Correct one held record: it goes through the pipeline again as a one-record file."""
        layout, held = held_of(submission_id)
        record = next((h for h in held if h.row == row), None)
        if record is None:
            raise HTTPException(404, f"submission {submission_id} holds no record at row {row}")
        names = [f.name for f in layout.fields]
        unknown = sorted(set(fix.fields) - set(names))
        if unknown:
            raise HTTPException(422, f"no field named {', '.join(unknown)}; fields are "
                                     f"{', '.join(names)}")
        values = dict(zip(names, record.fields or [""] * len(names), strict=True)) | fix.fields
        text = upload_text(layout, [[values[n] for n in names]])
        original = job(submission_id)
        upload = UploadFile(io.BytesIO(text.encode()), filename=f"fix-{submission_id}-{row}.csv")
        try:
            submission = await submit(upload, original["collection"], original["institution"],
                                      fix.email, fixes=(submission_id, row))
        except UploadRefused as refused:
            return JSONResponse({"errors": [refused.issue.model_dump(mode="json")]},
                                status_code=refused.status)
        return JSONResponse(job(submission.id), status_code=201)

    @app.delete("/api/submissions/{submission_id}/held")
    def api_housekeeping(submission_id: int) -> dict[str, int]:
        """Housekeeping: drop the file's records that were never posted."""
        job(submission_id)
        with sessions.begin() as session:
            gone = session.execute(delete(HeldRecord).where(
                HeldRecord.submission_id == submission_id))
            session.execute(update(Submission).where(Submission.id == submission_id)
                            .values(held=0))
        return {"deleted": int(gone.rowcount or 0)}  # type: ignore[attr-defined]

    @app.get("/api/submissions/{submission_id}/file")
    def api_file(submission_id: int) -> Response:
        """The file as it was uploaded (an archived submission stays readable)."""
        data = job(submission_id)
        with sessions() as session:
            submission = session.get(Submission, submission_id)
            sha = submission.sha256 if submission else None
        if sha is None or not store.path(sha).exists():
            raise HTTPException(404, f"the file of submission {submission_id} is not stored")
        with store.open(sha) as fh:
            content = fh.read()
        return Response(content, media_type="application/octet-stream", headers={
            "Content-Disposition": f'attachment; filename="{data["filename"]}"'})

    @app.get("/", response_class=HTMLResponse)
    def home(request: Request) -> HTMLResponse:
        with sessions() as session:
            # Districts before the state (no parent and id 0000000 sorts first by id).
            institutions = list(session.scalars(select(Institution).order_by(Institution.name)))
            jobs = list(session.scalars(select(Submission).order_by(Submission.id.desc())
                                        .limit(25)))
        return TEMPLATES.TemplateResponse(request, "home.html", {
            "collections": sorted(catalog.collections.values(), key=lambda c: c.code),
            "institutions": institutions, "jobs": jobs})

    @app.post("/upload")
    async def upload(file: Annotated[UploadFile, File()],
                     collection: Annotated[str, Form()], institution: Annotated[str, Form()],
                     email: Annotated[str | None, Form()] = None) -> Response:
        try:
            submission = await submit(file, collection, institution, email)
        except UploadRefused as refused:
            return HTMLResponse(f"<p class=error>{html.escape(refused.issue.message)}</p>"
                                '<p><a href="/">Back</a></p>', status_code=refused.status)
        return RedirectResponse(f"/jobs/{submission.id}", status_code=303)

    @app.get("/jobs/{submission_id}", response_class=HTMLResponse)
    def job_page(request: Request, submission_id: int) -> HTMLResponse:
        data = job(submission_id)
        with sessions() as session:
            issues = issues_of(session, submission_id, limit=ISSUES_ON_PAGE)
        by_code = sorted(data["issue_counts"].items(), key=lambda item: -item[1])
        return TEMPLATES.TemplateResponse(request, "job.html", {
            "job": data, "issues": issues, "by_code": by_code, "shown": len(issues),
            "cap": settings.pipeline.max_issues_per_code})

    return app
