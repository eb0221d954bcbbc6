"""Users, roles and API tokens: who acts, for which institutions, allowed to do what.

Roles (each for the user's institution and the institutions it administers):
  - ``submitter``: uploads files, fixes held records, deletes them (Housekeeping), edits
    posted records (Record Maintenance); sees what a reviewer sees.
  - ``reviewer``: sees the queue, jobs, errors, emails, students and their history, downloads.
  - ``security-admin``: the institution security administrator: adds users of the institution
    (or of institutions it administers), grants and revokes their roles, issues and revokes
    the institution's API tokens. Cannot grant ``operator``.
  - ``operator``: state staff: everything, for every institution, and the operator's actions
    (replay, dead letters, failing a job). Only a user of the state institution holds it.

Passwords are hashed with argon2 (argon2-cffi); tokens are 256-bit random secrets kept as their
SHA-256 digest (a slow hash adds nothing to a secret that cannot be guessed).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from shared.db.accounts import ApiToken, User, UserRole, WebSession
from shared.db.models import Institution, utcnow
from shared.institutions import administered, is_root
from shared.intake import email_problem

SUBMITTER, REVIEWER, SECURITY_ADMIN, OPERATOR = ("submitter", "reviewer", "security-admin",
                                                 "operator")
ROLES = (SUBMITTER, REVIEWER, SECURITY_ADMIN, OPERATOR)
TOKEN_PREFIX = "edcs_"  # noqa: S105 - a prefix, not a secret
MIN_PASSWORD = 12
_hasher = PasswordHasher()
# Verified against when the account does not exist, so an unknown address takes as long.
_DUMMY = _hasher.hash("not a password of anyone")


class AccountError(ValueError):
    """A request about accounts that cannot be done; the message says why. ``status`` is 403
    for what the asker has no right to do, 422 for what cannot be done at all."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Principal:
    """Who is acting: a signed-in user or an API token, and for which institutions."""

    kind: str  # "user" or "token"
    id: int
    label: str  # the user's email, or the token's name
    institution_id: str
    roles: frozenset[str]
    scope: frozenset[str] | None  # institutions acted for; None: every one (the state)

    def covers(self, institution_id: str | None) -> bool:
        """Whether the principal acts for this institution."""
        return institution_id is not None and (self.scope is None
                                               or institution_id in self.scope)

    def may(self, action: str) -> bool:
        """view, submit, administer or operate."""
        if OPERATOR in self.roles:
            return True
        wanted = {"view": set(ROLES), "submit": {SUBMITTER},
                  "administer": {SECURITY_ADMIN}, "operate": set()}[action]
        return bool(self.roles & wanted)


def scope_of(session: Session, institution_id: str) -> frozenset[str] | None:
    """The institutions a member of this one acts for (None: all of them)."""
    return None if is_root(session, institution_id) else administered(session, institution_id)


def hash_password(password: str) -> str:
    """An argon2id hash of the password."""
    return _hasher.hash(password)


def password_problem(password: str) -> str | None:
    """Why a password cannot be used, or None."""
    if len(password) < MIN_PASSWORD:
        return f"a password needs at least {MIN_PASSWORD} characters"
    if len(password) > 1024:
        return "a password has at most 1024 characters"
    return None


def check_password(user: User | None, password: str) -> bool:
    """Whether the password is the user's (constant work when there is no such user)."""
    try:
        return _hasher.verify(user.password_hash if user is not None else _DUMMY,
                              password) and user is not None and user.active
    except (VerificationError, InvalidHashError):
        return False


def roles_of(session: Session, user_id: int) -> frozenset[str]:
    """The user's roles."""
    return frozenset(session.scalars(select(UserRole.role).where(UserRole.user_id == user_id)))


def user_principal(session: Session, user: User) -> Principal:
    """The principal of a signed-in user."""
    return Principal("user", user.id, user.email, user.institution_id,
                     roles_of(session, user.id), scope_of(session, user.institution_id))


def token_principal(session: Session, token: ApiToken) -> Principal:
    """The principal of an API token."""
    roles = frozenset(r for r in token.roles.split(",") if r)
    return Principal("token", token.id, token.name, token.institution_id, roles,
                     scope_of(session, token.institution_id))


