"""Every submission reaches a final state: the post stage's periodic work.

On every tick:

- files whose records are all staged, that wait for nobody and that nobody is posting, are
  posted (the wake-up that should have done it was lost, or the file they waited for failed);
- large files a stopped worker left half-posted (status ``posting``, no progress for a while)
  are finished;
- a submission that has not moved for ``watchdog.idle_seconds`` while nothing else moved either,
  or for ``watchdog.stuck_seconds`` however busy the rest is, is re-driven from its stored file
  (at most ``watchdog.max_redrives`` times) and then failed with the reason.

A file that waits behind an earlier one of its institution and collection is never judged: the
earlier one is. Two post workers may run this at once: each action starts with a conditional
update, so only one of them acts.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session, sessionmaker

from shared.catalog.loader import Catalog
from shared.db.lifecycle import fail, not_final_since, record_event
from shared.db.models import FINAL_STATUSES, Submission, utcnow
from shared.db.ordering import earlier_in_flight, waiting_for
from shared.errors import PermanentError, is_transient, reason_of
from shared.filestore import FileStore
from shared.messaging.runner import Outgoing, status_event
from shared.metrics import WATCHDOG
from shared.redrive import redrive_event
from shared.settings import WatchdogSettings

log = logging.getLogger(__name__)
STALE_POSTING = dt.timedelta(seconds=60)  # a school-by-school post that stopped moving


def complete_and_free(session: Session) -> list[int]:
    """Submissions with every record staged that wait for no earlier file and are not being
    posted.

    A row another transaction holds is passed over (``SKIP LOCKED``; the next round looks
    again): on PostgreSQL a file another post worker is posting still reads as 'processing'
    until its barrier commits, and claiming it waited on that barrier's row lock, so one
    worker's watchdog held its worker up for every barrier of the other (SQLite has one
    writer and no row locks: nothing to skip)."""
    return list(session.scalars(select(Submission.id).where(
        Submission.status.in_(("received", "processing")),
        Submission.expected_records.is_not(None),
        Submission.staged_records >= Submission.expected_records,
        ~earlier_in_flight()).order_by(Submission.id).with_for_update(skip_locked=True)))


def half_posted(session: Session, now: dt.datetime) -> list[int]:
    """Large files left in ``posting`` with no progress for a while."""
    return list(session.scalars(select(Submission.id).where(
        Submission.status == "posting",
        (Submission.progress_at.is_(None)) | (Submission.progress_at < now - STALE_POSTING))))


def _idle(session: Session, since: dt.datetime) -> bool:
    return not session.scalar(select(exists().where(Submission.progress_at >= since)))


def _claim_redrive(session: Session, submission: Submission, now: dt.datetime) -> bool:
    """Take the re-drive of a stuck submission (only one watchdog wins)."""
    taken = session.execute(update(Submission).where(
        Submission.id == submission.id, Submission.status.not_in(FINAL_STATUSES),
        Submission.redrives == submission.redrives).values(
        redrives=Submission.redrives + 1, progress_at=now))
    return bool(taken.rowcount)  # type: ignore[attr-defined]


def stuck(sessions: sessionmaker[Session], catalog: Catalog, store: FileStore,
          settings: WatchdogSettings) -> list[Outgoing]:
    """Re-drive or fail the submissions that stopped moving; returns the events to publish."""
    now = utcnow()
    out: list[Outgoing] = []
    with sessions.begin() as session:
        idle = _idle(session, now - dt.timedelta(seconds=settings.idle_seconds))
        quiet = dt.timedelta(seconds=settings.idle_seconds if idle else settings.stuck_seconds)
        for submission in not_final_since(session, now - quiet):
            if submission.status == "posting" or waiting_for(session, submission) is not None:
                continue  # being finished above, or the file it waits for is the stuck one
            quiet_for = f"{quiet.total_seconds():.0f} s"
            if submission.redrives >= settings.max_redrives:
                fail(session, submission.id, (
                    f"The file made no progress for {quiet_for} after {submission.redrives} "
                    "attempts to send it through again, so edcs gave up on it. Submit it again; "
                    "if this repeats, the state's operators can see why in its history."))
                WATCHDOG.labels("failed").inc()
                continue
            try:
                event = redrive_event(catalog, store, submission)
            except PermanentError as exc:
                fail(session, submission.id, f"The file made no progress for {quiet_for} and "
                                             f"cannot be sent through again: {exc.reason}. "
                                             f"{exc.advice or ''}".strip())
                WATCHDOG.labels("failed").inc()
                continue
            attempt = submission.redrives + 1
            if _claim_redrive(session, submission, now):
                record_event(session, submission.id, "redriven", (
                    f"No progress for {quiet_for}: sent through again from the stored file "
                    f"(attempt {attempt} of {settings.max_redrives})."))
                out.append(event)
                WATCHDOG.labels("redriven").inc()
                log.warning("re-driving a stuck submission", extra={"submission": submission.id})
    return out


def watch(sessions: sessionmaker[Session], catalog: Catalog, store: FileStore,
          settings: WatchdogSettings, post: Callable[[int], list[Outgoing]],
          finish_large: Callable[[int], list[Outgoing]]) -> list[Outgoing]:
    """One round of the watchdog: post what is ready, finish what is half-posted, re-drive or
    fail what is stuck."""
    with sessions() as session:
        ready = complete_and_free(session)
        large = half_posted(session, utcnow())
    out: list[Outgoing] = []
    for submission_id in ready:
        out += _or_fail(sessions, submission_id, post)
    for submission_id in large:
        out += _or_fail(sessions, submission_id, finish_large)
    return out + stuck(sessions, catalog, store, settings)


def _or_fail(sessions: sessionmaker[Session], submission_id: int,
             action: Callable[[int], list[Outgoing]]) -> list[Outgoing]:
    """Run a posting action; a permanent failure fails the submission instead of recurring on
    every tick (a transient one is raised: the next tick tries again)."""
    try:
        return action(submission_id)
    except Exception as exc:
        if is_transient(exc):
            raise
        with sessions.begin() as session:
            fail(session, submission_id, f"edcs could not post this file ({reason_of(exc)}). "
                                         "The state's operators can replay it once the cause "
                                         "is fixed, or you can submit it again.")
        log.error("posting failed for good: %s", reason_of(exc),
                  extra={"submission": submission_id})
        return [status_event(submission_id, "failed")]
