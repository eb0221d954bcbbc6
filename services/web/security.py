"""Who is asking: an API token (``Authorization: Bearer edcs_…``) or a signed-in browser.

A browser's session cookie holds a random secret signed with itsdangerous (the store keeps its
SHA-256 digest, ``web_sessions``); it ends after ``web.session_idle_minutes`` unused or
``web.session_max_hours`` in all, at sign-out, and when the user is deactivated or changes
password. Every form a page posts carries the session's CSRF token, and a browser's API call
that changes something carries it in ``X-CSRF-Token``: a page of another site can make the
browser send the cookie, never the token (synchronizer token pattern). Cookies are HttpOnly and
SameSite=Lax, and Secure when edcs is served over https.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from dataclasses import dataclass

from fastapi import Request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from services.web.context import WebContext
from services.web.problems import Problem, SignInRequired
from shared.accounts import Principal, digest, find_token, token_principal, user_principal
from shared.db.accounts import ApiToken, User, WebSession
from shared.db.models import utcnow

COOKIE = "edcs_session"
CSRF_HEADER = "x-csrf-token"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SEEN_EVERY = dt.timedelta(minutes=1)  # how often a session's last use is written


@dataclass(frozen=True)
class Caller:
    """The principal of a request, how it came, and the session's CSRF token (browsers)."""

    principal: Principal | None
    via: str  # "token", "session" or "none"
    csrf: str = ""
    problem: str = ""  # why there is no principal, when credentials were sent


class Sessions:
    """Web sessions: start one at sign-in, find it from the cookie, end it."""

    def __init__(self, web: WebContext) -> None:
        self.web = web
        self.signer = URLSafeTimedSerializer(web.session_key, salt="edcs-session")
        self.secure = web.settings.base_url.startswith("https://")

    def start(self, session: Session, user: User) -> tuple[str, str]:
        """A new session of the user; returns (cookie value, CSRF token)."""
        secret, csrf = secrets.token_urlsafe(32), secrets.token_hex(32)
        session.add(WebSession(digest=digest(secret), user_id=user.id, csrf=csrf))
        return self.signer.dumps(secret), csrf

    def end(self, session: Session, cookie: str) -> None:
        """Sign out: the session's row goes."""
        secret = self._secret(cookie)
        if secret is not None:
            session.execute(delete(WebSession).where(WebSession.digest == digest(secret)))

    def _secret(self, cookie: str) -> str | None:
        limit = int(self.web.settings.web.session_max_hours * 3600)
        try:
            value = self.signer.loads(cookie, max_age=limit)
        except BadSignature:
            return None
        return value if isinstance(value, str) else None

    def find(self, session: Session, cookie: str) -> tuple[User, WebSession] | None:
        """The live session of the cookie (an ended or expired one is deleted)."""
        secret = self._secret(cookie)
        if secret is None:
            return None
        found = session.get(WebSession, digest(secret))
        if found is None:
            return None
        now = utcnow()
        web = self.web.settings.web
        expired = (now - found.seen_at > dt.timedelta(minutes=web.session_idle_minutes)
                   or now - found.created_at > dt.timedelta(hours=web.session_max_hours))
        user = session.get(User, found.user_id)
        if expired or user is None or not user.active:
            session.delete(found)
            return None
        if now - found.seen_at > SEEN_EVERY:
            found.seen_at = now
        return user, found


def identify(web: WebContext, sessions: Sessions, request: Request) -> Caller:
    """The caller of a request (no principal when no valid credentials came with it)."""
    header = request.headers.get("authorization")
    with web.sessions.begin() as session:
        if header:
            scheme, _, secret = header.partition(" ")
            token = find_token(session, secret.strip()) if scheme.lower() == "bearer" else None
            if token is None:
                return Caller(None, "token", problem="The API token is not valid, or it has "
                                                     "been revoked. Ask your institution's "
                                                     "security administrator for a new one.")
            _used(session, token)
            return Caller(token_principal(session, token), "token")
        cookie = request.cookies.get(COOKIE)
        if not cookie:
            return Caller(None, "none")
        found = sessions.find(session, cookie)
        if found is None:
            return Caller(None, "session", problem="Your session has ended (it was unused "
                                                   "for a while, or you signed out). Sign in "
                                                   "again.")
        user, row = found
        return Caller(user_principal(session, user), "session", csrf=row.csrf)


def _used(session: Session, token: ApiToken) -> None:
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > SEEN_EVERY:
        session.execute(update(ApiToken).where(ApiToken.id == token.id)
                        .values(last_used_at=now))


def caller_of(request: Request) -> Caller:
    """The caller of the request, found once (from the app's context) and kept with it."""
    caller = getattr(request.state, "caller", None)
    if isinstance(caller, Caller):
        return caller
    web, sessions = getattr(request.app.state, "web", None), getattr(request.app.state,
                                                                     "auth", None)
    if not isinstance(web, WebContext) or not isinstance(sessions, Sessions):
        return Caller(None, "none")
    caller = identify(web, sessions, request)
    request.state.caller = caller
    return caller


def api_principal(request: Request) -> Principal:
    """The API's dependency: a token or a session; a browser's change carries its CSRF
    token."""
    caller = caller_of(request)
    if caller.principal is None:
        raise Problem(401, caller.problem or "Sign in first: send an API token as "
                                             "'Authorization: Bearer <token>' (on the machine "
                                             "of `edcs up`, the edcs command finds the "
                                             "operator's token in the data dir).",
                      headers={"WWW-Authenticate": 'Bearer realm="edcs"'})
    if caller.via == "session" and request.method in UNSAFE:
        sent = request.headers.get(CSRF_HEADER, "")
        if not hmac.compare_digest(sent, caller.csrf):
            raise Problem(403, "The request did not carry the page's CSRF token; reload the "
                               "page and try again.")
    return caller.principal


def page_principal(request: Request) -> Principal:
    """The pages' dependency: a signed-in user, or the sign-in page."""
    caller = caller_of(request)
    if caller.principal is None or caller.via != "session":
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequired(target if request.method == "GET" else "/",
                             "expired" if caller.problem else "")
    return caller.principal


def check_csrf(request: Request, token: str) -> None:
    """A page's form must carry the session's CSRF token."""
    caller = caller_of(request)
    if not caller.csrf or not hmac.compare_digest(token or "", caller.csrf):
        raise Problem(403, "This form has expired or did not come from edcs; reload the page "
                           "and send it again.")


def require(principal: Principal, action: str) -> None:
    """Refuse what the principal's roles do not allow."""
    if not principal.may(action):
        raise Problem(403, {
            "submit": "Your role does not allow submitting or changing data (ask your "
                      "institution's security administrator for the submitter role).",
            "administer": "Only a security administrator manages users and tokens.",
            "operate": "Only a state operator can do this.",
            "view": "Your account has no role yet; ask your institution's security "
                    "administrator.",
        }[action])


def require_institution(principal: Principal, institution_id: str | None,
                        submitting: bool = False) -> str:
    """Refuse an institution outside the principal's scope (the seed's wording on submit)."""
    if institution_id is None or not principal.covers(institution_id):
        raise Problem(403, "You do not have rights to submit this Institution ID." if submitting
                      else "You do not have rights to this Institution ID.")
    return institution_id
