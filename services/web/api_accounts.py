"""``/api/v1/me``, ``/users``, ``/tokens``, ``/institutions``: who acts, for which
institutions; a security administrator manages the users and tokens of their institution (and
of those it administers), an operator all of them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, UploadFile
from pydantic import BaseModel, Field
from sqlalchemy import select

from services.web.api_directory import load_institutions_text
from services.web.context import WebContext
from services.web.problems import Id, Problem
from services.web.scoping import within
from services.web.security import api_principal, require, require_institution
from shared import accounts
from shared.accounts import AccountError, Principal
from shared.db.accounts import ApiToken, User
from shared.db.models import Institution

Caller = Annotated[Principal, Depends(api_principal)]
Roles = Annotated[list[Annotated[str, Field(max_length=20)]], Field(max_length=4)]


class NewUser(BaseModel):
    """A user to add; the password is generated (and answered once) when none is given."""

    email: str = Field(max_length=254)
    institution: str = Field(max_length=20)
    roles: Roles = []
    name: str = Field(default="", max_length=200)
    password: str | None = Field(default=None, max_length=1024)


class UserChange(BaseModel):
    """Roles to grant and revoke, and whether the user may sign in."""

    grant: Roles = []
    revoke: Roles = []
    active: bool | None = None


class NewToken(BaseModel):
    """An API token of an institution (a vendor's server, the CLI)."""

    institution: str = Field(max_length=20)
    name: str = Field(max_length=200)
    roles: Roles = ["submitter", "reviewer"]


def user_json(user: User, roles: frozenset[str]) -> dict[str, Any]:
    """A user as the API shows it (never the password hash)."""
    return {"id": user.id, "email": user.email, "name": user.name,
            "institution": user.institution_id, "roles": sorted(roles),
            "active": user.active}


def token_json(token: ApiToken) -> dict[str, Any]:
    """A token as the API shows it (never its secret, which is shown once)."""
    return {"id": token.id, "name": token.name, "institution": token.institution_id,
            "roles": token.roles.split(","), "revoked": token.revoked_at is not None,
            "last_used_at": token.last_used_at.isoformat(timespec="seconds") + "Z"
            if token.last_used_at else None}


def _refused(exc: AccountError) -> Problem:
    return Problem(exc.status, str(exc))


def accounts_router(web: WebContext) -> APIRouter:  # noqa: C901 - one closure per route
    """The routes."""
    router = APIRouter(prefix="/api/v1", tags=["accounts"])

    @router.get("/me", summary="Who the caller is and what it may do")
    def me(principal: Caller) -> dict[str, Any]:
        return {"kind": principal.kind, "name": principal.label,
                "institution": principal.institution_id, "roles": sorted(principal.roles),
                "acts_for": sorted(principal.scope) if principal.scope is not None else "all"}

    @router.get("/institutions", summary="The institutions the caller acts for")
    def institutions(principal: Caller) -> list[dict[str, Any]]:
        with web.sessions() as session:
            return [{"id": i.id, "name": i.name, "kind": i.kind, "parent": i.parent_id}
                    for i in session.scalars(select(Institution).where(
                        within(Institution.id, principal)).order_by(Institution.id))]

    @router.post("/institutions", summary="Load institutions from a reference CSV file "
                                          "(operator)")
    def load_institutions(principal: Caller, file: Annotated[UploadFile, File()]
                          ) -> dict[str, int]:
        require(principal, "operate")
        text = file.file.read(10_000_000).decode("utf-8", "replace")
        with web.sessions.begin() as session:
            added, updated = load_institutions_text(session, text)
        return {"added": added, "updated": updated}

    @router.get("/users", summary="Users of the institutions the caller manages")
    def users(principal: Caller) -> list[dict[str, Any]]:
        require(principal, "administer")
        with web.sessions() as session:
            found = session.scalars(select(User).where(within(User.institution_id, principal))
                                    .order_by(User.email))
            return [user_json(u, accounts.roles_of(session, u.id)) for u in found]

    @router.post("/users", status_code=201, summary="Add a user")
    def add_user(principal: Caller, body: NewUser) -> dict[str, Any]:
        require(principal, "administer")
        require_institution(principal, body.institution)
        try:
            with web.sessions.begin() as session:
                user, password = accounts.add_user(
                    session, body.email, body.institution, frozenset(body.roles), principal,
                    body.name, body.password)
                found = user_json(user, accounts.roles_of(session, user.id))
        except AccountError as exc:
            raise _refused(exc) from None
        return found | ({"password": password} if body.password is None else {})

    @router.patch("/users/{user_id}", summary="Grant or revoke roles; deactivate")
    def change_user(principal: Caller, user_id: Id, body: UserChange) -> dict[str, Any]:
        require(principal, "administer")
        try:
            with web.sessions.begin() as session:
                user = session.get(User, user_id)
                if user is None or not principal.covers(user.institution_id):
                    raise Problem(404, f"There is no user {user_id} you manage.")
                roles = accounts.grant(session, user, frozenset(body.grant),
                                       frozenset(body.revoke), principal)
                if body.active is not None:
                    accounts.set_active(session, user, body.active, principal)
                return user_json(user, roles)
        except AccountError as exc:
            raise _refused(exc) from None

    @router.get("/tokens", summary="API tokens of the institutions the caller manages")
    def tokens(principal: Caller) -> list[dict[str, Any]]:
        require(principal, "administer")
        with web.sessions() as session:
            return [token_json(t) for t in session.scalars(select(ApiToken).where(
                within(ApiToken.institution_id, principal)).order_by(ApiToken.id))]

    @router.post("/tokens", status_code=201, summary="Issue a token (its secret is answered "
                                                     "once)")
    def issue(principal: Caller, body: NewToken) -> dict[str, Any]:
        require(principal, "administer")
        require_institution(principal, body.institution)
        try:
            with web.sessions.begin() as session:
                token, secret = accounts.issue_token(session, body.institution, body.name,
                                                     frozenset(body.roles), principal)
                return token_json(token) | {"token": secret}
        except AccountError as exc:
            raise _refused(exc) from None

    @router.delete("/tokens/{token_id}", summary="Revoke a token")
    def revoke(principal: Caller, token_id: Id) -> dict[str, Any]:
        require(principal, "administer")
        with web.sessions.begin() as session:
            token = session.get(ApiToken, token_id)
            if token is None or not principal.covers(token.institution_id):
                raise Problem(404, f"There is no token {token_id} you manage.")
            try:
                accounts.revoke_token(session, token, principal)
            except AccountError as exc:
                raise _refused(exc) from None
            return token_json(token)

    return router
