"""Taking an upload from the API or the File Upload page: rights, size, then the job."""

from __future__ import annotations

from typing import BinaryIO

from fastapi import Request
from fastapi.concurrency import run_in_threadpool

from services.web.context import WebContext
from services.web.problems import Problem
from services.web.security import require, require_institution
from services.web.submissions import Accepted, UploadRefused, accept_upload
from shared.accounts import Principal
from shared.db.models import Submission
from shared.reader import file_issue

MULTIPART_SLACK = 64 * 1024  # the form's other fields and boundaries


def refuse_oversized(request: Request, web: WebContext) -> None:
    """An upload whose declared size is over the limit is refused before it is read."""
    limit = web.settings.pipeline.max_upload_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + MULTIPART_SLACK:
        raise Problem(413, f"The file is larger than the limit of {limit} bytes.")


async def submit(web: WebContext, principal: Principal, *, stream: BinaryIO, filename: str,
                 collection: str, institution: str, email: str | None,
                 fixes: tuple[int, int] | None = None) -> Submission:
    """Store the file and create its job; raises Problem for anything refused."""
    require(principal, "submit")
    institution = institution.strip()
    if not institution:
        raise Problem(422, "Say which institution submits the file (its Institution ID).")
    require_institution(principal, institution, submitting=True)
    submitted_by = (email or "").strip() or (principal.label if principal.kind == "user"
                                             else None)

    def work() -> Accepted:
        with web.sessions.begin() as session:
            return accept_upload(
                session, web.catalog, web.store, stream=stream, filename=filename,
                collection=collection, institution_id=institution, submitted_by=submitted_by,
                max_bytes=web.settings.pipeline.max_upload_bytes, fixes=fixes,
                max_unpacked=web.settings.pipeline.max_unpacked_bytes)

    try:
        accepted = await run_in_threadpool(work)
    except UploadRefused as refused:
        raise Problem(refused.status, refused.issue.message,
                      [refused.issue.model_dump(mode="json")]) from None
    await web.publish(accepted.outbox_ids)
    return accepted.submission


def refused_issue(code: str, message: str) -> dict[str, object]:
    """A file-level issue as the API lists it."""
    return file_issue(code, message).model_dump(mode="json")
