"""Send an email through SMTP with bounded retries (tenacity)."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

from services.notify.render import Message
from shared.settings import SmtpSettings

RETRYABLE = (smtplib.SMTPException, OSError)


class SmtpMailer:
    """An SMTP client for the embedded sink or a real relay."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    @retry(stop=stop_after_attempt(5), wait=wait_exponential_jitter(initial=0.5, max=10),
           retry=retry_if_exception_type(RETRYABLE), reraise=True)
    def send(self, recipient: str, message: Message) -> None:
        """Deliver one message; raises after the last attempt fails."""
        mail = EmailMessage()
        mail["From"] = self.settings.sender
        mail["To"] = recipient
        mail["Subject"] = message.subject
        mail.set_content(message.body)
        s = self.settings
        with smtplib.SMTP(s.host, s.port, timeout=30) as smtp:
            if s.starttls:
                smtp.starttls()
            if s.username and s.password:
                smtp.login(s.username, s.password.get_secret_value())
            smtp.send_message(mail)
