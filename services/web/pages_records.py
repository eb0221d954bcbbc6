"""Record Management pages: Student Lookup and Record Maintenance (search, record, change
history, edit), Production Download, Lookup Values."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, RedirectResponse, Response
from sqlalchemy import and_, select

from services.web import downloads
from services.web.api_reference import lookup_values
from services.web.context import WebContext
from services.web.fixes import layout_of
from services.web.formats import FORMATS, MEDIA_TYPES, content_disposition
from services.web.maintenance import edit_record, editable, record_json, record_of
from services.web.pages import Csrf, User, page_numbers, posted, render
from services.web.pages_work import institutions_of
from services.web.problems import Id, Problem, QueryId
from services.web.scoping import records_within
from services.web.search import POPULATIONS, Search, criteria, searchable
from services.web.security import require, require_institution
from shared.db.accounts import Download
from shared.db.models import OdsRecord

Text = Annotated[str, Query(max_length=60)]


def records_pages(web: WebContext) -> APIRouter:  # noqa: C901 - one closure per route
    """The routes."""
    router = APIRouter(include_in_schema=False)
    collections = sorted(web.catalog.collections.values(), key=lambda c: c.code)
    cap = web.settings.web.max_search_results

    @router.get("/students")
    def students(request: Request, user: User, collection: Text = "", ssid: Text = "",
                 institution: Text = "", last: Text = "", first: Text = "", dob: Text = "",
                 gender: Text = "", grade: Text = "", student_id: Text = "",
                 population: Text = "all", page: Annotated[int, Query(ge=1, le=1000)] = 1
                 ) -> Response:
        search = Search(ssid, institution, last, first, dob, gender, grade, student_id,
                        population)
        context: dict[str, Any] = {"collections": collections, "search": search,
                                   "collection": collection,
                   "populations": POPULATIONS, "institutions": institutions_of(web, user),
                   "results": None, "cap": cap}
        if not collection:
            return render(request, "students.html", **context)
        layout = layout_of(web, collection)
        context["searchable"] = searchable(layout)
        try:
            if search.institution:
                require_institution(user, search.institution)
            where = and_(criteria(layout, search, dt.date.today()), records_within(user))
        except Problem as refused:
            return render(request, "students.html", refused.status, error=refused.detail,
                          **context)
        size = web.settings.web.page_size
        with web.sessions() as session:
            ids = list(session.scalars(select(OdsRecord.id).where(where)
                                       .order_by(OdsRecord.op_key).limit(cap + 1)))
            total = min(len(ids), cap)
            shown = ids[(page - 1) * size:min(page * size, cap)]
            rows = {r.id: r for r in session.scalars(select(OdsRecord).where(
                OdsRecord.id.in_(shown)))} if shown else {}
            results = [record_json(layout, rows[i]) for i in shown]
        pages = page_numbers(total, size)
        query = {k: v for k, v in request.query_params.items() if k != "page"}
        links = [(p, "/students?" + urlencode(query | {"page": str(p)}))
                 for p in range(1, pages + 1) if p <= 10 or abs(p - page) <= 2 or p == pages]
        return render(request, "students.html", **context | {
            "results": results, "total": total, "capped": len(ids) > cap, "page": page,
            "pages": pages, "page_links": links, "layout": layout})

    @router.get("/students/{collection}/{record_id}")
    def record(request: Request, user: User, collection: str, record_id: Id,
               saved: QueryId = None) -> Response:
        with web.sessions() as session:
            layout, found = record_of(session, web, user, collection, record_id)
            data = record_json(layout, found, history=True, session=session)
        return render(request, "student.html", layout=layout, record=data,
                      collection=collection, editable=editable(web, layout)
                      and user.may("submit"), saved=saved)

    @router.post("/students/{collection}/{record_id}")
    async def save(request: Request, user: User, collection: str, record_id: Id) -> Response:
        form = await request.form()
        posted(request, str(form.get("csrf_token", "")))
        with web.sessions() as session:
            layout, found = record_of(session, web, user, collection, record_id)
            current = dict(zip([f.name for f in layout.fields], found.fields, strict=False))
        changes = {f.name: str(form.get(f"field_{f.name}", ""))[:1000] for f in layout.fields
                   if f"field_{f.name}" in form and not (f.hashed and not form.get(
                       f"field_{f.name}"))}
        changes = {k: v for k, v in changes.items() if v != current.get(k)}
        done = await edit_record(web, user, collection, record_id, changes, None)
        return RedirectResponse(f"/jobs/{done.id}?uploaded=1", status_code=303)

    @router.get("/downloads")
    def download_form(request: Request, user: User) -> Response:
        with web.sessions() as session:
            mine = list(session.scalars(select(Download).where(Download.user_id == user.id)
                                        .order_by(Download.id.desc()).limit(50)))
        return render(request, "downloads.html", collections=collections, downloads=mine,
                      institutions=institutions_of(web, user), formats=FORMATS)

    @router.post("/downloads")
    async def ask(request: Request, user: User, csrf: Csrf,
                  collection: Annotated[str, Form(max_length=20)],
                  institution: Annotated[str, Form(max_length=20)],
                  fmt: Annotated[str, Form(alias="format", max_length=5)] = "csv",
                  changed_from: Annotated[str, Form(max_length=10)] = "",
                  changed_to: Annotated[str, Form(max_length=10)] = "",
                  last: Annotated[str, Form(max_length=60)] = "",
                  ssid: Annotated[str, Form(max_length=60)] = "") -> Response:
        posted(request, csrf)
        require(user, "view")
        layout = layout_of(web, collection)
        require_institution(user, institution)
        if fmt not in FORMATS:
            raise Problem(422, f"Downloads are {', '.join(FORMATS)}.")
        try:
            since = dt.date.fromisoformat(changed_from) if changed_from else None
            until = dt.date.fromisoformat(changed_to) if changed_to else None
        except ValueError:
            raise Problem(422, "Dates are written YYYY-MM-DD.") from None
        search = Search(ssid=ssid, last=last) if (ssid or last) else None
        if search is not None:
            criteria(layout, search, dt.date.today())
        with web.sessions.begin() as session:
            made = downloads.request(session, user, layout, institution, fmt, search, since,
                                     until)
            made_id = made.id
        web.spawn(run_in_threadpool(downloads.build, web, made_id))
        return RedirectResponse(f"/downloads/{made_id}", status_code=303)

    @router.get("/downloads/{download_id}")
    def download(request: Request, user: User, download_id: Id) -> Response:
        with web.sessions() as session:
            found = _mine(session.get(Download, download_id), user, download_id)
        return render(request, "download.html", download=found)

    @router.get("/downloads/{download_id}/file")
    def download_file(request: Request, user: User, download_id: Id) -> Response:
        with web.sessions() as session:
            found = _mine(session.get(Download, download_id), user, download_id)
        path = downloads.file_of(web, found)
        if found.status != "ready" or not path.exists():
            raise Problem(404, "The download is not ready, or it has expired.")
        return FileResponse(path, media_type=MEDIA_TYPES[found.fmt], headers={
            "Content-Disposition": content_disposition(found.filename)})

    @router.get("/lookup-values")
    def lookups(request: Request, user: User, collection: Text = "") -> Response:
        layout = layout_of(web, collection) if collection else None
        values = lookup_values(web.catalog, layout) if layout else []
        return render(request, "lookup.html", collections=collections, collection=collection,
                      fields=values)

    return router


def _mine(found: Download | None, user: User, download_id: Id) -> Download:
    if found is None or found.user_id != user.id:
        raise Problem(404, f"There is no download {download_id} of yours.")
    return found
