"""Tables of who may do what: users, their roles, API tokens, web sessions, sign-in throttling,
and the background downloads a user asked for.

Every user and every token belongs to one institution and acts for it and for the institutions
it administers (design.md §6; shared.institutions). Secrets are never stored: passwords as
argon2 hashes, tokens and session ids as SHA-256 digests of high-entropy random values.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shared.db.models import Base, utcnow


class User(Base):
    """A person who signs in to the web pages (or uses the API through a web session)."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # lower-cased
    name: Mapped[str] = mapped_column(String(200), default="")
    institution_id: Mapped[str] = mapped_column(ForeignKey("institutions.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(254))


class UserRole(Base):
    """One role of a user, for the user's institution and those it administers."""

    __tablename__ = "user_roles"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), primary_key=True)
    granted_by: Mapped[str | None] = mapped_column(String(254))
    granted_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ApiToken(Base):
    """A bearer token of an institution (a vendor's server, Oregon "Type A"; the CLI)."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[str] = mapped_column(ForeignKey("institutions.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    digest: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 of the secret
    roles: Mapped[str] = mapped_column(String(200))  # comma-separated
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(254))
    last_used_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]


class WebSession(Base):
    """A signed-in browser: the cookie holds a random secret, the store its digest."""

    __tablename__ = "web_sessions"
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class LoginThrottle(Base):
    """Failed sign-ins per account and per client address, in a sliding window."""

    __tablename__ = "login_throttle"
    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    window_start: Mapped[dt.datetime] = mapped_column(default=utcnow)
    locked_until: Mapped[dt.datetime | None]


class Download(Base):
    """A Production Download or Download Errors file built in the background."""

    __tablename__ = "downloads"
    __table_args__ = (Index("ix_downloads_user", "user_id", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    secret: Mapped[str] = mapped_column(String(64), unique=True)  # in the emailed link
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    institution_id: Mapped[str] = mapped_column(ForeignKey("institutions.id"))
    kind: Mapped[str] = mapped_column(String(20))  # records, errors
    collection: Mapped[str] = mapped_column(String(20))
    fmt: Mapped[str] = mapped_column(String(5))
    request: Mapped[str] = mapped_column(Text)  # the search, as JSON
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending, ready, failed
    records: Mapped[int] = mapped_column(default=0)
    filename: Mapped[str] = mapped_column(String(255), default="")
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None]
