"""The API of Review Suggestions, Resolve Duplicates and an SSID's history.

Districts see and decide only their own students' suggestions and pairs (a pair's other student
is shown field by field, as Oregon's Resolve Duplicates does); the full scan is the state
operator's. An SSID's history is shown to the districts of its identity and to the state.
"""

from __future__ import annotations

import io
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from services.web.context import WebContext
from services.web.identity import (
    Refused,
    choose,
    duplicates_page,
    identity_history,
    pair_of,
    suggestions_page,
)
from services.web.problems import Id
from services.web.records import upload_text
from services.web.security import api_principal, require, require_institution
from services.web.submissions import UploadRefused, accept_upload, job_json
from shared.accounts import Principal
from shared.db.duplicates import VoteRefused, scan, vote
from shared.db.models import Identity, Submission, Suggestion
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
        require(principal, "submit")

        def work() -> tuple[dict[str, Any], list[int]]:
            with web.sessions.begin() as session:
                waiting = session.get(Suggestion, suggestion_id)
                if waiting is None or not principal.covers(waiting.institution_id):
                    raise Refused(404, f"There is no suggestion {suggestion_id} (of an "
                                       "institution you act for).")
                chosen = choose(session, suggestion_id, request.choice, request.ssid,
                                principal.label)
                if request.choice == "exclude":
                    return {"suggestion": suggestion_id, "status": "excluded"}, []
                return _post_choice(web, session, chosen, request.email)

        try:
            answer, ids = await run_in_threadpool(work)
        except Refused as refused:
            raise HTTPException(refused.status, refused.message) from None
        except UploadRefused as refused:
            raise HTTPException(refused.status, refused.issue.message) from None
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
        require(principal, "submit")
        require_institution(principal, request.institution)
        try:
            with web.sessions.begin() as session:
                pair = pair_of(session, low, high)
                if pair is None:
                    raise HTTPException(404, f"no likely duplicate {low} / {high}")
                done = vote(session, pair.low, pair.high, request.institution,
                            request.same_student, principal.label)
                return {"low": done.low, "high": done.high, "status": done.status,
                        "votes": {"low": done.low_vote, "high": done.high_vote}}
        except VoteRefused as refused:
            raise HTTPException(409, str(refused)) from None

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
        require(principal, "view")
        with web.sessions() as session:
            identity = session.get(Identity, ssid)
            if identity is None or not principal.covers(identity.institution_id):
                raise HTTPException(404, f"There is no SSID {ssid} (of an institution you "
                                         "act for).")
            return identity_history(session, ssid)


def _post_choice(web: WebContext, session: Any, chosen: Suggestion,
                 email: str | None) -> tuple[dict[str, Any], list[int]]:
    """The suggested record as a file of one record that carries the choice."""
    collection = web.catalog.collection(chosen.collection)
    if collection is None:
        raise Refused(409, f"the collection {chosen.collection} is gone")
    layout = web.catalog.layout_of(collection)
    text = upload_text(layout, [chosen.fields])
    original = session.get(Submission, chosen.submission_id)
    accepted = accept_upload(
        session, web.catalog, web.store, stream=io.BytesIO(text.encode()),
        filename=f"suggestion-{chosen.id}.csv", collection=chosen.collection,
        institution_id=chosen.institution_id,
        submitted_by=email or (original.submitted_by if original else None),
        max_bytes=web.settings.pipeline.max_upload_bytes, resolves=chosen.id)
    session.flush()
    return job_json(session, accepted.submission, web.settings.base_url), accepted.outbox_ids
