"""The comparisons a matching level can name: the closed vocabulary of ``matching.yaml``.

Each field of :class:`~shared.matching.person.Person` compares exactly (its key equals the
candidate's, and is not blank unless the ruleset says blanks match). The ``similar_*`` and
``swapped_names`` comparisons are edcs's near misses (design.md §5), used only by suggested
levels. A :class:`Comparer` turns one (probe, candidate) pair into a bit mask of the
comparisons that hold, which the levels test with masks (``shared/matching/levels.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import Enum, StrEnum

from rapidfuzz.distance import DamerauLevenshtein

from shared.matching.nicknames import Nicknames
from shared.matching.person import FIELDS, Person


class Compare(StrEnum):
    """A comparison between a submitted record and a registry identity."""

    SSID = "ssid"
    LEGAL_LAST = "legal_last"
    LEGAL_FIRST = "legal_first"
    PREFERRED_LAST = "preferred_last"
    PREFERRED_FIRST = "preferred_first"
    DOB = "dob"
    GENDER = "gender"
    SSN = "ssn"
    RESIDENT_DISTRICT = "resident_district"
    DISTRICT_STUDENT_ID = "district_student_id"
    SIMILAR_LAST = "similar_last"  # any last name of one near any of the other's
    SIMILAR_FIRST = "similar_first"  # the same for first names, nicknames and initials included
    SWAPPED_NAMES = "swapped_names"  # last and first names entered the other way round
    SIMILAR_DOB = "similar_dob"  # equal, day and month swapped, one digit wrong or two swapped
    SIMILAR_SSID = "similar_ssid"  # one digit wrong or two neighbours swapped


def one_typo(a: str, b: str) -> bool:
    """Whether two equally long keys differ in one character or in two neighbours swapped."""
    if len(a) != len(b):
        return False
    diffs = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    if len(diffs) <= 1:
        return True
    i, j = diffs[0], diffs[-1]
    return len(diffs) == 2 and j == i + 1 and a[i] == b[j] and a[j] == b[i]


def similar_dob(a: str, b: str) -> bool:
    """Whether two ``YYYYMMDD`` keys are one birth date typed with one slip."""
    if not a or not b:
        return False
    if a == b or one_typo(a, b):
        return True
    return a[:4] == b[:4] and a[4:6] == b[6:8] and a[6:8] == b[4:6]


def similar_name(a: str, b: str) -> bool:
    """Whether two name keys are near: equal, one typo (two when 8+ letters), or one contains
    the other at its start or end (hyphenated surnames: ``garcialopez`` and ``lopez``)."""
    if not a or not b:
        return False
    if a == b:
        return True
    short = min(len(a), len(b))
    if short < 3:
        return False
    if a.startswith(b) or b.startswith(a) or a.endswith(b) or b.endswith(a):
        return True
    allowed = 2 if short >= 8 else 1
    if abs(len(a) - len(b)) > allowed:
        return False
    return DamerauLevenshtein.distance(a, b, score_cutoff=allowed) <= allowed


class FirstNames(Enum):
    """How the first names of a record and an identity compare (the hard-match check)."""

    SAME = "same"  # equal, nicknames of one another, or one is the other's initial
    NEAR = "near"  # one typo apart: the same child mistyped, or a twin with a near name
    DIFFERENT = "different"  # names of two children
    UNKNOWN = "unknown"  # one side has no first name


def _distinct(a: str, b: str) -> tuple[str, ...]:
    if not b or b == a:
        return (a,) if a else ()
    return (a, b) if a else (b,)


def lasts(p: Person) -> tuple[str, ...]:
    """The distinct non-blank last-name keys (legal, then preferred) of a person."""
    return _distinct(p.legal_last, p.preferred_last)


def firsts(p: Person) -> tuple[str, ...]:
    """The distinct non-blank first-name keys (legal, then preferred) of a person."""
    return _distinct(p.legal_first, p.preferred_first)


def first_names(p: Person, c: Person, nicknames: Nicknames) -> FirstNames:
    """Compare every first name of one with every first name of the other; the best holds."""
    mine, theirs = firsts(p), firsts(c)
    if not mine or not theirs:
        return FirstNames.UNKNOWN
    near = False
    for a in mine:
        for b in theirs:
            if a == b or nicknames.equivalent(a, b) or (
                    (len(a) == 1 or len(b) == 1) and a[0] == b[0]):
                return FirstNames.SAME
            near = near or similar_name(a, b)
    return FirstNames.NEAR if near else FirstNames.DIFFERENT


Check = Callable[[Person, Person], bool]


def _similar_checks(nicknames: Nicknames) -> dict[Compare, Check]:
    def any_near(xs: tuple[str, ...], ys: tuple[str, ...], first: bool) -> bool:
        return any(similar_name(x, y) or (first and nicknames.equivalent(x, y))
                   for x in xs for y in ys)

    return {
        Compare.SIMILAR_LAST: lambda p, c: any_near(lasts(p), lasts(c), first=False),
        Compare.SIMILAR_FIRST: lambda p, c: first_names(p, c, nicknames) in (
            FirstNames.SAME, FirstNames.NEAR),
        Compare.SWAPPED_NAMES: lambda p, c: (any_near(lasts(p), firsts(c), first=False)
                                             and any_near(firsts(p), lasts(c), first=False)),
        Compare.SIMILAR_DOB: lambda p, c: similar_dob(p.dob, c.dob),
        Compare.SIMILAR_SSID: lambda p, c: bool(p.ssid and c.ssid) and one_typo(p.ssid, c.ssid),
    }


class Comparer:
    """Evaluates a chosen set of comparisons on (probe, candidate) pairs as one bit mask."""

    def __init__(self, comparisons: Sequence[Compare], nicknames: Nicknames,
                 blank_matches_blank: bool = False) -> None:
        """Give each comparison a bit, in the order given.

        Args:
            comparisons: the comparisons the levels use (each at most once).
            nicknames: first-name equivalents for the similar comparisons.
            blank_matches_blank: Appendix E taken literally: ``""`` equals ``""``.
        """
        self.bits = {c: 1 << i for i, c in enumerate(comparisons)}
        similar = _similar_checks(nicknames)
        self._exact = tuple((bit, FIELDS.index(c.value)) for c, bit in self.bits.items()
                            if c.value in FIELDS)
        self._similar = tuple((bit, similar[c]) for c, bit in self.bits.items()
                              if c.value not in FIELDS)
        self._blank = blank_matches_blank

    def mask(self, p: Person, c: Person) -> int:
        """The bits of the comparisons that hold between probe ``p`` and candidate ``c``."""
        m = 0
        blank = self._blank
        for bit, i in self._exact:
            v = p[i]
            if v == c[i] and (blank or v):
                m |= bit
        for bit, check in self._similar:
            if check(p, c):
                m |= bit
        return m
