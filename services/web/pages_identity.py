"""The SSID pages (Oregon seed): Review Suggestions, Resolve Duplicates and an SSID's history.

They show what ``/api/v1/suggestions``, ``/api/v1/duplicates`` and
``/api/v1/identities/{ssid}/history`` answer, from the same functions (services.web.identity,
services.web.identity_actions), for the institutions the signed-in user acts for. Choosing and
voting are a submitter's; a reviewer sees the same pages without the buttons.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from services.web.context import WebContext
from services.web.identity import duplicates_page, pair_of, suggestions_page
from services.web.identity_actions import cast_vote, decide_suggestion, history_for
from services.web.pages import Csrf, User, posted, render
from services.web.pages_work import institutions_of
from services.web.problems import Id
from services.web.security import require, require_institution
from shared.accounts import Principal
from shared.db.models import Identity
from shared.privacy import hmac_key

Institution = Annotated[str, Query(max_length=20)]
PageNumber = Annotated[int, Query(ge=1, le=100_000)]
Ssid = Annotated[str, Path(max_length=10)]


def _institution(user: Principal, asked: str) -> str:
    """The institution a page is about: the one asked for (if the user acts for it) or the
    user's own."""
    return require_institution(user, asked or user.institution_id)


def _page_links(path: str, institution: str, pages: int, page: int) -> list[tuple[int, str]]:
    return [(p, f"{path}?" + urlencode({"institution": institution, "page": str(p)}))
            for p in range(1, pages + 1) if p <= 10 or abs(p - page) <= 2 or p == pages]


def identity_pages(web: WebContext) -> APIRouter:
    """The routes."""
    router = APIRouter(include_in_schema=False)
    key = hmac_key(web.settings)

    @router.get("/suggestions")
    def suggestions(request: Request, user: User, institution: Institution = "",
                    page: PageNumber = 1, excluded: Annotated[int, Query(ge=0)] = 0
                    ) -> Response:
        require(user, "view")
        chosen = _institution(user, institution)
        with web.sessions() as session:
            found = suggestions_page(session, web.catalog, key, chosen, page)
        return render(request, "suggestions.html", found=found, institution=chosen,
                      institutions=institutions_of(web, user), may_choose=user.may("submit"),
                      excluded=excluded,
                      page_links=_page_links("/suggestions", chosen, found["pages"], page))

    @router.post("/suggestions/{suggestion_id}")
    async def choose(request: Request, user: User, suggestion_id: Id, csrf: Csrf,
                     choice: Annotated[str, Form(max_length=10)],
                     ssid: Annotated[str, Form(max_length=10)] = "",
                     institution: Annotated[str, Form(max_length=20)] = "") -> Response:
        posted(request, csrf)
        answer, ids = await run_in_threadpool(decide_suggestion, web, user, suggestion_id,
                                              choice, ssid or None, None)
        await web.publish(ids)
        if choice == "exclude":
            back = urlencode({"institution": institution or user.institution_id,
                              "excluded": str(suggestion_id)})
            return RedirectResponse(f"/suggestions?{back}", status_code=303)
        return RedirectResponse(f"/jobs/{answer['id']}?uploaded=1", status_code=303)

    @router.get("/duplicates")
    def duplicates(request: Request, user: User, institution: Institution = "",
                   page: PageNumber = 1,
                   voted: Annotated[str, Query(max_length=21, pattern=r"^(\d+-\d+)?$")] = ""
                   ) -> Response:
        require(user, "view")
        chosen = _institution(user, institution)
        with web.sessions() as session:
            found = duplicates_page(session, web.catalog, key, chosen, page)
            outcome = _outcome(session, user, voted)
        return render(request, "duplicates.html", found=found, institution=chosen,
                      institutions=institutions_of(web, user), may_vote=user.may("submit"),
                      outcome=outcome)

    @router.post("/duplicates/{low}/{high}/vote")
    def vote(request: Request, user: User, low: Ssid, high: Ssid, csrf: Csrf,
             institution: Annotated[str, Form(max_length=20)],
             same: Annotated[str, Form(pattern="^(yes|no)$")]) -> Response:
        posted(request, csrf)
        done = cast_vote(web, user, low, high, institution, same == "yes")
        back = urlencode({"institution": institution, "voted": f"{done['low']}-{done['high']}"})
        return RedirectResponse(f"/duplicates?{back}", status_code=303)

    @router.get("/identities/{ssid}")
    def identity(request: Request, user: User, ssid: Ssid) -> Response:
        with web.sessions() as session:
            found = history_for(session, user, ssid)
        layout = web.catalog.layouts.get(found["record_type"])
        names = [f.title for f in layout.fields] if layout else []
        return render(request, "identity.html", identity=found, names=names)

    return router


def _outcome(session: Any, user: Principal, voted: str) -> dict[str, Any] | None:
    """What became of the pair the user just voted on, if it is one of theirs."""
    if not voted:
        return None
    low, high = voted.split("-", 1)
    pair = pair_of(session, low, high)
    if pair is None:
        return None
    owners = [session.get(Identity, s) for s in (pair.low, pair.high)]
    if not any(o is not None and user.covers(o.institution_id) for o in owners):
        return None
    return {"low": pair.low, "high": pair.high, "status": pair.status,
            "votes": {"low": pair.low_vote, "high": pair.high_vote}}
