"""The barrier's decision about a whole staged file: claim it, check it, accept or reject it,
and record the outcome.

The transaction starts by claiming the submission (a conditional status update), so when two post
workers reach the barrier together only one posts, and a replay of a posted file posts nothing.
``decide`` runs the whole-file checks, the rules on the store and SSID matching and applies the
collection's acceptance mode; ``services.post.posting`` then applies an accepted file to the
store, and ``finish`` records the final status once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from services.post import matching as ssid_matching
from services.post.held import hold_fatal, settle_fix
from services.post.matching import MatchingContext
from services.post.prechecks import duplicates_in_file, emptying_deletes
from services.post.store_rules import StoreChecks
from services.post.tables import STAGED
from shared.catalog.loader import Catalog, default_catalog
from shared.catalog.models import Acceptance, Collection, Layout, Posting
from shared.db.lifecycle import finished, owe_email
from shared.db.models import Submission, utcnow
from shared.db.ordering import earlier_in_flight
from shared.matching.engine import Decision as MatchDecision
from shared.settings import Settings


@dataclass
class Outcome:
    """What posting did, for the job and the email."""

    status: str
    posted: int = 0
    rejected: int = 0
    warnings: int = 0
    message: str = ""


def claim(session: Session, submission_id: int) -> bool:
    """Take the submission for posting if all its records are staged, no earlier file of the
    same institution and collection is still in flight, and nobody else has taken it."""
    result = session.execute(
        update(Submission)
        .where(Submission.id == submission_id,
               Submission.status.in_(("received", "processing")),
               Submission.expected_records.is_not(None),
               Submission.staged_records >= Submission.expected_records,
               ~earlier_in_flight())
        .values(status="posting"))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def _count(result: Any) -> int:
    return int(result.rowcount or 0)


@dataclass
class Decision:
    """The acceptance decision, taken when the whole file is staged and checked."""

    total: int
    fatal: int
    warnings: int
    rejected: Outcome | None  # set when nothing may post
    matched: int = 0  # records that found their SSID (hard matches)
    new: int = 0  # records given a new SSID
    suggested: int = 0  # records waiting in Review Suggestions
    # No operational key is staged twice (the whole-file check found none and matching gave
    # no record an SSID, which would change its key): posting need not look again.
    keys_unique: bool = False


def staged_counts(session: Session, submission_id: int) -> tuple[int, int]:
    """How many staged records of the file are fatal, and how many warnings they carry."""
    fatal, warnings = session.execute(
        select(func.count().filter(STAGED.fatal.is_(True)),
               func.coalesce(func.sum(STAGED.warnings), 0))
        .where(STAGED.submission_id == submission_id)).one()
    return int(fatal or 0), int(warnings or 0)


def decide(session: Session, submission: Submission, collection: Collection, layout: Layout,
           max_issues_per_code: int, matching: MatchingContext | None = None,
           catalog: Catalog | None = None) -> Decision:
    """Run the whole-file checks, the rules on the store and SSID matching, apply the
    acceptance mode (records with errors of a valid-records-post file are held here), and write
    the matching's outcome when the file is accepted."""
    sid = submission.id
    # An all-or-nothing file is rejected by any error: its rows with errors are compared too,
    # so a repeated key is said in the same round as the rows' own errors.
    repeats = duplicates_in_file(session, sid, layout, max_issues_per_code,
                                 every_row=collection.acceptance is Acceptance.ALL_OR_NOTHING)
    emptying_deletes(session, sid, layout, max_issues_per_code)
    StoreChecks(catalog or default_catalog(), layout).run(
        session, sid, submission.received_at.date(), max_issues_per_code)
    context = matching or MatchingContext.from_settings(Settings())
    match = ssid_matching.plan(session, submission, layout, context)
    fatal, warnings = staged_counts(session, sid)
    total = submission.expected_records or 0
    if fatal and collection.acceptance is Acceptance.ALL_OR_NOTHING:
        verb = "has" if fatal == 1 else "have"
        return Decision(total, fatal, warnings, Outcome(
            status="rejected", rejected=fatal, warnings=warnings, message=(
                f"{fatal} of {total} records {verb} errors; nothing was posted. Fix the errors "
                "and submit the whole file again.")))
    if fatal:
        hold_fatal(session, submission)
    if match is None:
        return Decision(total, fatal, warnings, None, keys_unique=repeats.keys_unique)
    waiting = ssid_matching.apply(session, submission, layout, match, context)
    return Decision(total, fatal, warnings, None, matched=match.count(MatchDecision.HARD),
                    new=match.count(MatchDecision.NEW), suggested=waiting,
                    keys_unique=repeats.keys_unique and not match.records
                    and not match.redirects)


def posted_outcome(decision: Decision, collection: Collection, posted: int, warnings: int,
                   effects: int, replaced: int, schools: int = 0,
                   period: str | None = None) -> Outcome:
    """What a posted file reports."""
    message = f"{posted} of {decision.total} records posted."
    if schools:
        message += (f" The file is large, so it was posted school by school ({schools} schools), "
                    "in several transactions.")
    if effects:
        message += f" {effects} related records were updated (e.g. programs end-dated)."
    if collection.posting is Posting.FULL_REPLACEMENT:
        of = f" for {period}" if period else ""
        message += (f" This file is now the active submission{of}; it replaced {replaced} "
                    "records of the previous one, which is archived.")
    if decision.fatal:
        message += (f" {decision.fatal} records with errors are kept to be fixed (Review "
                    "Errors); they post when corrected.")
    if decision.matched or decision.new:
        message += (f" SSIDs: {decision.matched} records matched a student's SSID, "
                    f"{decision.new} students were given a new one.")
    if decision.suggested:
        message += (f" {decision.suggested} records wait in Review Suggestions for a person to "
                    "choose their student (edcs suggestions); they post once chosen.")
    return Outcome(status="posted", posted=posted, rejected=decision.fatal,
                   warnings=decision.warnings + warnings, message=message)


def finish(session: Session, submission: Submission, outcome: Outcome,
           decision: Decision) -> bool:
    """Record the final status (only once: False when another worker finished it first)."""
    if submission.fixes_submission_id is not None:
        settle_fix(session, submission, posted=outcome.posted > 0 and not decision.fatal)
    now = utcnow()
    done = session.execute(update(Submission).where(
        Submission.id == submission.id, Submission.status == "posting").values(
        status=outcome.status, records=decision.total, posted=outcome.posted,
        rejected=outcome.rejected, warnings=outcome.warnings, message=outcome.message,
        held=decision.fatal if outcome.status == "posted" else 0,
        suggested=decision.suggested if outcome.status == "posted" else 0,
        finished_at=now, progress_at=now))
    if not _count(done):
        return False
    finished(session, submission.id, outcome.status, outcome.message)
    if decision.suggested and outcome.status == "posted":
        owe_email(session, submission.id, "suggestions")
    return True


