"""The sign-in page, signing out, and changing one's password.

The sign-in form is protected against cross-site posting by a double-submit cookie (there is no
session yet to hold a token): the page sets a random ``edcs_login`` cookie (SameSite=Strict)
and puts the same value in the form; a post without both, equal, is refused.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from services.web.context import WebContext
from services.web.pages import Csrf, User, posted, render
from services.web.security import COOKIE, Sessions
from services.web.signin import sign_in
from shared.accounts import AccountError, check_password, set_password
from shared.db.accounts import User as UserRow

LOGIN_COOKIE = "edcs_login"
REASONS = {"expired": "Your session has ended (it was unused for a while). Sign in again.",
           "signed-out": "You are signed out."}


def safe_next(target: str) -> str:
    """Where to go after signing in: a path of this site only (no open redirect)."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def auth_router(web: WebContext, sessions: Sessions) -> APIRouter:  # noqa: C901 - routes
    """The routes."""
    router = APIRouter(include_in_schema=False)

    def login_page(request: Request, message: str = "", next_url: str = "/",
                   email: str = "", status: int = 200) -> Response:
        token = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(24)
        page = render(request, "login.html", status, message=message, next_url=next_url,
                      email=email, login_token=token)
        page.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict",
                        secure=sessions.secure, max_age=3600)
        return page

    @router.get("/login")
    def login_form(request: Request, next: str = "/", reason: str = "") -> Response:  # noqa: A002
        return login_page(request, REASONS.get(reason, ""), safe_next(next))

    @router.post("/login")
    async def login(request: Request, email: Annotated[str, Form(max_length=254)],
                    password: Annotated[str, Form(max_length=1024)],
                    login_token: Annotated[str, Form(max_length=100)],
                    next: Annotated[str, Form(max_length=2000)] = "/") -> Response:  # noqa: A002
        cookie = request.cookies.get(LOGIN_COOKIE, "")
        if not cookie or not hmac.compare_digest(cookie, login_token):
            return login_page(request, "The sign-in form had expired; sign in again.",
                              safe_next(next), email, 403)
        address = request.client.host if request.client else "unknown"

        def check() -> tuple[str, str] | str:
            with web.sessions.begin() as session:
                found = sign_in(session, email, password, address, web.settings.web)
                if isinstance(found, str):
                    return found
                return sessions.start(session, found)

        outcome = await run_in_threadpool(check)
        if isinstance(outcome, str):
            return login_page(request, outcome, safe_next(next), email, 401)
        cookie_value, _ = outcome
        answer = RedirectResponse(safe_next(next), status_code=303)
        answer.set_cookie(COOKIE, cookie_value, httponly=True, samesite="lax",
                          secure=sessions.secure,
                          max_age=int(web.settings.web.session_max_hours * 3600))
        answer.delete_cookie(LOGIN_COOKIE)
        return answer

    @router.post("/logout")
    def logout(request: Request, csrf: Csrf) -> Response:
        posted(request, csrf)
        with web.sessions.begin() as session:
            sessions.end(session, request.cookies.get(COOKIE, ""))
        answer = RedirectResponse("/login?reason=signed-out", status_code=303)
        answer.delete_cookie(COOKIE)
        return answer

    @router.get("/account")
    def account(request: Request, user: User) -> Response:
        return render(request, "account.html", message="")

    @router.post("/account")
    def change_password(request: Request, user: User, csrf: Csrf,
                        current: Annotated[str, Form(max_length=1024)],
                        new: Annotated[str, Form(max_length=1024)]) -> Response:
        posted(request, csrf)
        with web.sessions.begin() as session:
            row = session.get(UserRow, user.id)
            if row is None or not check_password(row, current):
                return render(request, "account.html", 403,
                              message="The current password is not right.")
            try:
                set_password(session, row, new)
            except AccountError as exc:
                return render(request, "account.html", 422, message=str(exc))
        answer = RedirectResponse("/login?reason=signed-out", status_code=303)
        answer.delete_cookie(COOKIE)
        return answer

    return router
