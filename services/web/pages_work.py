"""The coordinator's pages: collections, File Upload, Review Queue, a job, Review Email."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from services.web.api_reference import email_json, emails_within
from services.web.context import WebContext
from services.web.pages import Csrf, User, posted, render
from services.web.problems import Id, Problem, QueryId
from services.web.scoping import submission_of, within
from services.web.submissions import issues_of, job_json
from services.web.uploads import refuse_oversized, submit
from shared.accounts import Principal
from shared.db.models import Email, Institution, Submission
from shared.db.windows import CurrentWindows
from shared.formats.detect import allowed_extensions, framing_words
from shared.windows import DEFAULT_FILE as WINDOWS_FILE
from shared.windows import by_collection
from shared.windows import read_file as read_windows

ISSUES_ON_PAGE = 200


def institutions_of(web: WebContext, principal: Principal) -> list[Institution]:
    """The institutions the user acts for, by id."""
    with web.sessions() as session:
        return list(session.scalars(select(Institution).where(
            within(Institution.id, principal)).order_by(Institution.kind, Institution.id)))


def queue_of(web: WebContext, principal: Principal, limit: int = 50) -> list[dict[str, Any]]:
    """The newest jobs of the user's institutions."""
    with web.sessions() as session:
        found = session.scalars(select(Submission).where(
            within(Submission.institution_id, principal)).order_by(Submission.id.desc())
            .limit(limit))
        return [job_json(session, s, web.settings.base_url) for s in found]


def work_router(web: WebContext) -> APIRouter:
    """The routes."""
    router = APIRouter(include_in_schema=False)
    collections = sorted(web.catalog.collections.values(), key=lambda c: c.code)
    # What each collection's files may be, shown beside the file input and set as its accept.
    layouts = {c.code: web.catalog.layout_of(c) for c in collections}
    accepts = {code: (framing_words(layout), ",".join(allowed_extensions(layout)))
               for code, layout in layouts.items()}
    # The configured file (checked against the catalog when the app starts), with the windows
    # loaded by `edcs reference load` over it, read on each visit.
    windows = CurrentWindows(web.sessions, read_windows(web.settings.windows_file or WINDOWS_FILE,
                                                        web.catalog.collections))

    def upload_page(request: Request, principal: Principal, status: int = 200,
                    **context: Any) -> Response:
        values = {"collection": "", "institution": "", "email": ""} | context.pop(
            "values", {})
        return render(request, "upload.html", status, collections=collections,
                      accepts=accepts, institutions=institutions_of(web, principal),
                      values=values, **context)

    @router.get("/")
    def home(request: Request, user: User) -> Response:
        return render(request, "home.html", collections=collections,
                      institutions=institutions_of(web, user), windows=by_collection(windows),
                      today=dt.date.today())

    @router.get("/upload")
    def upload_form(request: Request, user: User, collection: str = "") -> Response:
        return upload_page(request, user, values={"collection": collection[:40]})

    @router.post("/upload")
    async def upload(request: Request, user: User, csrf: Csrf,
                     file: Annotated[UploadFile, File()],
                     collection: Annotated[str, Form(max_length=40)],
                     institution: Annotated[str, Form(max_length=20)],
                     email: Annotated[str, Form(max_length=254)] = "") -> Response:
        posted(request, csrf)
        values = {"collection": collection, "institution": institution, "email": email}
        try:
            refuse_oversized(request, web)
            done = await submit(web, user, stream=file.file,
                                filename=file.filename or "upload", collection=collection,
                                institution=institution, email=email or None)
        except Problem as refused:
            return upload_page(request, user, refused.status, values=values,
                               errors=[refused.detail])
        if done.status == "rejected":  # the preliminary checks: errors on this page
            with web.sessions() as session:
                errors = [i.message for i in issues_of(session, done.id)]
            return upload_page(request, user, 422, values=values, errors=errors,
                               rejected=done.id)
        return RedirectResponse(f"/jobs/{done.id}?uploaded=1", status_code=303)

    @router.get("/queue")
    def queue(request: Request, user: User) -> Response:
        return render(request, "queue.html", jobs=queue_of(web, user))

    @router.get("/jobs/{submission_id}")
    def job_page(request: Request, user: User, submission_id: Id,
                 uploaded: Annotated[int, Query(ge=0, le=1)] = 0) -> Response:
        with web.sessions() as session:
            data = job_json(session, submission_of(session, user, submission_id),
                            web.settings.base_url)
            issues = issues_of(session, submission_id, limit=ISSUES_ON_PAGE)
        by_code = sorted(data["issue_counts"].items(), key=lambda item: -item[1])
        return render(request, "job.html", job=data, issues=issues, by_code=by_code,
                      shown=len(issues), cap=web.settings.pipeline.max_issues_per_code,
                      uploaded=bool(uploaded))

    @router.get("/emails")
    def emails(request: Request, user: User, cursor: QueryId = None,
               show: QueryId = None) -> Response:
        size = web.settings.web.page_size
        query = (select(Email).where(emails_within(user)).order_by(Email.id.desc())
                 .limit(size + 1))
        if cursor is not None:
            query = query.where(Email.id < cursor)
        with web.sessions() as session:
            found = list(session.scalars(query))
            items = [email_json(e, session) for e in found[:size]]
            shown = session.scalar(select(Email).where(Email.id == show,
                                                       emails_within(user))) if show else None
            opened = email_json(shown, session, full=True) if shown else None
        after = found[size - 1].id if len(found) > size else None
        return render(request, "emails.html", emails=items, opened=opened, next_cursor=after,
                      cursor=cursor)

    return router
