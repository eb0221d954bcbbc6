"""Keyed hashes of secret identifiers (SSNs), and the keys edcs keeps (design.md §6).

A field marked ``hashed: true`` in its layout (ODE-SSID ``ssn``) is stored only as
``hmac-sha256:<64 hex digits>``: HMAC-SHA256 of the value without spaces and hyphens, under
``Settings.hmac_key``. Equal SSNs give equal hashes, so records can still be compared (SSID
matching compares SSNs through ``Hasher.ssn``), while nobody without the key can turn a hash
back into the SSN, even by trying every one of the 10^9 possible numbers.

The hash is computed in the validate stage, right after the field's own checks ran on the clear
value (services.validate.worker), so staged, posted, held and history rows, exports and pages
only ever see the hash. An upload (or a fix) that carries a value already in the hashed form
keeps it as it is: an export can be edited and uploaded again without knowing the SSNs.

Keys: on the embedded default (SQLite), a key that is not set is generated once into the data
dir (``hmac.key``, ``session.key``, mode 0600). Where the store is not SQLite (a deployment),
each key must be set (``EDCS_HMAC_KEY``, ``EDCS_SESSION_KEY``), at least 32 characters, and
never the development value edcs once shipped.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Sequence
from pathlib import Path

from pydantic import SecretStr

from shared.errors import ConfigError
from shared.matching.normalise import ssn_digits
from shared.settings import Settings

HASH_PREFIX = "hmac-sha256:"
_HASHED = re.compile(r"hmac-sha256:[0-9a-f]{64}")
_IGNORED = re.compile(r"[\s-]+")
DEV_KEY = "dev-only-change-me"
MIN_KEY = 32


def is_hashed(value: str) -> bool:
    """Whether the value is already in the stored (hashed) form."""
    return _HASHED.fullmatch(value) is not None


class Hasher:
    """HMAC-SHA256 under one key."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def ssn(self, value: str) -> str:
        """The stored form of an SSN: blank stays blank, a hash stays as it is."""
        value = value.strip()
        if not value or is_hashed(value):
            return value
        normalized = _IGNORED.sub("", value)
        if ssn_digits(normalized) == "":  # a filler the SSA never issues: as good as blank
            return ""
        digest = hmac.new(self._key, normalized.encode(), hashlib.sha256).hexdigest()
        return HASH_PREFIX + digest

    def protect(self, fields: Sequence[str], hashed: Sequence[int],
                failed: Sequence[int] = ()) -> list[str]:
        """A record's fields with the hashed ones hashed; a value that failed its own checks
        is dropped (blank): a wrong SSN is worth nothing to compare and must not be kept."""
        out = list(fields)
        for index in hashed:
            out[index] = "" if index in failed else self.ssn(out[index])
        return out


def key_file(path: Path) -> str:
    """The key kept in ``path``, generated (mode 0600) the first time."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_hex(32) + "\n")
    return path.read_text().strip()


def _key(settings: Settings, value: SecretStr | None, name: str) -> bytes:
    env = f"EDCS_{name.upper()}"
    if value is not None:
        secret = value.get_secret_value()
        if settings.production_like and (secret == DEV_KEY or len(secret) < MIN_KEY):
            raise ConfigError(f"{env} is a development value or shorter than {MIN_KEY} "
                              "characters; set a random key of its own for this deployment "
                              "(e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`)")
        return secret.encode()
    if settings.production_like:
        raise ConfigError(f"{env} is not set; a deployment needs a random key of at least "
                          f"{MIN_KEY} characters, the same for every process")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return key_file(settings.data_dir / f"{name.replace('_', '.')}").encode()


def hmac_key(settings: Settings) -> bytes:
    """The key of the SSN hash."""
    return _key(settings, settings.hmac_key, "hmac_key")


def session_key(settings: Settings) -> bytes:
    """The key that signs session cookies and CSRF tokens."""
    return _key(settings, settings.session_key, "session_key")


def hasher(settings: Settings) -> Hasher:
    """The SSN hasher of these settings."""
    return Hasher(hmac_key(settings))
