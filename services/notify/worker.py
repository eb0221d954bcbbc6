"""Notify worker: submissions.status -> email, each kept in the emails table (Review Email).

A status event wakes notify to send the submission's owed emails at once; its periodic work sends
whatever is still owed (an email whose event was lost, or that waits for the relay to come back).
Each email is sent once per milestone (services.notify.outbox).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from services.notify.mailer import SmtpMailer
from services.notify.outbox import send_due
from shared.db.session import make_engine, make_session_factory
from shared.events.models import SubmissionStatus
from shared.events.topics import Topic
from shared.messaging.runner import Outgoing, Worker
from shared.observability import Health
from shared.settings import Settings

NAME = "notify"


def build_worker(settings: Settings) -> Worker[SubmissionStatus]:
    """The notify stage wired to its topic, store and SMTP server."""
    sessions = make_session_factory(make_engine(settings.database.url))
    mailer = SmtpMailer(settings.smtp)

    def handle(events: Sequence[SubmissionStatus]) -> Iterator[Outgoing]:
        for submission_id in dict.fromkeys(e.submission_id for e in events):
            send_due(sessions, mailer, settings.base_url, submission_id, settings.notify)
        return iter(())

    def tick() -> Iterator[Outgoing]:
        send_due(sessions, mailer, settings.base_url, retry=settings.notify)
        return iter(())

    return Worker(name=NAME, topic=Topic.SUBMISSIONS_STATUS,
                  decode=SubmissionStatus.model_validate_json, handle=handle, tick=tick,
                  settings=settings, health=Health(NAME),
                  submission_of=lambda e: e.submission_id, fails_submissions=False)
