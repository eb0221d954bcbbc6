"""Review Suggestions and Resolve Duplicates (Oregon seed), as the web API serves them.

A suggested record is shown with its candidates and, field by field, whether they agree
(compared as matching compares them: normalised, the SSN only by its keyed hash, never shown).
A person's choice posts the record as a file of one record (``resolves_suggestion_id``): the
chosen SSID, a new SSID, or "exclude for now".
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from shared.catalog.loader import Catalog
from shared.db.duplicates import merged_for, waiting_for
from shared.db.models import (
    FINAL_STATUSES,
    DuplicatePair,
    Identity,
    IdentityChange,
    Submission,
    Suggestion,
    utcnow,
)
from shared.matching.levels import default_ruleset
from shared.matching.person import FIELDS, Person
from shared.matching.records import PersonReader

PAGE = 25  # records per page, as Oregon's Review Suggestions shows them


class Refused(Exception):  # noqa: N818 - an answer to the user, not a failure of edcs
    """The choice cannot be taken; the message says why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _shown(catalog: Catalog, record_type: str, fields: list[str]) -> dict[str, str]:
    """The matching fields of a record by matching name (the SSN is never shown)."""
    layout = catalog.layouts[record_type]
    spec = layout.matching
    if spec is None:
        return {}
    names = [f.name for f in layout.fields]
    return {f: ("(kept hashed)" if f == "ssn" and fields[names.index(spec.fields[f])] else
                fields[names.index(spec.fields[f])])
            for f in FIELDS if f in spec.fields}


def compare(catalog: Catalog, key: bytes, record_type: str, fields: list[str],
            identity: Identity) -> list[dict[str, Any]]:
    """Field by field: the submitted value, the candidate's, and whether they agree."""
    submitted = PersonReader(catalog.layouts[record_type], key).person(fields)
    theirs = Person(*identity.person)
    mine, other = (_shown(catalog, record_type, fields),
                   _shown(catalog, identity.record_type, identity.fields))
    return [{"field": f, "submitted": mine.get(f, ""), "candidate": other.get(f, ""),
             "agrees": bool(getattr(submitted, f)) and getattr(submitted, f) == getattr(
                 theirs, f)} for f in FIELDS if f != "ssid"]


def suggestions_page(session: Session, catalog: Catalog, key: bytes, institution_id: str,
                     page: int = 1, status: str = "waiting") -> dict[str, Any]:
    """One page of an institution's suggested records with their candidates."""
    where = (Suggestion.institution_id == institution_id, Suggestion.status == status)
    total = session.scalar(select(func.count()).select_from(Suggestion).where(*where)) or 0
    items = []
    levels = {lv.level: lv.text for lv in default_ruleset().levels}
    for s in session.scalars(select(Suggestion).where(*where).order_by(Suggestion.id)
                             .limit(PAGE).offset(PAGE * (max(page, 1) - 1))):
        layout = catalog.collection(s.collection)
        record_type = catalog.layout_of(layout).record_type if layout else s.collection
        candidates = []
        for ssid in s.candidates:
            identity = session.get(Identity, ssid)
            if identity is not None:
                candidates.append({"ssid": ssid, "fields": compare(
                    catalog, key, record_type, s.fields, identity)})
        items.append({"id": s.id, "submission": s.submission_id, "row": s.row,
                      "collection": s.collection, "level": s.level, "status": s.status,
                      "level_text": levels.get(s.level or 0, ""),
                      "record": _shown(catalog, record_type, s.fields),
                      "candidates": candidates})
    return {"institution": institution_id, "page": max(page, 1),
            "pages": max(1, -(-total // PAGE)), "total": total, "items": items}


def choose(session: Session, suggestion_id: int, choice: str, ssid: str | None,
           by: str) -> Suggestion:
    """Take a person's choice; the caller sends the record as a file of one record unless it
    was excluded."""
    suggestion = session.get(Suggestion, suggestion_id, with_for_update=True)
    if suggestion is None:
        raise Refused(404, f"no suggestion {suggestion_id}")
    if suggestion.status in ("matched", "new"):
        raise Refused(409, f"suggestion {suggestion_id} is decided already "
                           f"({suggestion.status} {suggestion.chosen_ssid or ''})".strip())
    in_flight = session.scalar(select(exists().where(
        Submission.resolves_suggestion_id == suggestion_id,
        Submission.status.not_in(FINAL_STATUSES))))
    if in_flight:
        raise Refused(409, f"a choice for suggestion {suggestion_id} is being posted")
    if choice == "match":
        current = session.get(Identity, ssid or "")
        if current is None or current.merged_into is not None:
            raise Refused(422, f"{ssid!r} is not a current SSID of the registry")
        suggestion.chosen_ssid = ssid
    elif choice == "new":
        suggestion.chosen_ssid = None
    elif choice != "exclude":
        raise Refused(422, "choose match (with an SSID), new or exclude")
    suggestion.status = "excluded" if choice == "exclude" else "choosing"
    suggestion.decided_by, suggestion.decided_at = by, utcnow()
    session.flush()
    return suggestion


def duplicates_page(session: Session, catalog: Catalog, key: bytes, institution_id: str,
                    page: int = 1) -> dict[str, Any]:
    """Likely duplicates waiting for this district's vote, each with both records, and the
    district's latest merges (the lower SSID survived)."""
    items = []
    for pair in waiting_for(session, institution_id, PAGE, PAGE * (max(page, 1) - 1)):
        low, high = session.get(Identity, pair.low), session.get(Identity, pair.high)
        if low is None or high is None:
            continue
        items.append({"low": pair.low, "high": pair.high, "level": pair.level,
                      "votes": {"low": pair.low_vote, "high": pair.high_vote},
                      "institutions": {"low": low.institution_id, "high": high.institution_id},
                      "fields": compare(catalog, key, low.record_type, low.fields, high)})
    merged = [{"survivor": p.low, "retired": p.high, "level": p.level,
               "at": p.decided_at.isoformat(timespec="seconds") + "Z" if p.decided_at else None}
              for p in merged_for(session, institution_id)]
    return {"institution": institution_id, "page": max(page, 1), "items": items,
            "merged": merged}


def identity_history(session: Session, ssid: str) -> list[dict[str, Any]]:
    """Every change to an SSID's identity, merges included, oldest first."""
    return [{"at": c.at.isoformat(timespec="seconds") + "Z", "action": c.action,
             "other_ssid": c.other_ssid, "submission": c.submission_id, "by": c.by,
             "before": c.before, "after": c.after}
            for c in session.scalars(select(IdentityChange).where(IdentityChange.ssid == ssid)
                                     .order_by(IdentityChange.id))]


def pair_of(session: Session, low: str, high: str) -> DuplicatePair | None:
    """A duplicate pair by its two SSIDs in either order."""
    a, b = sorted((low, high))
    return session.get(DuplicatePair, (a, b))
