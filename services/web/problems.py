"""Errors of the JSON API as RFC 9457 problem details, and of the pages as a page.

Every refusal is raised as ``Problem`` (or FastAPI's HTTPException / a request validation
error) and answered, under ``/api/``, as ``application/problem+json``::

    {"type": "https://edcs.example/problems/forbidden", "title": "Forbidden", "status": 403,
     "detail": "You do not have rights to submit this Institution ID.", "instance": "/api/v1/…"}

with ``errors`` (a list of ``{"loc", "message"}`` or of file issues) where there is more than
one thing to say. A page shows the same detail on the error page. The detail never echoes a
value a user sent: it is a fixed text, or one built from ids edcs itself knows.
"""

from __future__ import annotations

from http import HTTPStatus
from pathlib import Path as FilePath
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_TYPE = "https://edcs.example/problems/"
TEMPLATES = Jinja2Templates(directory=str(FilePath(__file__).with_name("templates")))
_SLUGS = {400: "bad-request", 401: "sign-in-required", 403: "forbidden", 404: "not-found",
          405: "method-not-allowed", 409: "conflict", 413: "too-large", 415: "unsupported-type",
          422: "invalid-request", 429: "too-many-requests", 503: "unavailable"}


class Problem(Exception):  # noqa: N818 - an answer, not a failure of edcs
    """A request edcs refuses, with the status and a message a person can act on."""

    def __init__(self, status: int, detail: str, errors: list[dict[str, Any]] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors
        self.headers = headers


class SignInRequired(Exception):  # noqa: N818 - a redirect to the sign-in page
    """A page needs a signed-in user; ``reason`` is shown on the sign-in page."""

    def __init__(self, next_url: str, reason: str = "") -> None:
        super().__init__(reason)
        self.next_url = next_url
        self.reason = reason


def problem_body(status: int, detail: str, instance: str,
                 errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The problem details object."""
    body: dict[str, Any] = {"type": PROBLEM_TYPE + _SLUGS.get(status, str(status)),
                            "title": HTTPStatus(status).phrase, "status": status,
                            "detail": detail, "instance": instance}
    if errors:
        body["errors"] = errors
    return body


def _answer(request: Request, status: int, detail: str,
            errors: list[dict[str, Any]] | None = None,
            headers: dict[str, str] | None = None) -> Response:
    if request.url.path.startswith("/api/"):
        return JSONResponse(problem_body(status, detail, request.url.path, errors),
                            status_code=status, media_type="application/problem+json",
                            headers=headers)
    return TEMPLATES.TemplateResponse(request, "error.html", {
        "status": status, "title": HTTPStatus(status).phrase, "detail": detail,
        "errors": errors or [], "principal": getattr(request.state, "principal", None),
        "csrf": getattr(request.state, "csrf", "")}, status_code=status, headers=headers)


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    # The message of each error, never its input (which may be anything a user sent).
    return [{"loc": [str(p) for p in e.get("loc", ())], "message": str(e.get("msg", ""))}
            for e in exc.errors()]


def install(app: FastAPI) -> None:
    """Answer every refusal as problem details (API) or the error page (pages)."""

    @app.exception_handler(Problem)
    async def on_problem(request: Request, exc: Problem) -> Response:
        return _answer(request, exc.status, exc.detail, exc.errors, exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, exc: StarletteHTTPException) -> Response:
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(
            exc.status_code).phrase
        return _answer(request, exc.status_code, detail,
                       headers=dict(exc.headers) if exc.headers else None)

    @app.exception_handler(RequestValidationError)
    async def on_invalid(request: Request, exc: RequestValidationError) -> Response:
        errors = _validation_errors(exc)
        where = ", ".join(".".join(e["loc"][1:] or e["loc"]) for e in errors[:5])
        return _answer(request, 422, f"The request is not valid: check {where}.", errors)

    @app.exception_handler(SignInRequired)
    async def on_sign_in(request: Request, exc: SignInRequired) -> Response:
        query = {"next": exc.next_url} | ({"reason": exc.reason} if exc.reason else {})
        return RedirectResponse(f"/login?{urlencode(query)}", status_code=303)




MAX_ID = 2**31 - 1  # what every store's integer keys hold
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
"""A row id in a URL path: out of range is a 422, never an overflow in the store."""
Row = Annotated[int, Path(ge=0, le=MAX_ID)]
"""A file's row number in a URL path."""
QueryId = Annotated[int | None, Query(ge=1, le=MAX_ID)]
"""An optional id in the query string."""
Offset = Annotated[int, Query(ge=0, le=MAX_ID)]
"""A page's start in the query string."""
