"""The security administrator's page: the users and API tokens of their institution (and of
those it administers); an operator sees every institution's."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlalchemy import select

from services.web.context import WebContext
from services.web.pages import Csrf, User, posted, render
from services.web.pages_work import institutions_of
from services.web.problems import Id, Problem
from services.web.scoping import within
from services.web.security import require, require_institution
from shared import accounts
from shared.accounts import ROLES, AccountError, Principal
from shared.db.accounts import ApiToken
from shared.db.accounts import User as UserRow

Roles = Annotated[list[str], Form(max_length=4)]


def admin_router(web: WebContext) -> APIRouter:  # noqa: C901 - one closure per route
    """The routes."""
    router = APIRouter(include_in_schema=False)

    def page(request: Request, principal: Principal, status: int = 200,
             **context: Any) -> Response:
        with web.sessions() as session:
            users = [(u, sorted(accounts.roles_of(session, u.id))) for u in session.scalars(
                select(UserRow).where(within(UserRow.institution_id, principal))
                .order_by(UserRow.institution_id, UserRow.email))]
            tokens = list(session.scalars(select(ApiToken).where(
                within(ApiToken.institution_id, principal)).order_by(ApiToken.id.desc())))
        return render(request, "admin.html", status, users=users, tokens=tokens,
                      roles=[r for r in ROLES if r != accounts.OPERATOR
                             or principal.may("operate")],
                      institutions=institutions_of(web, principal), **context)

    def refused(request: Request, principal: Principal, exc: AccountError | Problem
                ) -> Response:
        status = exc.status
        return page(request, principal, status, message=str(exc.detail if isinstance(
            exc, Problem) else exc), failed=True)

    @router.get("/admin")
    def admin(request: Request, user: User) -> Response:
        require(user, "administer")
        return page(request, user)

    @router.post("/admin/users")
    def add(request: Request, user: User, csrf: Csrf,
            email: Annotated[str, Form(max_length=254)],
            institution: Annotated[str, Form(max_length=20)],
            name: Annotated[str, Form(max_length=200)] = "", role: Roles = []) -> Response:  # noqa: B006
        posted(request, csrf)
        require(user, "administer")
        try:
            require_institution(user, institution)
            with web.sessions.begin() as session:
                made, password = accounts.add_user(session, email, institution,
                                                   frozenset(role), user, name)
                said = (f"User {made.email} added. Their password, shown once: {password} "
                        "(they change it on their Account page).")
        except (AccountError, Problem) as exc:
            return refused(request, user, exc)
        return page(request, user, message=said)

    @router.post("/admin/users/{user_id}")
    def change(request: Request, user: User, user_id: Id, csrf: Csrf,
               role: Roles = [], active: Annotated[str, Form(max_length=5)] = "") -> Response:  # noqa: B006
        posted(request, csrf)
        require(user, "administer")
        try:
            with web.sessions.begin() as session:
                found = session.get(UserRow, user_id)
                if found is None or not user.covers(found.institution_id):
                    raise Problem(404, f"There is no user {user_id} you manage.")
                held = accounts.roles_of(session, found.id)
                wanted = frozenset(role)
                accounts.grant(session, found, wanted - held, held - wanted, user)
                accounts.set_active(session, found, active == "yes", user)
                said = f"User {found.email} changed."
        except (AccountError, Problem) as exc:
            return refused(request, user, exc)
        return page(request, user, message=said)

    @router.post("/admin/tokens")
    def issue(request: Request, user: User, csrf: Csrf,
              institution: Annotated[str, Form(max_length=20)],
              name: Annotated[str, Form(max_length=200)], role: Roles = []) -> Response:  # noqa: B006
        posted(request, csrf)
        require(user, "administer")
        try:
            require_institution(user, institution)
            with web.sessions.begin() as session:
                _, secret = accounts.issue_token(session, institution, name, frozenset(role),
                                                 user)
        except (AccountError, Problem) as exc:
            return refused(request, user, exc)
        return page(request, user, message="Token issued; copy it now, it is not shown "
                                           f"again: {secret}")

    @router.post("/admin/tokens/{token_id}/revoke")
    def revoke(request: Request, user: User, token_id: Id, csrf: Csrf) -> Response:
        posted(request, csrf)
        require(user, "administer")
        with web.sessions.begin() as session:
            token = session.get(ApiToken, token_id)
            if token is None or not user.covers(token.institution_id):
                raise Problem(404, f"There is no token {token_id} you manage.")
            accounts.revoke_token(session, token, user)
        return page(request, user, message=f"Token {token_id} revoked.")

    return router
