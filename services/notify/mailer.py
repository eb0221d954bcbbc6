"""Send one email through SMTP: the embedded sink or a real relay.

One attempt per call: retries are the email row's (services.notify.outbox), so a relay that is
down for an hour delays emails, never loses them, and never holds the worker.
"""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from services.notify.render import Message
from shared.errors import PermanentError
from shared.intake import email_problem
from shared.settings import SmtpSettings


def checked_address(address: str) -> str:
    """An address fit for a To: header; PermanentError for one that could never be delivered
    (addresses are checked at upload too; this guards rows written before that check)."""
    problem = email_problem(address)
    if problem is not None:
        raise PermanentError(f"the submitter's email address is not valid: {problem}")
    return address


class SmtpMailer:
    """An SMTP client for the embedded sink or a real relay."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    def send(self, recipient: str, message: Message, message_id: str) -> None:
        """Deliver one message; raises what SMTP raised (shared.errors classifies it)."""
        mail = EmailMessage()
        mail["From"] = self.settings.sender
        mail["To"] = checked_address(recipient)
        mail["Subject"] = message.subject
        # The same id on every attempt of one email, so a relay or reader can tell a resend.
        mail["Message-ID"] = f"<{message_id}@edcs.invalid>"
        mail.set_content(message.body)
        s = self.settings
        with smtplib.SMTP(s.host, s.port, timeout=30) as smtp:
            if s.starttls:
                smtp.starttls()
            if s.username and s.password:
                smtp.login(s.username, s.password.get_secret_value())
            smtp.send_message(mail)
