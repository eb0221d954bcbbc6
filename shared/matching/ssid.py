"""The SSID: format, check digit (CFS 1.08, design.md §5) and new SSIDs from a sequence.

The one home of the check digit: validation (``services/validate/rules/field.py``) and matching
both import it from here.
"""

from __future__ import annotations

from typing import Protocol

FIRST_BODY = 100_000_000
"""The lowest nine-digit body: an SSID never starts with 0."""
LAST_BODY = 999_999_999


def ssid_check_digit(body: str) -> int:
    """Check digit of the first nine digits of an SSID (CFS 1.08, design.md §5).

    Args:
        body: the first nine digits.

    Returns:
        r = (d1-3 + d4-6 + d7-9) mod 9, or 9 when r equals the ninth digit.
    """
    # 1000 = 1 (mod 9), so d1-3 + d4-6 + d7-9 = the nine digits as one number (mod 9).
    r = int(body[:9]) % 9
    return 9 if r == ord(body[8]) - 48 else r


def ssid_problem(value: str) -> str | None:
    """The issue code for a malformed SSID, or None when it is well formed.

    Args:
        value: the SSID as submitted (not trimmed).

    Returns:
        ``"ssid-format"`` (not 10 ASCII digits, or a leading 0), ``"ssid-check-digit"``, or None.
    """
    if len(value) != 10 or not value.isascii() or not value.isdigit() or value[0] == "0":
        return "ssid-format"
    r = int(value[:9]) % 9  # ssid_check_digit, inlined: a registry has a million SSIDs
    if ord(value[9]) - 48 != (9 if r == ord(value[8]) - 48 else r):
        return "ssid-check-digit"
    return None


def new_ssid(sequence_number: int) -> str:
    """The SSID for one number of the SSID sequence: the number's nine digits and the check digit.

    Args:
        sequence_number: the next value of the sequence, 100000000 to 999999999 (the pipeline
            takes it from a database sequence; ``edcs match`` counts from the registry's highest).

    Returns:
        A 10-digit SSID that passes :func:`ssid_problem`.

    Raises:
        ValueError: the number is outside the nine-digit range (a configuration error).
    """
    if not FIRST_BODY <= sequence_number <= LAST_BODY:
        raise ValueError(f"SSID sequence number {sequence_number} is not 9 digits without a "
                         "leading zero")
    body = str(sequence_number)
    return f"{body}{ssid_check_digit(body)}"


class NewSsids(Protocol):
    """Where new SSIDs come from (an in-memory sequence offline, the store's in the pipeline)."""

    def take(self) -> str:
        """The next new SSID."""


class SsidSequence:
    """Hands out new SSIDs from a starting sequence number, one after the other."""

    def __init__(self, start: int) -> None:
        """Start at ``start`` (the first number handed out)."""
        self._next = start

    @classmethod
    def after(cls, highest_ssid: str | None) -> SsidSequence:
        """A sequence that continues after the highest SSID in use (or from the first body)."""
        return cls(int(highest_ssid[:9]) + 1 if highest_ssid else FIRST_BODY)

    def take(self) -> str:
        """The next new SSID."""
        ssid = new_ssid(self._next)
        self._next += 1
        return ssid
