"""``/api/v1/records``, ``/api/v1/history``, ``/api/v1/downloads``: posted records (Production
Download, Student Lookup, Record Maintenance) and their change history."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from services.web import downloads
from services.web.context import WebContext
from services.web.fixes import layout_of
from services.web.formats import MEDIA_TYPES, content_disposition
from services.web.maintenance import edit_record, record_json, record_of
from services.web.problems import Id, Offset, Problem, QueryId
from services.web.records import export_lines, history_page, key_problem
from services.web.scoping import records_within, within
from services.web.search import Search, criteria
from services.web.security import api_principal, require, require_institution
from services.web.submissions import job_json
from shared.accounts import Principal
from shared.db.accounts import Download
from shared.db.models import OdsRecord, RecordHistory

Caller = Annotated[Principal, Depends(api_principal)]
Format = Literal["csv", "txt", "xml"]
Text = Annotated[str, Query(max_length=60)]


class Edit(BaseModel):
    """Record Maintenance: the fields to change, by name."""

    fields: dict[str, Annotated[str, Field(max_length=1000)]] = Field(max_length=200)
    email: str | None = Field(default=None, max_length=254)


class DownloadRequest(BaseModel):
    """A Production Download: every record of the institution, those of a search, or those
    changed in a date range (both ends included)."""

    collection: str = Field(max_length=20)
    institution: str = Field(max_length=20)
    format: Format = "csv"
    search: dict[str, str] | None = None
    changed_from: dt.date | None = None
    changed_to: dt.date | None = None


def search_of(values: dict[str, str]) -> Search:
    """A Search from its criteria by name (unknown names refused)."""
    known = set(Search.__dataclass_fields__)
    unknown = sorted(set(values) - known)
    if unknown:
        raise Problem(422, f"Search by {', '.join(sorted(known))}.")
    return Search(**{k: str(v)[:60] for k, v in values.items()})


def download_json(download: Download, base: str) -> dict[str, Any]:
    """A download as the API shows it."""
    return {"id": download.id, "status": download.status, "collection": download.collection,
            "institution": download.institution_id, "format": download.fmt,
            "records": download.records, "error": download.error,
            "created_at": download.created_at.isoformat(timespec="seconds") + "Z",
            "links": {"page": f"{base}/downloads/{download.id}",
                      "file": f"{base}/api/v1/downloads/{download.id}/file"}}


def records_router(web: WebContext) -> APIRouter:  # noqa: C901 - one closure per route
    """The routes."""
    router = APIRouter(prefix="/api/v1", tags=["records"])
    base = web.settings.base_url.rstrip("/")
    cap = web.settings.web.max_search_results

    @router.get("/records/{collection}", summary="Production Download, streamed")
    def export(principal: Caller, collection: str,
               institution: Annotated[str, Query(max_length=20)],
               format: Format = "csv",  # noqa: A002 - the public parameter name
               changed_since: dt.date | None = None) -> StreamingResponse:
        require(principal, "view")
        layout = layout_of(web, collection)
        require_institution(principal, institution)
        since = dt.datetime.combine(changed_since, dt.time()) if changed_since else None

        def lines() -> Iterator[str]:
            with web.sessions() as session:
                yield from export_lines(session, layout, institution, format,
                                        changed_since=since)

        name = f"{layout.record_type}-{institution}.{format}"
        return StreamingResponse(lines(), media_type=MEDIA_TYPES[format],
                                 headers={"Content-Disposition": content_disposition(name)})

    @router.get("/records/{collection}/search", summary="Student Lookup (at most 5,000)")
    def lookup(principal: Caller, collection: str, ssid: Text = "", institution: Text = "",
               last: Text = "", first: Text = "", dob: Text = "", gender: Text = "",
               grade: Text = "", student_id: Text = "",
               population: Literal["current", "last-year", "all"] = "all",
               limit: Annotated[int, Query(ge=1, le=500)] = 50,
               cursor: Offset = 0) -> dict[str, Any]:
        require(principal, "view")
        layout = layout_of(web, collection)
        search = Search(ssid, institution, last, first, dob, gender, grade, student_id,
                        population)
        if search.institution:
            require_institution(principal, search.institution)
        where = and_(criteria(layout, search, dt.date.today()), records_within(principal))
        with web.sessions() as session:
            found = list(session.scalars(select(OdsRecord.id).where(where)
                                         .order_by(OdsRecord.op_key).limit(cap + 1)))
            total, capped = min(len(found), cap), len(found) > cap
            ids = found[cursor:min(cursor + limit, cap)]
            rows = {r.id: r for r in session.scalars(select(OdsRecord).where(
                OdsRecord.id.in_(ids)))} if ids else {}
            items = [record_json(layout, rows[i]) for i in ids]
        more = cursor + limit < total
        return {"items": items, "total": total, "capped": capped,
                "next_cursor": str(cursor + limit) if more else None}

    @router.get("/records/{collection}/{record_id}", summary="One record and its history")
    def one(principal: Caller, collection: str, record_id: Id) -> dict[str, Any]:
        require(principal, "view")
        with web.sessions() as session:
            layout, record = record_of(session, web, principal, collection, record_id)
            return record_json(layout, record, history=True, session=session)

    @router.put("/records/{collection}/{record_id}", status_code=201,
                summary="Record Maintenance: change a posted record (validated and posted as "
                        "a one-record file)")
    async def edit(principal: Caller, collection: str, record_id: Id,
                   body: Edit) -> JSONResponse:
        done = await edit_record(web, principal, collection, record_id, body.fields,
                                 body.email)
        with web.sessions() as session:
            return JSONResponse(job_json(session, done, base), status_code=201)

    @router.get("/history/{collection}", summary="Changes to posted records, oldest first")
    def history(principal: Caller, collection: str,
                institution: Annotated[str, Query(max_length=20)],
                key: Annotated[str | None, Query(max_length=200)] = None,
                submission: QueryId = None, limit: Annotated[int, Query(ge=1, le=5000)]
                = 1000, cursor: Offset = 0) -> dict[str, Any]:
        require(principal, "view")
        layout = layout_of(web, collection)
        require_institution(principal, institution)
        if key is not None and (problem := key_problem(layout, key)):
            raise Problem(422, problem)
        from shared.db.models import Submission

        with web.sessions() as session:
            items, after = history_page(
                session, layout, and_(Submission.institution_id == institution,
                                      within(Submission.institution_id, principal)),
                key=key, submission_id=submission, after=cursor, limit=limit)
        return {"items": items, "next_cursor": str(after) if after else None}

    @router.post("/downloads", status_code=202, summary="Production Download in the "
                                                      "background, then an email with a link")
    async def ask(principal: Caller, body: DownloadRequest) -> JSONResponse:
        require(principal, "view")
        layout = layout_of(web, body.collection)
        require_institution(principal, body.institution)
        search = search_of(body.search) if body.search else None
        if search is not None:
            criteria(layout, search, dt.date.today())  # refuses a bad search now
        with web.sessions.begin() as session:
            made = downloads.request(session, principal, layout, body.institution,
                                     body.format, search, body.changed_from, body.changed_to)
            answer = download_json(made, base)
        web.spawn(run_in_threadpool(downloads.build, web, made.id))
        return JSONResponse(answer, status_code=202)

    @router.get("/downloads/{download_id}", summary="A download's status")
    def download(principal: Caller, download_id: Id) -> dict[str, Any]:
        with web.sessions() as session:
            return download_json(_download(session, principal, download_id), base)

    @router.get("/downloads/{download_id}/file", summary="A built download",
                response_class=FileResponse)
    def download_file(principal: Caller, download_id: Id) -> FileResponse:
        with web.sessions() as session:
            found = _download(session, principal, download_id)
        path = downloads.file_of(web, found)
        if found.status != "ready" or not path.exists():
            raise Problem(409 if found.status == "pending" else 404,
                          "The download is still being built." if found.status == "pending"
                          else "The download failed or has expired; ask for it again.")
        return FileResponse(path, media_type=MEDIA_TYPES[found.fmt],
                            headers={"Content-Disposition": content_disposition(
                                found.filename)})

    return router


def _download(session: Session, principal: Principal, download_id: Id) -> Download:
    found = session.get(Download, download_id)
    if found is None or not principal.covers(found.institution_id) or (
            principal.kind == "user" and found.user_id not in (None, principal.id)
            and not principal.may("operate")):
        raise Problem(404, f"There is no download {download_id} of yours.")
    return found


__all__ = ["RecordHistory", "records_router"]
