"""Failures of edcs itself, as opposed to problems in the data (those are ``Issue`` values).

Two kinds matter to a worker (style.md §9.5):

- **transient**: the database is locked or down, the broker or the SMTP server is unreachable.
  The work is retried with bounded, jittered backoff; if the outage outlasts the retry window the
  worker exits and is restarted, and the event is read again. A transient failure never
  dead-letters an event or fails a submission.
- **permanent**: retrying cannot help (a bug meets an unexpected record, an output too large
  for the broker, a submission whose stored file is gone). The event goes to its topic's
  dead-letter twin and its submission is marked failed, with a reason that names what went wrong
  and where, never the values.
"""

from __future__ import annotations

import re
import smtplib
import sqlite3
import traceback
from pathlib import Path

import msgspec
from pydantic import ValidationError

_ROOT = Path(__file__).resolve().parents[1]


class WorkerError(Exception):
    """Base of the failures edcs raises on purpose."""


class TransientError(WorkerError):
    """Worth retrying: something edcs depends on is unavailable for now."""


class PermanentError(WorkerError):
    """Not worth retrying. ``reason`` is safe to store and show: it carries no field values."""

    def __init__(self, reason: str, *, advice: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.advice = advice  # what the submitter can do about it, if anything


class ConfigError(WorkerError):
    """The settings cannot work (a missing or development-only secret in production); the
    process refuses to start and says which setting to fix."""


class StageUnavailableError(WorkerError):
    """Transient failures outlasted the retry window: the worker stops and is restarted."""


def _kafka_retriable(exc: BaseException) -> bool | None:
    """aiokafka and kafka-python errors say themselves whether a retry can help."""
    module = type(exc).__module__
    if module.startswith(("aiokafka", "kafka")):
        return bool(getattr(exc, "retriable", False)) or type(exc).__name__ in (
            "KafkaConnectionError", "NodeNotReadyError", "KafkaTimeoutError",
            "NoBrokersAvailable", "ProducerClosed")
    return None


def _smtp_transient(exc: BaseException) -> bool | None:
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500  # 4xx: try again later; 5xx: never
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPServerDisconnected | smtplib.SMTPConnectError):
        return True
    return None


def _database_transient(exc: BaseException) -> bool:
    """A SQLAlchemy error that says the database is unavailable for now. SQLAlchemy is imported
    here, not with this module: only a process that uses it can raise its errors, and commands
    such as ``edcs validate`` start ~0.4 s sooner without it."""
    from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeoutError

    if isinstance(exc, OperationalError | DisconnectionError | PoolTimeoutError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def is_transient(exc: BaseException) -> bool:
    """Whether retrying the same work later can succeed."""
    if isinstance(exc, TransientError):
        return True
    if isinstance(exc, PermanentError | ValidationError):
        return False
    kafka = _kafka_retriable(exc)
    if kafka is not None:
        return kafka
    smtp = _smtp_transient(exc)
    if smtp is not None:
        return smtp
    if type(exc).__module__.startswith("sqlalchemy") and _database_transient(exc):
        return True
    if isinstance(exc, sqlite3.OperationalError):
        return True
    return isinstance(exc, ConnectionError | TimeoutError | OSError) and not isinstance(
        exc, FileNotFoundError | PermissionError | IsADirectoryError)


def where(exc: BaseException) -> str:
    """The innermost frame of edcs's own code that the exception passed through."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if f.filename.startswith(str(_ROOT))
            and "/.venv/" not in f.filename and "site-packages" not in f.filename]
    if not (ours or frames):
        return "unknown place"
    frame = (ours or frames)[-1]
    name = Path(frame.filename)
    shown = name.relative_to(_ROOT) if name.is_relative_to(_ROOT) else name.name
    return f"{shown}:{frame.lineno} in {frame.name}"


def reason_of(exc: BaseException) -> str:
    """Why work failed, safe to store, log and show: our own reason, a schema error's locations,
    or the exception's type and where it was raised. Exception messages are never used: they
    can quote the data (a ValueError naming the value it could not read)."""
    if isinstance(exc, PermanentError):
        return exc.reason
    if isinstance(exc, ValidationError):
        parts = [f"{'.'.join(str(p) for p in e['loc'])}: {e['type']}"
                 for e in exc.errors(include_input=False, include_url=False)[:5]]
        return f"schema: {'; '.join(parts)}"
    if isinstance(exc, msgspec.ValidationError):  # its message can quote a value: the path only
        path = re.search(r"at `(\$[^`]*)`", str(exc))
        return f"schema: does not match at {path.group(1) if path else '$'}"
    if isinstance(exc, msgspec.DecodeError):
        return "schema: not valid JSON"
    return f"{type(exc).__name__} at {where(exc)}"
