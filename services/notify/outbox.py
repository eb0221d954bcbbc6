"""The emails edcs owes: claim one, render it, send it, record what happened.

Every milestone writes its email row as ``pending`` in the transaction that reaches the
milestone (shared.db.lifecycle.owe_email). Notify claims a row with a conditional update (a lease
that another worker may take over only once it has run out), so one email is sent by one worker;
a transient SMTP failure puts the row back with a growing delay (``retry``), so the email is sent
when the relay is back; a permanent one (an address that can never be delivered) marks it
``failed`` and tells the job why.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from services.notify.mailer import SmtpMailer
from services.notify.render import Message, render
from shared.db.issue_counts import totals
from shared.db.lifecycle import record_event
from shared.db.models import Email, Submission, utcnow
from shared.errors import is_transient, reason_of
from shared.metrics import EMAILS
from shared.settings import NotifySettings

log = logging.getLogger(__name__)
LEASE = dt.timedelta(seconds=120)  # longer than any one SMTP conversation (30 s timeout)


def due(session: Session, now: dt.datetime, submission_id: int | None = None,
        limit: int = 50) -> list[int]:
    """Ids of emails that may be sent now, oldest first."""
    query = select(Email.id).where(
        or_(Email.status.in_(("pending", "retry")), Email.status == "sending"),
        Email.next_attempt_at <= now).order_by(Email.id).limit(limit)
    if submission_id is not None:
        query = query.where(Email.submission_id == submission_id)
    return list(session.scalars(query))


def claim(session: Session, email_id: int, now: dt.datetime) -> bool:
    """Take an email for sending; False when another worker has it (or it is done)."""
    taken = session.execute(update(Email).where(
        Email.id == email_id, Email.status.in_(("pending", "retry", "sending")),
        Email.next_attempt_at <= now).values(
        status="sending", next_attempt_at=now + LEASE, attempts=Email.attempts + 1))
    return bool(taken.rowcount)  # type: ignore[attr-defined]


def send_one(sessions: sessionmaker[Session], mailer: SmtpMailer, base_url: str,
             email_id: int, retry: NotifySettings | None = None) -> bool | None:
    """Send one owed email. True sent, False failed for good, None not sent now (taken by
    another worker, or the relay is unavailable: it stays owed)."""
    now = utcnow()
    with sessions.begin() as session:
        if not claim(session, email_id, now):
            return None
        email = session.get(Email, email_id)
        if email is None:
            return None
        if email.submission_id is None:  # written whole when it was owed (a download link)
            message = Message(email.subject, email.body)
            message_id = f"edcs-mail-{email.id}"
        else:
            submission = session.get(Submission, email.submission_id)
            if submission is None:
                return None
            message = render(submission, email.milestone, totals(session, submission.id),
                             base_url)
            email.subject, email.body = message.subject, message.body
            message_id = f"edcs-{submission.id}-{email.milestone}-{email.round}"
        recipient, milestone, attempts = email.recipient, email.milestone, email.attempts
    try:
        mailer.send(recipient, message, message_id)
    except Exception as exc:  # noqa: BLE001 - classified: retried later or failed for good
        reason = reason_of(exc)
        with sessions.begin() as session:
            if is_transient(exc):
                retry = retry or NotifySettings()
                delay = min(retry.retry_max_seconds,
                            retry.retry_first_seconds * 2 ** min(attempts - 1, 16))
                session.execute(update(Email).where(Email.id == email_id).values(
                    status="retry", error=reason,
                    next_attempt_at=utcnow() + dt.timedelta(seconds=delay)))
                log.warning("email %s not sent yet (attempt %s, next in %.0f s): %s",
                            email_id, attempts, delay, reason)
                EMAILS.labels(milestone, "retry").inc()
                return None
            session.execute(update(Email).where(Email.id == email_id).values(
                status="failed", error=reason, next_attempt_at=None))
            email = session.get(Email, email_id)
            if email is not None and email.submission_id is not None:
                record_event(session, email.submission_id, "email-failed",
                             f"The {milestone} email could not be sent: {reason}.")
        log.error("email %s failed for good: %s", email_id, reason)
        EMAILS.labels(milestone, "failed").inc()
        return False
    with sessions.begin() as session:
        session.execute(update(Email).where(Email.id == email_id).values(
            status="sent", sent_at=utcnow(), error=None, next_attempt_at=None))
    EMAILS.labels(milestone, "sent").inc()
    return True


def send_due(sessions: sessionmaker[Session], mailer: SmtpMailer, base_url: str,
             submission_id: int | None = None, retry: NotifySettings | None = None) -> int:
    """Send the emails due now (of one submission, or all); returns how many were sent. Stops
    at the first the relay would not take: the rest wait for the next round."""
    with sessions() as session:
        ids = due(session, utcnow(), submission_id)
    sent = 0
    for email_id in ids:
        outcome = send_one(sessions, mailer, base_url, email_id, retry)
        if outcome:
            sent += 1
        elif outcome is None:
            with sessions() as session:
                status = session.scalar(select(Email.status).where(Email.id == email_id))
            if status == "retry":
                break  # the relay is unavailable: do not hammer it with the rest
    return sent
