"""The API of Review Suggestions, Resolve Duplicates and an SSID's history.

Districts see and decide only their own students' suggestions and pairs (a pair's other student
is shown field by field, as Oregon's Resolve Duplicates does); the full scan is the state
operator's. An SSID's history is shown to the districts of its identity and to the state.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from services.web.context import WebContext
from services.web.identity import duplicates_page, suggestions_page
from services.web.identity_actions import cast_vote, decide_suggestion, history_for
from services.web.problems import Id
from services.web.security import api_principal, require, require_institution
from shared.accounts import Principal
from shared.db.duplicates import scan
from shared.db.registry import StoreRegistry, StoreSequence
from shared.matching.engine import Matcher
from shared.matching.levels import default_ruleset
from shared.matching.nicknames import default_nicknames
from shared.privacy import hmac_key


class Choice(BaseModel):
    """A person's choice for a suggested record."""

    choice: Literal["match", "new", "exclude"]
    ssid: str | None = Field(default=None, max_length=10)
    email: str | None = Field(default=None, max_length=320)


class Vote(BaseModel):
    """A district's vote on a likely duplicate pair of its own student(s)."""

    institution: str = Field(max_length=20)
    same_student: bool


def identity_router(web: WebContext) -> APIRouter:
    """Routes for suggestions, duplicates and SSID history."""
    router = APIRouter(prefix="/api/v1", tags=["identities"])
    _suggestion_routes(router, web)
    _duplicate_routes(router, web)
    return router


def _suggestion_routes(router: APIRouter, web: WebContext) -> None:
    key = hmac_key(web.settings)

    @router.get("/suggestions")
    def api_suggestions(principal: Annotated[Principal, Depends(api_principal)],
                        institution: str, page: int = Query(1, ge=1, le=100_000),
                        status: str = "waiting") -> dict[str, Any]:
        require(principal, "view")
        require_institution(principal, institution)
        with web.sessions() as session:
            return suggestions_page(session, web.catalog, key, institution, page, status)

    @router.post("/suggestions/{suggestion_id}", status_code=201)
    async def api_choose(principal: Annotated[Principal, Depends(api_principal)],
                         suggestion_id: Id, request: Choice) -> dict[str, Any]:
        answer, ids = await run_in_threadpool(decide_suggestion, web, principal, suggestion_id,
                                              request.choice, request.ssid, request.email)
        await web.publish(ids)
        return answer


def _duplicate_routes(router: APIRouter, web: WebContext) -> None:
    key = hmac_key(web.settings)
    ruleset, nicknames = default_ruleset(), default_nicknames()

    @router.get("/duplicates")
    def api_duplicates(principal: Annotated[Principal, Depends(api_principal)],
                       institution: str,
                       page: int = Query(1, ge=1, le=100_000)) -> dict[str, Any]:
        require(principal, "view")
        require_institution(principal, institution)
        with web.sessions() as session:
            return duplicates_page(session, web.catalog, key, institution, page)

    @router.post("/duplicates/{low}/{high}/vote")
    def api_vote(principal: Annotated[Principal, Depends(api_principal)], low: str, high: str,
                 request: Vote) -> dict[str, Any]:
        return cast_vote(web, principal, low, high, request.institution, request.same_student)

    @router.post("/duplicates/scan")
    def api_scan(principal: Annotated[Principal, Depends(api_principal)], after: str = "",
                 limit: int = Query(500, ge=1, le=5000)) -> dict[str, Any]:
        require(principal, "operate")
        with web.sessions.begin() as session:
            registry = StoreRegistry(session, nicknames)
            matcher = Matcher(ruleset, registry, StoreSequence(session), nicknames)
            read, found, next_after = scan(session, matcher, after, min(limit, 5000))
        return {"scanned": read, "found": found, "next": next_after}

    @router.get("/identities/{ssid}/history")
    def api_identity_history(principal: Annotated[Principal, Depends(api_principal)],
                             ssid: str) -> list[dict[str, Any]]:
        with web.sessions() as session:
            changes: list[dict[str, Any]] = history_for(session, principal, ssid)["changes"]
            return changes
