"""What a person does with suggested records, likely duplicates and an SSID's history, for the
API (services.web.identity_api) and the pages (services.web.pages_identity) alike: one home for
who may choose, vote or look, and for how a choice is posted.

Every refusal is a ``Problem``: out of scope answers as absent (404), a role that does not
allow it is 403, a choice or vote that cannot be taken now is 409 or 422.
"""

from __future__ import annotations

import io
from typing import Any

from sqlalchemy.orm import Session

from services.web.context import WebContext
from services.web.identity import Refused, choose, identity_history, pair_of
from services.web.problems import Problem
from services.web.records import upload_text
from services.web.security import require, require_institution
from services.web.submissions import UploadRefused, accept_upload, job_json
from shared.accounts import Principal
from shared.db.duplicates import VoteRefused, vote
from shared.db.models import Identity, Submission, Suggestion


def decide_suggestion(web: WebContext, principal: Principal, suggestion_id: int, choice: str,
                      ssid: str | None, email: str | None = None
                      ) -> tuple[dict[str, Any], list[int]]:
    """Take a submitter's choice for a suggested record of their institutions: the record is
    posted as a file of one record carrying the choice (unless excluded). Returns the answer
    (the job, or the excluded suggestion) and the outbox rows to publish. Runs in a thread."""
    require(principal, "submit")
    try:
        with web.sessions.begin() as session:
            waiting = session.get(Suggestion, suggestion_id)
            if waiting is None or not principal.covers(waiting.institution_id):
                raise Problem(404, f"There is no suggestion {suggestion_id} (of an "
                                   "institution you act for).")
            chosen = choose(session, suggestion_id, choice, ssid, principal.label)
            if choice == "exclude":
                return {"suggestion": suggestion_id, "status": "excluded"}, []
            return _post_choice(web, session, chosen, email)
    except Refused as refused:
        raise Problem(refused.status, refused.message) from None
    except UploadRefused as refused:
        raise Problem(refused.status, refused.issue.message) from None


def _post_choice(web: WebContext, session: Session, chosen: Suggestion,
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


def cast_vote(web: WebContext, principal: Principal, low: str, high: str, institution: str,
              same_student: bool) -> dict[str, Any]:
    """A submitter's vote, for a district they act for, on a likely duplicate pair of its own
    student(s); two Y votes merge the pair (the lower SSID survives), two N close it."""
    require(principal, "submit")
    require_institution(principal, institution)
    try:
        with web.sessions.begin() as session:
            pair = pair_of(session, low, high)
            if pair is None:
                raise Problem(404, f"no likely duplicate {low} / {high}")
            done = vote(session, pair.low, pair.high, institution, same_student,
                        principal.label)
            return {"low": done.low, "high": done.high, "status": done.status,
                    "votes": {"low": done.low_vote, "high": done.high_vote}}
    except VoteRefused as refused:
        raise Problem(409, str(refused)) from None


def history_for(session: Session, principal: Principal, ssid: str) -> dict[str, Any]:
    """An SSID of the principal's institutions with its changes and merges, oldest first; any
    other SSID answers as one that does not exist."""
    require(principal, "view")
    identity = session.get(Identity, ssid)
    if identity is None or not principal.covers(identity.institution_id):
        raise Problem(404, f"There is no SSID {ssid} (of an institution you act for).")
    return {"ssid": identity.ssid, "merged_into": identity.merged_into,
            "institution": identity.institution_id, "record_type": identity.record_type,
            "changes": identity_history(session, ssid)}
