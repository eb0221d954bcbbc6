"""Error Management pages: Review Errors (by kind, with counts), the records in error, the fix
form (Oregon "Error Information"), Download Errors, Housekeeping."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select

from services.web.context import WebContext
from services.web.fixes import fix, held_of, held_rows, layout_of
from services.web.housekeeping import delete_held, files_with_held
from services.web.issue_views import issue_groups
from services.web.pages import Csrf, User, posted, render
from services.web.problems import Id, Problem, QueryId, Row
from services.web.scoping import submission_of, within
from services.web.submissions import issues_of, job_json
from shared.db.models import FINAL_STATUSES, IssueCount, Submission

ROWS_ON_PAGE = 200


def errors_router(web: WebContext) -> APIRouter:
    """The routes."""
    router = APIRouter(include_in_schema=False)
    base = web.settings.base_url

    @router.get("/errors")
    def review_errors(request: Request, user: User) -> Response:
        query = (select(Submission, func.sum(IssueCount.total))
                 .join(IssueCount, IssueCount.submission_id == Submission.id)
                 .where(within(Submission.institution_id, user))
                 .group_by(Submission.id).order_by(Submission.id.desc()).limit(100))
        with web.sessions() as session:
            jobs = [(s, int(n or 0)) for s, n in session.execute(query)]
        return render(request, "errors.html", jobs=jobs)

    @router.get("/jobs/{submission_id}/errors")
    def job_errors(request: Request, user: User, submission_id: Id) -> Response:
        with web.sessions() as session:
            job = job_json(session, submission_of(session, user, submission_id), base)
            groups = issue_groups(session, web.catalog, submission_id)
        return render(request, "job_errors.html", job=job, groups=groups)

    @router.get("/jobs/{submission_id}/errors/{code}")
    def error_records(request: Request, user: User, submission_id: Id,
                      code: str) -> Response:
        with web.sessions() as session:
            submission = submission_of(session, user, submission_id)
            job = job_json(session, submission, base)
            layout = layout_of(web, submission.collection)
            held = held_rows(session, submission_id, code, ROWS_ON_PAGE)
            issues = issues_of(session, submission_id, limit=ROWS_ON_PAGE, code=code[:40])
        return render(request, "error_records.html", job=job, code=code, held=held,
                      issues=issues, fields=layout.fields)

    @router.get("/jobs/{submission_id}/held/{row}")
    def fix_form(request: Request, user: User, submission_id: Id, row: Row,
                 fixing: QueryId = None) -> Response:
        with web.sessions() as session:
            try:
                _, layout, held = held_of(session, web, user, submission_id, row)
            except Problem:
                fixed = _fixed(web, user, submission_id, row, fixing)
                if fixed is None:
                    raise
                return render(request, "fixed.html", job_id=submission_id, row=row,
                              fix=fixed)
            running = (session.get(Submission, held.fixing_submission_id)
                       if held.fixing_submission_id else None)
            in_flight = running if running and running.status not in FINAL_STATUSES else None
            values = dict(zip([f.name for f in layout.fields],
                              held.fields or [""] * len(layout.fields), strict=True))
        return render(request, "fix.html", job_id=submission_id, row=row, layout=layout,
                      values=values, issues=held.issues, in_flight=in_flight,
                      after_fix=fixing is not None, message="")

    @router.post("/jobs/{submission_id}/held/{row}")
    async def fix_record(request: Request, user: User, submission_id: Id, row: int
                         ) -> Response:
        form = await request.form()
        posted(request, str(form.get("csrf_token", "")))
        with web.sessions() as session:
            _, layout, held = held_of(session, web, user, submission_id, row)
            current = held.fields or [""] * len(layout.fields)
        changes = {f.name: str(form.get(f"field_{f.name}", ""))[:1000]
                   for f in layout.fields if not f.hashed or form.get(f"field_{f.name}")}
        changes = {k: v for k, v in changes.items()
                   if v != current[[f.name for f in layout.fields].index(k)]}
        done = await fix(web, user, submission_id, row, changes, None)
        return RedirectResponse(f"/jobs/{submission_id}/held/{row}?fixing={done.id}",
                                status_code=303)

    @router.get("/housekeeping")
    def housekeeping(request: Request, user: User, deleted: QueryId = None) -> Response:
        return render(request, "housekeeping.html", files=files_with_held(web, user),
                      deleted=deleted)

    @router.post("/housekeeping/{submission_id}")
    def housekeep(request: Request, user: User, submission_id: Id, csrf: Csrf) -> Response:
        posted(request, csrf)
        delete_held(web, user, submission_id)
        return RedirectResponse(f"/housekeeping?deleted={submission_id}", status_code=303)

    return router


def _fixed(web: WebContext, user: User, submission_id: Id, row: Row,
           fixing: int | None) -> Submission | None:
    """The correction that took the held record off the list, if it is the user's to see."""
    if fixing is None:
        return None
    with web.sessions() as session:
        found = session.get(Submission, fixing)
        if (found is None or not user.covers(found.institution_id)
                or (found.fixes_submission_id, found.fixes_row) != (submission_id, row)):
            return None
        return found
