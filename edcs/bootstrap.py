"""What ``edcs up`` prepares in the store and the data dir before the web app starts.

- The institution hierarchy, from ``Settings.institutions_file`` or the small fictional set
  shipped with edcs (shared/reference/institutions.csv), which holds the demo institutions.
- The CDS directory, from ``Settings.directory_file`` or the fictional set shipped with edcs
  (shared/reference/directory.csv); ``edcs reference load`` loads more while edcs runs.
- The keys of the SSN hash and of session cookies (``hmac.key``, ``session.key``, mode 0600),
  generated once.
- A first state operator, ``operator@state.example``: its password is generated once and kept in
  ``operator-password`` (mode 0600), for signing in to the pages.
- An operator API token in ``operator-token`` (mode 0600): the ``edcs`` command on the same
  machine finds it there, as it finds the stack in ``stack.json``, so every command works with
  no flag or credential (design.md §8). A token that is missing or was revoked is replaced.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared import directory
from shared.accounts import OPERATOR, add_user, find_token, issue_token
from shared.db.accounts import User
from shared.institutions import DEFAULT_FILE, load, read_file
from shared.privacy import key_file
from shared.settings import Settings

OPERATOR_EMAIL = "operator@state.example"
STATE = "0000000"
PASSWORD_FILE = "operator-password"  # noqa: S105 - a file name
TOKEN_FILE = "operator-token"  # noqa: S105 - a file name


@dataclass(frozen=True)
class SignIn:
    """How the first operator signs in."""

    email: str
    password_file: Path
    token_file: Path


def write_secret(path: Path, value: str) -> None:
    """Write a secret readable by its owner only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value + "\n")
    path.chmod(0o600)


def secret_env(data_dir: Path, env: dict[str, str]) -> dict[str, str]:
    """The key settings the stack's children get (generated into the data dir once)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    found = {}
    for name, file in (("EDCS_HMAC_KEY", "hmac.key"), ("EDCS_SESSION_KEY", "session.key")):
        if not env.get(name):
            found[name] = key_file(data_dir / file)
    return found


def institutions(session: Session, settings: Settings) -> tuple[int, int]:
    """Load the institution hierarchy; returns (added, updated)."""
    return load(session, read_file(settings.institutions_file or DEFAULT_FILE))


def cds_directory(session: Session, settings: Settings) -> tuple[int, int]:
    """Load the CDS directory; returns (added, updated)."""
    entries = directory.read_file(settings.directory_file or directory.DEFAULT_FILE)
    return directory.load(session, entries)


def first_operator(session: Session, data_dir: Path) -> SignIn:
    """The first operator and its token, created when missing."""
    password_file, token_file = data_dir / PASSWORD_FILE, data_dir / TOKEN_FILE
    user = session.scalar(select(User).where(User.email == OPERATOR_EMAIL))
    if user is None:
        _, password = add_user(session, OPERATOR_EMAIL, STATE, frozenset({OPERATOR}), None,
                               name="State operator (created by edcs up)")
        write_secret(password_file, password)
    token = token_file.read_text().strip() if token_file.exists() else ""
    if not token or find_token(session, token) is None:
        _, secret = issue_token(session, STATE, "edcs command on the machine of edcs up",
                                frozenset({OPERATOR}), None)
        write_secret(token_file, secret)
    return SignIn(OPERATOR_EMAIL, password_file, token_file)
