"""Notify worker: submissions.status -> email, each kept in the emails table (Review Email).

One email per submission and milestone: a replayed status event finds its email already kept
and sends nothing again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from services.notify.mailer import RETRYABLE, SmtpMailer
from services.notify.render import render
from shared.db.issue_counts import totals
from shared.db.models import Email, Submission
from shared.db.session import make_engine, make_session_factory
from shared.events.models import SubmissionStatus
from shared.messaging.runner import Outgoing, Worker
from shared.observability import EMAILS, Health
from shared.settings import Settings

NAME = "notify"
log = logging.getLogger(__name__)


def notify(sessions: sessionmaker[Session], mailer: SmtpMailer, base_url: str,
           event: SubmissionStatus) -> None:
    """Render, send and keep the email of one milestone (once)."""
    with sessions() as session:
        submission = session.get(Submission, event.submission_id)
        if submission is None:
            return
        if session.scalar(select(Email.id).where(Email.submission_id == submission.id,
                                                 Email.milestone == event.milestone)):
            return
        counts = totals(session, submission.id)
        message = render(submission, event.milestone, counts, base_url)
        try:
            mailer.send(submission.submitted_by, message)
            outcome = "sent"
        except RETRYABLE as exc:
            log.error("email for submission %s not sent: %s", submission.id, type(exc).__name__)
            outcome = "failed"
        EMAILS.labels(event.milestone, outcome).inc()
        session.add(Email(submission_id=submission.id, milestone=event.milestone,
                          recipient=submission.submitted_by, subject=message.subject,
                          body=message.body, status=outcome, attempts=1))
        try:
            session.commit()
        except IntegrityError:  # another notify worker kept it first
            session.rollback()


def build_worker(settings: Settings) -> Worker[SubmissionStatus]:
    """The notify stage wired to its topic, store and SMTP server."""
    sessions = make_session_factory(make_engine(settings.database.url))
    mailer = SmtpMailer(settings.smtp)

    def handle(events: Sequence[SubmissionStatus]) -> Iterator[Outgoing]:
        for event in events:
            notify(sessions, mailer, settings.base_url, event)
        return iter(())

    return Worker(name=NAME, topic="submissions.status", group="edcs-notify",
                  decode=SubmissionStatus.model_validate_json, handle=handle, settings=settings,
                  health=Health(NAME))
