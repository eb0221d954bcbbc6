"""Emails on a real SMTP server (aiosmtpd): one per milestone, retried until the relay takes it,
never sent twice by two notify workers, and an undeliverable address fails only its email."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from edcs.mailsink import start as start_sink
from edcs.stack import free_port
from services.notify.mailer import SmtpMailer
from services.notify.outbox import send_due
from shared.db.lifecycle import owe_email
from shared.db.migrate import upgrade
from shared.db.models import Email, Institution, Submission, SubmissionEvent, utcnow
from shared.db.session import make_engine, make_session_factory
from shared.settings import SmtpSettings

pytestmark = pytest.mark.integration


@pytest.fixture
def store(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    upgrade(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    with sessions.begin() as session:
        session.add(Institution(id="1964733", name="Demo", contact_email="c@example.org"))
    yield sessions
    engine.dispose()


def posted(sessions: sessionmaker[Session], recipient: str = "coordinator@example.org") -> int:
    with sessions.begin() as session:
        submission = Submission(collection="SENR", institution_id="1964733", filename="f.csv",
                                submitted_by=recipient, status="posted", records=3, posted=3)
        session.add(submission)
        session.flush()
        owe_email(session, submission.id, "processed")
        return submission.id


def kept(folder: Path) -> list[email.message.EmailMessage]:
    return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)  # type: ignore[misc]
            for p in sorted(folder.glob("*.eml"))]


def statuses(sessions: sessionmaker[Session]) -> dict[int, str]:
    with sessions() as session:
        return dict(session.execute(select(Email.submission_id, Email.status)).all())


def test_an_owed_email_is_sent_once(store: sessionmaker[Session], tmp_path: Path) -> None:
    port = free_port()
    sink = start_sink(tmp_path / "mail", port)
    try:
        sid = posted(store)
        mailer = SmtpMailer(SmtpSettings(host="127.0.0.1", port=port))
        assert send_due(store, mailer, "http://edcs.example") == 1
        assert send_due(store, mailer, "http://edcs.example") == 0
    finally:
        sink.stop()
    mails = kept(tmp_path / "mail")
    assert len(mails) == 1
    assert f"submission {sid} posted: 3 of 3" in str(mails[0]["Subject"])
    assert statuses(store) == {sid: "sent"}


def test_an_email_waits_for_the_relay_and_is_sent_when_it_is_back(
        store: sessionmaker[Session], tmp_path: Path) -> None:
    port = free_port()  # nothing listens yet: the relay is down
    sid = posted(store)
    mailer = SmtpMailer(SmtpSettings(host="127.0.0.1", port=port))
    for _ in range(3):
        assert send_due(store, mailer, "http://edcs.example") == 0
        with store.begin() as session:  # as if the retry delay had passed
            session.execute(update(Email).values(next_attempt_at=utcnow()))
    with store() as session:
        waiting = session.scalars(select(Email)).one()
    assert (waiting.status, waiting.attempts) == ("retry", 3)
    assert waiting.error and "ConnectionRefusedError" in waiting.error
    sink = start_sink(tmp_path / "mail", port)
    try:
        assert send_due(store, mailer, "http://edcs.example") == 1
        assert send_due(store, mailer, "http://edcs.example") == 0
    finally:
        sink.stop()
    assert len(kept(tmp_path / "mail")) == 1
    assert statuses(store) == {sid: "sent"}


def test_a_retry_waits_its_delay(store: sessionmaker[Session]) -> None:
    posted(store)
    mailer = SmtpMailer(SmtpSettings(host="127.0.0.1", port=free_port()))
    send_due(store, mailer, "http://edcs.example")
    with store() as session:
        waiting = session.scalars(select(Email)).one()
    assert waiting.next_attempt_at is not None
    assert waiting.next_attempt_at > utcnow() + dt.timedelta(seconds=2)


def test_an_undeliverable_address_fails_its_email_and_the_job_says_so(
        store: sessionmaker[Session], tmp_path: Path) -> None:
    port = free_port()
    sink = start_sink(tmp_path / "mail", port)
    try:
        bad = posted(store, "coordinator@example.org\r\nBcc: everyone@example.org")
        good = posted(store)
        mailer = SmtpMailer(SmtpSettings(host="127.0.0.1", port=port))
        assert send_due(store, mailer, "http://edcs.example") == 1
    finally:
        sink.stop()
    assert statuses(store) == {bad: "failed", good: "sent"}
    with store() as session:
        said = session.scalars(select(SubmissionEvent).where(
            SubmissionEvent.submission_id == bad)).one()
    assert said.kind == "email-failed" and "not valid" in said.message
    assert [str(m["To"]) for m in kept(tmp_path / "mail")] == ["coordinator@example.org"]


def test_two_notify_workers_never_send_the_same_email(store: sessionmaker[Session],
                                                      tmp_path: Path) -> None:
    port = free_port()
    sink = start_sink(tmp_path / "mail", port)
    try:
        ids = [posted(store) for _ in range(30)]
        mailer = SmtpMailer(SmtpSettings(host="127.0.0.1", port=port))
        counts: list[int] = []
        workers = [threading.Thread(target=lambda: counts.append(
            send_due(store, mailer, "http://edcs.example"))) for _ in range(2)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
    finally:
        sink.stop()
    assert sum(counts) == 30
    message_ids = [str(m["Message-ID"]) for m in kept(tmp_path / "mail")]
    assert len(message_ids) == 30 == len(set(message_ids))
    assert set(statuses(store)) == set(ids)
