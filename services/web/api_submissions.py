"""``/api/v1/submissions``: upload, the queue, a job, its errors, held records and fixes, its
stored file. Everything answers only for institutions the caller acts for."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy import select

from services.web.context import WebContext
from services.web.fixes import fix, held_of, held_rows, layout_of
from services.web.formats import FORMATS, MEDIA_TYPES, content_disposition
from services.web.housekeeping import delete_held
from services.web.issue_views import issue_file, issue_groups, issue_json
from services.web.problems import Id, Offset, Problem, QueryId, Row
from services.web.scoping import submission_of, within
from services.web.security import api_principal, require, require_institution
from services.web.submissions import issues_of, job_json
from services.web.uploads import refuse_oversized, submit
from shared.accounts import Principal
from shared.db.models import HeldRecord, Submission

Caller = Annotated[Principal, Depends(api_principal)]
Limit = Annotated[int, Query(ge=1, le=1000)]


class Fix(BaseModel):
    """A correction of a held record: the fields to change, by name."""

    fields: dict[str, Annotated[str, Field(max_length=1000)]] = Field(max_length=200)
    email: str | None = Field(default=None, max_length=254)


def page(items: list[Any], cursor: str | None) -> dict[str, Any]:
    """One page of a list: its items and the cursor of the next page (None at the end)."""
    return {"items": items, "next_cursor": cursor}


def held_json(layout_names: list[str], held: HeldRecord) -> dict[str, Any]:
    """A held record as the API shows it."""
    fixing = held.fixing_submission_id
    return {"row": held.row, "issues": held.issues, "fixing": fixing,
            "fields": dict(zip(layout_names, held.fields, strict=True)) if held.fields
            else None}


def submissions_router(web: WebContext) -> APIRouter:  # noqa: C901 - one closure per route
    """The routes."""
    router = APIRouter(prefix="/api/v1/submissions", tags=["submissions"])
    base = web.settings.base_url

    @router.post("", status_code=201, summary="Upload a file (File Upload)")
    async def upload(request: Request, principal: Caller, file: Annotated[UploadFile, File()],
                     collection: Annotated[str, Form(max_length=40)],
                     institution: Annotated[str, Form(max_length=20)],
                     email: Annotated[str | None, Form(max_length=254)] = None
                     ) -> JSONResponse:
        refuse_oversized(request, web)
        done = await submit(web, principal, stream=file.file, filename=file.filename or "upload",
                            collection=collection, institution=institution, email=email)
        with web.sessions() as session:
            return JSONResponse(job_json(session, done, base), status_code=201)

    @router.get("", summary="The queue (Review Queue), newest first")
    def listing(principal: Caller, institution: Annotated[str | None, Query(max_length=20)]
                = None, limit: Limit = 50,
                cursor: QueryId = None) -> dict[str, Any]:
        require(principal, "view")
        query = (select(Submission).where(within(Submission.institution_id, principal))
                 .order_by(Submission.id.desc()).limit(limit + 1))
        if institution:
            query = query.where(Submission.institution_id == require_institution(
                principal, institution))
        if cursor is not None:
            query = query.where(Submission.id < cursor)
        with web.sessions() as session:
            found = list(session.scalars(query))
            items = [job_json(session, s, base) for s in found[:limit]]
        return page(items, str(found[limit - 1].id) if len(found) > limit else None)

    @router.get("/{submission_id}", summary="One job: status, counts, history, emails")
    def one(principal: Caller, submission_id: Id) -> dict[str, Any]:
        with web.sessions() as session:
            return job_json(session, submission_of(session, principal, submission_id), base)

    @router.get("/{submission_id}/issues", summary="The job's errors, in file order")
    def issues(principal: Caller, submission_id: Id, limit: Limit = 1000,
               cursor: Offset = 0) -> dict[str, Any]:
        with web.sessions() as session:
            submission_of(session, principal, submission_id)
            found = issues_of(session, submission_id, limit=limit + 1, offset=cursor)
        more = len(found) > limit
        return page([issue_json(i) for i in found[:limit]],
                    str(cursor + limit) if more else None)

    @router.get("/{submission_id}/issue-groups", summary="Errors by code with counts "
                                                        "(Review Errors)")
    def groups(principal: Caller, submission_id: Id) -> list[dict[str, Any]]:
        with web.sessions() as session:
            submission_of(session, principal, submission_id)
            return issue_groups(session, web.catalog, submission_id)

    @router.get("/{submission_id}/issues.{fmt}", summary="Download Errors (csv, txt, xml)")
    def issues_download(principal: Caller, submission_id: Id, fmt: str) -> StreamingResponse:
        if fmt not in FORMATS:
            raise Problem(404, f"Errors download as {', '.join(FORMATS)}.")
        with web.sessions() as session:
            submission_of(session, principal, submission_id)

        def lines() -> Iterator[str]:
            with web.sessions() as session:
                yield from issue_file(session, submission_id, fmt)

        name = f"submission-{submission_id}-errors.{fmt}"
        return StreamingResponse(lines(), media_type=MEDIA_TYPES[fmt],
                                 headers={"Content-Disposition": content_disposition(name)})

    @router.get("/{submission_id}/held", summary="Records kept with errors to be fixed")
    def held(principal: Caller, submission_id: Id,
             code: Annotated[str | None, Query(max_length=40)] = None, limit: Limit = 1000,
             cursor: Offset = 0) -> dict[str, Any]:
        with web.sessions() as session:
            submission = submission_of(session, principal, submission_id)
            names = [f.name for f in layout_of(web, submission.collection).fields]
            rows = held_rows(session, submission_id, code, limit + 1, after=cursor)
        more = len(rows) > limit
        return page([held_json(names, h) for h in rows[:limit]],
                    str(rows[limit - 1].row) if more else None)

    @router.get("/{submission_id}/held/{row}", summary="One held record")
    def held_one(principal: Caller, submission_id: Id, row: Row) -> dict[str, Any]:
        with web.sessions() as session:
            _, layout, record = held_of(session, web, principal, submission_id, row)
            return held_json([f.name for f in layout.fields], record)

    @router.post("/{submission_id}/held/{row}", status_code=201,
                 summary="Fix a held record: it is validated and posted as a one-record file")
    async def fix_one(principal: Caller, submission_id: Id, row: Row,
                      body: Fix) -> JSONResponse:
        done = await fix(web, principal, submission_id, row, body.fields, body.email)
        with web.sessions() as session:
            return JSONResponse(job_json(session, done, base), status_code=201)

    @router.delete("/{submission_id}/held", summary="Housekeeping: delete the held records")
    def housekeeping(principal: Caller, submission_id: Id) -> dict[str, int]:
        return {"deleted": delete_held(web, principal, submission_id)}

    @router.get("/{submission_id}/file", summary="The file as it was uploaded",
                response_class=FileResponse)
    def stored_file(principal: Caller, submission_id: Id) -> FileResponse:
        with web.sessions() as session:
            submission = submission_of(session, principal, submission_id)
            sha, name = submission.sha256, submission.filename
        if sha is None or not web.store.path(sha).exists():
            raise Problem(404, f"The file of submission {submission_id} is not stored.")
        # Sent from the file in chunks: memory stays flat however large the file.
        return FileResponse(web.store.path(sha), media_type="application/octet-stream",
                            headers={"Content-Disposition": content_disposition(name)})

    return router
