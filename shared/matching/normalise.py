"""Comparison keys for SSID matching (design.md §5): names, dates, identifiers, SSN hashes.

A key is what two values are compared by, never what is stored or shown. Every function returns
``""`` for a value that carries nothing to compare (blank, or a name of punctuation only); the
comparisons treat ``""`` as "unknown", so a blank never equals a blank. Keys are memoised and
interned: a registry of a million students holds each distinct name once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import sys
import unicodedata
from functools import cache, lru_cache

# Scripts whose combining marks are letters' vowels or essential signs (Devanagari ... Khmer):
# removing them would conflate different names. Elsewhere (Latin, Greek, Cyrillic, Hebrew
# points, Arabic harakat) marks are accents, compared accent-insensitively.
_KEEP_MARKS = ((0x0900, 0x0DFF), (0x0E00, 0x0EFF), (0x0F00, 0x109F), (0x1780, 0x17FF))
# Apostrophe-like modifier letters (category Lm) that names use as punctuation.
_APOSTROPHES = frozenset("\u02b9\u02bb\u02bc\u02bd\u02be\u02bf")

EARLIEST_BIRTH_YEAR = 1900
"""A birth date before this year is impossible for a student record (treated as a data problem)."""


def _keeps_marks(base: str) -> bool:
    code = ord(base)
    return any(lo <= code <= hi for lo, hi in _KEEP_MARKS)


@cache  # names repeat: a registry of a million has a few hundred thousand distinct ones
def name_key(value: str) -> str:
    """The comparison key of a name: NFKC, case-folded, accents and punctuation removed.

    Hyphens, apostrophes, spaces, periods and other punctuation or symbols are ignored, so
    ``"O'Brien"``, ``"o brien"`` and ``"OBRIEN"`` are one key, as are ``"José"`` and ``"Jose"``.
    Letters of every script are kept; a name of punctuation only is blank.

    Args:
        value: the name as submitted.

    Returns:
        The key, or ``""`` when nothing comparable is left.
    """
    folded = unicodedata.normalize("NFKC", value).casefold()
    if folded.isascii():
        return sys.intern("".join(ch for ch in folded if ch.isalnum()))
    kept: list[str] = []
    base = ""
    for ch in unicodedata.normalize("NFKD", folded):
        category = unicodedata.category(ch)
        if category[0] == "M":
            if base and _keeps_marks(base):
                kept.append(ch)
        elif category[0] in "LN" and ch not in _APOSTROPHES:
            kept.append(ch)
            base = ch
    return sys.intern(unicodedata.normalize("NFC", "".join(kept)))


@lru_cache(maxsize=1 << 18)
def literal_key(value: str) -> str:
    """Appendix E taken literally: trimmed and case-folded, nothing else (for comparison runs)."""
    return sys.intern(value.strip().casefold())


def id_key(value: str) -> str:
    """The key of an identifier: NFKC, trimmed, case-folded, no spaces, leading zeros dropped
    (spreadsheets drop them: ``"00123"`` and ``"123"`` are one id; ``"000"`` is ``"0"``)."""
    if value.isascii():
        key = value.strip().lower()
        if " " in key or "\t" in key:
            key = "".join(key.split())
    else:
        key = "".join(unicodedata.normalize("NFKC", value).casefold().split())
    stripped = key.lstrip("0")
    return stripped if stripped or not key else "0"


@cache  # institution ids and codes: a few hundred distinct values
def code_key(value: str) -> str:
    """:func:`id_key` for codes that repeat (districts), memoised and interned."""
    return sys.intern(id_key(value))


_GENDERS = {"male": "m", "female": "f", "nonbinary": "x"}


@lru_cache(maxsize=64)
def gender_key(value: str) -> str:
    """The key of a gender code (``M``, ``f``, ``Female`` -> ``m``, ``f``, ``f``)."""
    key = code_key(value)
    return _GENDERS.get(key, key)


@lru_cache(maxsize=1 << 16)
def iso_date(value: str) -> str | None:
    """A date written ``YYYY-MM-DD`` as its key ``YYYYMMDD``.

    Returns:
        ``""`` when blank, the key when it is a real calendar date from 1900 on, and None when
        it is not (an impossible date: a data problem, never matched on).
    """
    text = value.strip()
    if not text:
        return ""
    if len(text) != 10 or text[4] != "-" or text[7] != "-":
        return None
    return _date_key(text[0:4], text[5:7], text[8:10])


@lru_cache(maxsize=1 << 16)
def mmddyyyy_date(value: str) -> str | None:
    """A date written ``mmddyyyy`` (ODE files, design.md §2) as its key ``YYYYMMDD``.

    Returns:
        ``""`` when blank, the key for a real calendar date from 1900 on, None otherwise.
    """
    text = value.strip()
    if not text:
        return ""
    if len(text) != 8:
        return None
    return _date_key(text[4:8], text[0:2], text[2:4])


@lru_cache(maxsize=1 << 16)
def ccyymmdd_date(value: str) -> str | None:
    """A date written ``CCYYMMDD`` (CALPADS files) as its key ``YYYYMMDD``.

    Returns:
        ``""`` when blank, the key for a real calendar date from 1900 on, None otherwise.
    """
    text = value.strip()
    if not text:
        return ""
    if len(text) != 8:
        return None
    return _date_key(text[0:4], text[4:6], text[6:8])


def _date_key(year: str, month: str, day: str) -> str | None:
    if not (year + month + day).isascii() or not (year + month + day).isdigit():
        return None
    try:
        date = dt.date(int(year), int(month), int(day))
    except ValueError:
        return None
    if date.year < EARLIEST_BIRTH_YEAR:
        return None
    return sys.intern(f"{year}{month}{day}")


def ssn_digits(value: str) -> str | None:
    """The nine digits of an SSN, ``""`` when blank or a placeholder, None when malformed.

    Dashes and spaces are ignored. Numbers the SSA never issues (area 000, 666 or 900-999,
    group 00, serial 0000: ``000000000`` and ``999999999`` are common "unknown" fillers) count as
    blank, so two students with the filler never match on it.
    """
    digits = value.replace("-", "")
    if not digits.isdigit():  # blank, spaces or junk; "123-45-6789" skips the split
        digits = "".join(digits.split())
        if not digits:
            return ""
    if len(digits) != 9 or not digits.isascii() or not digits.isdigit():
        return None
    if (digits[0] == "9" or digits.startswith(("000", "666")) or digits[3:5] == "00"
            or digits.endswith("0000")):
        return ""
    return digits


def ssn_hash(key: bytes, ssn: str) -> str:
    """The keyed hash an SSN is stored and compared as (HMAC-SHA256, design.md §6).

    Args:
        key: the secret key (from settings in the pipeline; a fixed offline key in ``edcs match``).
        ssn: the nine digits (see :func:`ssn_digits`); ``""`` hashes to ``""``.

    Returns:
        The hexadecimal digest, or ``""`` for a blank SSN.
    """
    if not ssn:
        return ""
    return hmac.new(key, ssn.encode("ascii"), hashlib.sha256).hexdigest()


class SsnHasher:
    """:func:`ssn_hash` for many SSNs with one key: the key's HMAC pads are hashed once.

    HMAC-SHA256 as RFC 2104 defines it (the same digest as :func:`ssn_hash`), about three times
    faster than building an :mod:`hmac` object per SSN, which matters for a million at load.
    """

    def __init__(self, key: bytes) -> None:
        """Prepare the inner and outer hashes of ``key``."""
        block = hashlib.sha256().block_size
        padded = (hashlib.sha256(key).digest() if len(key) > block else key).ljust(block, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in padded))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in padded))

    def __call__(self, ssn: str) -> str:
        """The hexadecimal HMAC of the nine digits, ``""`` for a blank SSN."""
        if not ssn:
            return ""
        inner = self._inner.copy()
        inner.update(ssn.encode("ascii"))
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()
