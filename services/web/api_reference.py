"""``/api/v1/collections`` (the collections, their fields and Lookup Values) and
``/api/v1/emails`` (Review Email: every email edcs sent about the caller's institutions)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from services.web.context import WebContext
from services.web.fixes import layout_of
from services.web.problems import Id, Problem, QueryId
from services.web.records import key_form
from services.web.scoping import within
from services.web.search import searchable
from services.web.security import api_principal, require
from shared.accounts import Principal
from shared.catalog.loader import Catalog
from shared.catalog.models import Layout
from shared.db.models import Email, Submission
from shared.formats.detect import allowed_extensions

Caller = Annotated[Principal, Depends(api_principal)]


def lookup_values(catalog: Catalog, layout: Layout) -> list[dict[str, Any]]:
    """Every field of the layout that takes codes, with its code set's values."""
    found = []
    for spec in layout.fields:
        codeset = catalog.codesets.get(spec.codeset) if spec.codeset else None
        values = (dict(codeset.values) if codeset is not None
                  else dict.fromkeys(spec.allowed, "") if spec.allowed else None)
        if values is None:
            continue
        found.append({"field": spec.id, "name": spec.name, "title": spec.title,
                      "codeset": codeset.name if codeset else None,
                      "codeset_title": codeset.title if codeset else "Allowed values",
                      "complete": codeset.complete if codeset else True,
                      "values": [{"code": k, "meaning": v} for k, v in values.items()]})
    return found


def collection_json(catalog: Catalog, code: str) -> dict[str, Any]:
    """A collection with its layout's fields."""
    collection = catalog.collection(code)
    if collection is None:
        raise Problem(404, "There is no such collection.")
    layout = catalog.layout_of(collection)
    return {"code": collection.code, "title": collection.title,
            "acceptance": collection.acceptance.value, "posting": collection.posting.value,
            "record_type": layout.record_type, "method": layout.method.value,
            "header_row": layout.framing.header, "key": key_form(layout),
            "search_by": searchable(layout),
            "fields": [{"id": f.id, "name": f.name, "title": f.title,
                        "max_length": f.max_length, "required": f.required,
                        "codeset": f.codeset, "hashed": f.hashed} for f in layout.fields]}


def emails_within(principal: Principal) -> ColumnElement[bool]:
    """Emails about the principal's institutions: of their submissions, or addressed to them
    (downloads)."""
    return or_(Email.submission_id.in_(select(Submission.id).where(
        within(Submission.institution_id, principal))),
        within(Email.institution_id, principal))


def email_json(email: Email, session: Session, full: bool = False) -> dict[str, Any]:
    """An email as Review Email lists it (its text only when asked)."""
    found: dict[str, Any] = {
        "id": email.id, "submission": email.submission_id, "milestone": email.milestone,
        "to": email.recipient, "subject": email.subject, "status": email.status,
        "created_at": email.created_at.isoformat(timespec="seconds") + "Z",
        "sent_at": email.sent_at.isoformat(timespec="seconds") + "Z" if email.sent_at
        else None}
    if full:
        found["body"] = email.body
        found["error"] = email.error
    return found


def reference_router(web: WebContext) -> APIRouter:
    """The routes."""
    router = APIRouter(prefix="/api/v1", tags=["reference"])

    @router.get("/collections", summary="Every collection edcs takes")
    def collections(principal: Caller) -> list[dict[str, Any]]:
        require(principal, "view")
        return [{"code": c.code, "title": c.title, "acceptance": c.acceptance.value,
                 "extensions": list(allowed_extensions(web.catalog.layout_of(c)))}
                for c in sorted(web.catalog.collections.values(), key=lambda c: c.code)]

    @router.get("/collections/{code}", summary="A collection and its fields")
    def collection(principal: Caller, code: str) -> dict[str, Any]:
        require(principal, "view")
        return collection_json(web.catalog, code)

    @router.get("/collections/{code}/lookup-values", summary="Lookup Values: the codes of "
                                                             "each field")
    def lookups(principal: Caller, code: str) -> list[dict[str, Any]]:
        require(principal, "view")
        return lookup_values(web.catalog, layout_of(web, code))

    @router.get("/emails", summary="Review Email, newest first")
    def emails(principal: Caller, limit: Annotated[int, Query(ge=1, le=500)] = 50,
               cursor: QueryId = None) -> dict[str, Any]:
        require(principal, "view")
        query = (select(Email).where(emails_within(principal)).order_by(Email.id.desc())
                 .limit(limit + 1))
        if cursor is not None:
            query = query.where(Email.id < cursor)
        with web.sessions() as session:
            found = list(session.scalars(query))
            items = [email_json(e, session) for e in found[:limit]]
        return {"items": items,
                "next_cursor": str(found[limit - 1].id) if len(found) > limit else None}

    @router.get("/emails/{email_id}", summary="One email with its text")
    def email(principal: Caller, email_id: Id) -> dict[str, Any]:
        require(principal, "view")
        with web.sessions() as session:
            found = session.scalar(select(Email).where(Email.id == email_id,
                                                       emails_within(principal)))
            if found is None:
                raise Problem(404, f"There is no email {email_id} of your institutions.")
            return email_json(found, session, full=True)

    return router
