"""Likely duplicate SSIDs (Oregon "Resolve Duplicates"): found as identities are filed and by a
full scan, voted on by the districts of the two students, merged on two Y votes.

Merge rules (Oregon seed, Resolve Duplicates): the lower SSID survives; the survivor keeps the
most recent data (the record of whichever identity was updated last); the other SSID redirects
to it for good (``identities.merged_into``: posting, matching, export and lookup follow it), and
both keep a ``merged`` change. Two N votes mean two students: the pair is never shown again.
A pair of two students of one district needs that district's one vote.
"""

from __future__ import annotations

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from shared.db.models import DuplicatePair, Identity, IdentityChange, IdentityKey, utcnow
from shared.matching.engine import Matcher
from shared.matching.person import Person


class VoteRefused(Exception):  # noqa: N818 - an answer to the voter, not a failure of edcs
    """The vote cannot be taken; the message says why."""


def record_pairs(session: Session, matcher: Matcher, person: Person) -> int:
    """Pairs of this identity with every other current identity it could be (any level);
    returns how many were new. A pair decided before is never reopened."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    found = 0
    for scored in matcher.score(person):
        if scored.ssid == person.ssid:
            continue
        low, high = sorted((person.ssid, scored.ssid))
        done = session.execute(dialect.insert(DuplicatePair).values(
            low=low, high=high, level=scored.level.level, status="waiting",
            found_at=utcnow()).on_conflict_do_nothing())
        found += int(done.rowcount or 0)  # type: ignore[attr-defined]
    return found


def scan(session: Session, matcher: Matcher, after: str = "", limit: int = 500
         ) -> tuple[int, int, str | None]:
    """Compare the next ``limit`` current identities (by SSID, after ``after``) with the
    registry, recording every likely pair: the full scan that rebuilds what the identity stage
    found as identities came. Returns (identities read, new pairs, the SSID to go on after, or
    None at the end)."""
    people = [Person(*p) for p in session.scalars(
        select(Identity.person).where(Identity.ssid > after, Identity.merged_into.is_(None))
        .order_by(Identity.ssid).limit(limit))]
    found = sum(record_pairs(session, matcher, p) for p in people)
    return len(people), found, people[-1].ssid if len(people) == limit else None


def _institution(session: Session, ssid: str) -> str | None:
    return session.scalar(select(Identity.institution_id).where(Identity.ssid == ssid))


def vote(session: Session, low: str, high: str, institution_id: str, yes: bool,
         voter: str) -> DuplicatePair:
    """A district's vote on a pair of its own student(s); merges or closes the pair when the
    votes say so."""
    pair = session.get(DuplicatePair, (low, high), with_for_update=True)
    if pair is None:
        raise VoteRefused(f"no likely duplicate {low} / {high}")
    if pair.status != "waiting":
        raise VoteRefused(f"the pair {low} / {high} is {pair.status} already")
    owners = (_institution(session, low), _institution(session, high))
    if institution_id not in owners:
        raise VoteRefused("only the districts of the two students vote on them")
    choice = "Y" if yes else "N"
    if owners[0] == institution_id:
        pair.low_vote, pair.low_voter = choice, voter
    if owners[1] == institution_id:
        pair.high_vote, pair.high_voter = choice, voter
    if pair.low_vote == pair.high_vote == "Y":
        merge(session, pair.low, pair.high, by=voter)
        pair.status, pair.decided_at = "merged", utcnow()
    elif pair.low_vote == pair.high_vote == "N":
        pair.status, pair.decided_at = "distinct", utcnow()
    session.flush()
    return pair


def merge(session: Session, survivor: str, retired: str, by: str | None = None) -> None:
    """Merge ``retired`` into ``survivor`` (the lower SSID): the survivor takes the most recent
    record, the retired SSID redirects to it."""
    keep = session.get(Identity, survivor)
    gone = session.get(Identity, retired)
    if keep is None or gone is None:
        raise VoteRefused("an SSID of the pair is not in the registry")
    if gone.updated_at > keep.updated_at:  # the most recent data survives
        before = keep.fields
        keep.person = [survivor, *gone.person[1:]]
        keep.fields, keep.updated_at = gone.fields, utcnow()
        session.add(IdentityChange(ssid=survivor, action="updated", before=before,
                                   after=gone.fields, other_ssid=retired, by=by))
        session.execute(delete(IdentityKey).where(IdentityKey.ssid == survivor))
        session.execute(update(IdentityKey).where(IdentityKey.ssid == retired)
                        .values(ssid=survivor))
    else:
        session.execute(delete(IdentityKey).where(IdentityKey.ssid == retired))
    gone.merged_into = survivor
    session.execute(update(Identity).where(Identity.merged_into == retired)
                    .values(merged_into=survivor))
    for ssid, other in ((survivor, retired), (retired, survivor)):
        session.add(IdentityChange(ssid=ssid, action="merged", other_ssid=other, by=by))
    session.flush()


def waiting_for(session: Session, institution_id: str, limit: int = 25, offset: int = 0
                ) -> list[DuplicatePair]:
    """Pairs waiting for this district's vote (one of the two students is its own)."""
    mine = select(Identity.ssid).where(Identity.institution_id == institution_id)
    return list(session.scalars(
        select(DuplicatePair).where(
            DuplicatePair.status == "waiting",
            DuplicatePair.low.in_(mine) | DuplicatePair.high.in_(mine))
        .order_by(DuplicatePair.level, DuplicatePair.low).limit(limit).offset(offset)))


def merged_for(session: Session, institution_id: str, limit: int = 25) -> list[DuplicatePair]:
    """The latest merges of this district's students (pairs closed as two students are never
    shown again)."""
    mine = select(Identity.ssid).where(Identity.institution_id == institution_id)
    return list(session.scalars(
        select(DuplicatePair).where(
            DuplicatePair.status == "merged",
            DuplicatePair.low.in_(mine) | DuplicatePair.high.in_(mine))
        .order_by(DuplicatePair.decided_at.desc(), DuplicatePair.low).limit(limit)))