def _check_grant(session: Session, by: Principal | None, institution_id: str,
                 roles: frozenset[str]) -> None:
    unknown = roles - set(ROLES)
    if unknown:
        raise AccountError(f"no role {', '.join(sorted(unknown))}; roles are "
                           f"{', '.join(ROLES)}")
    institution = session.get(Institution, institution_id)
    if institution is None:
        raise AccountError(f"Institution '{institution_id}' is not known to edcs.")
    if OPERATOR in roles and not is_root(session, institution_id):
        raise AccountError("only a user of the state institution can be an operator", 403)
    if by is None:
        return  # edcs up, on the machine of the store
    if not by.may("administer") or not by.covers(institution_id):
        raise AccountError(f"you cannot manage the users of institution {institution_id}",
                           403)
    if OPERATOR in roles and OPERATOR not in by.roles:
        raise AccountError("only an operator can grant the operator role", 403)


def add_user(session: Session, email: str, institution_id: str, roles: frozenset[str],
             by: Principal | None, name: str = "", password: str | None = None
             ) -> tuple[User, str]:
    """A new user; returns it and its password (generated when none is given)."""
    email = email.strip().lower()
    problem = email_problem(email)
    if problem:
        raise AccountError(f"The email address is not valid: {problem}.")
    _check_grant(session, by, institution_id, roles)
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise AccountError(f"a user {email} exists already")
    password = password or secrets.token_urlsafe(18)
    problem = password_problem(password)
    if problem:
        raise AccountError(problem)
    user = User(email=email, name=name.strip()[:200], institution_id=institution_id,
                password_hash=hash_password(password), created_by=by.label if by else "edcs")
    session.add(user)
    session.flush()
    for role in sorted(roles):
        session.add(UserRole(user_id=user.id, role=role, granted_by=user.created_by))
    return user, password


def grant(session: Session, user: User, add: frozenset[str], remove: frozenset[str],
          by: Principal | None) -> frozenset[str]:
    """Change a user's roles; returns the roles now held."""
    _check_grant(session, by, user.institution_id, add | remove)
    held = roles_of(session, user.id)
    for role in sorted(add - held):
        session.add(UserRole(user_id=user.id, role=role, granted_by=by.label if by else "edcs"))
    if remove:
        session.execute(delete(UserRole).where(UserRole.user_id == user.id,
                                               UserRole.role.in_(remove)))
    session.flush()
    return roles_of(session, user.id)


def set_active(session: Session, user: User, active: bool, by: Principal | None) -> None:
    """Let a user sign in again, or not any more (their sessions end at once)."""
    _check_grant(session, by, user.institution_id, frozenset())
    user.active = active
    if not active:
        session.execute(delete(WebSession).where(WebSession.user_id == user.id))


def set_password(session: Session, user: User, password: str) -> None:
    """A new password; every session of the user ends."""
    problem = password_problem(password)
    if problem:
        raise AccountError(problem)
    user.password_hash = hash_password(password)
    session.execute(delete(WebSession).where(WebSession.user_id == user.id))


def digest(secret: str) -> str:
    """The stored form of a token or session secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_token(session: Session, institution_id: str, name: str, roles: frozenset[str],
                by: Principal | None) -> tuple[ApiToken, str]:
    """A new API token of the institution; returns it and its secret (shown once)."""
    _check_grant(session, by, institution_id, roles)
    if not roles:
        raise AccountError("a token needs at least one role")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(institution_id=institution_id, name=name.strip()[:200] or "token",
                     digest=digest(secret), roles=",".join(sorted(roles)),
                     created_by=by.label if by else "edcs")
    session.add(token)
    session.flush()
    return token, secret


def find_token(session: Session, secret: str) -> ApiToken | None:
    """The live token with this secret, or None (unknown or revoked)."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    token = session.scalar(select(ApiToken).where(ApiToken.digest == digest(secret)))
    if token is None or token.revoked_at is not None:
        return None
    return token


def revoke_token(session: Session, token: ApiToken, by: Principal | None) -> None:
    """A token that no longer works, from its next request on."""
    _check_grant(session, by, token.institution_id, frozenset())
    if token.revoked_at is None:
        token.revoked_at = utcnow()
