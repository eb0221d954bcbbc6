"""Signing in: the password check, throttled per account and per client address.

After ``web.login_failures`` failed sign-ins of one account (``web.address_failures`` from one
address) within ``web.login_window_minutes``, sign-in is refused for that long, with the same
message whether the account exists or not (nothing tells which addresses have accounts). A
successful sign-in clears the account's count.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.accounts import check_password
from shared.db.accounts import LoginThrottle, User
from shared.db.models import utcnow
from shared.settings import WebSettings

LOCKED = "Too many failed sign-ins. Wait {minutes} minutes, then try again."
WRONG = "The email address or the password is not right."


def _keys(email: str, address: str) -> list[tuple[str, str]]:
    return [(f"account:{email}", "account"), (f"address:{address}", "address")]


def locked(session: Session, email: str, address: str, now: dt.datetime) -> int | None:
    """Minutes until sign-in is allowed again, or None when it is allowed now."""
    for key, _ in _keys(email, address):
        row = session.get(LoginThrottle, key)
        if row is not None and row.locked_until is not None and row.locked_until > now:
            return max(1, int((row.locked_until - now).total_seconds() // 60) + 1)
    return None


def _failed(session: Session, email: str, address: str, now: dt.datetime,
            limits: WebSettings) -> None:
    window = dt.timedelta(minutes=limits.login_window_minutes)
    for key, kind in _keys(email, address):
        row = session.get(LoginThrottle, key)
        if row is None:
            row = LoginThrottle(key=key, failures=0, window_start=now)
            session.add(row)
        if now - row.window_start > window:
            row.failures, row.window_start, row.locked_until = 0, now, None
        row.failures += 1
        limit = limits.login_failures if kind == "account" else limits.address_failures
        if row.failures >= limit:
            row.locked_until = now + window


def sign_in(session: Session, email: str, password: str, address: str,
            limits: WebSettings) -> User | str:
    """The user whose password this is, or the message to show."""
    email = email.strip().lower()[:254]
    now = utcnow()
    wait = locked(session, email, address, now)
    if wait is not None:
        return LOCKED.format(minutes=wait)
    user = session.scalar(select(User).where(User.email == email))
    if not check_password(user, password[:1024]) or user is None:
        _failed(session, email, address, now, limits)
        wait = locked(session, email, address, now)
        return LOCKED.format(minutes=wait) if wait is not None else WRONG
    row = session.get(LoginThrottle, f"account:{email}")
    if row is not None:
        session.delete(row)
    return user
