"""The comparisons a matching level can name: the closed vocabulary of ``matching.yaml``.

Each field of :class:`~shared.matching.person.Person` compares exactly (its key equals the
candidate's, and is not blank unless the ruleset says blanks match). The ``similar_*`` and
``swapped_names`` comparisons are edcs's near misses (design.md §5), used only by suggested
levels. A :class:`Comparer` turns one (probe, candidate) pair into a bit mask of the
comparisons that hold, which the levels test with masks (``shared/matching/levels.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
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
    NO_DOB = "no_dob"  # one side has no usable birth date (blank, or impossible and left out)


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
    """Whether two name keys are near: equal, one typo (two when 8+ letters; none when one has a
    single letter), or one of 3+ letters starts or ends the other (hyphenated surnames:
    ``garcialopez`` and ``lopez``)."""
    if not a or not b:
        return False
    if a == b:
        return True
    short = min(len(a), len(b))
    if short < 2:
        return False
    if short >= 3 and (a.startswith(b) or b.startswith(a) or a.endswith(b) or b.endswith(a)):
        return True
    allowed = 2 if short >= 8 else 1
    if abs(len(a) - len(b)) > allowed:
        return False
    return DamerauLevenshtein.distance(a, b, score_cutoff=allowed) <= allowed


class FirstNames(Enum):
    """How the first names of a record and an identity compare (the hard-match check)."""

    SAME = "same"  # equal, nicknames, one the other's initial, or last and first swapped
    NEAR = "near"  # one typo apart: the same child mistyped, or a twin with a near name
    DIFFERENT = "different"  # names of two children
    UNKNOWN = "unknown"  # one side has no first name


def distinct(a: str, b: str) -> tuple[str, ...]:
    """The non-blank ones of two keys, once each (a legal and a preferred name)."""
    if not b or b == a:
        return (a,) if a else ()
    return (a, b) if a else (b,)


def lasts(p: Person) -> tuple[str, ...]:
    """The distinct non-blank last-name keys (legal, then preferred) of a person."""
    return distinct(p.legal_last, p.preferred_last)


def firsts(p: Person) -> tuple[str, ...]:
    """The distinct non-blank first-name keys (legal, then preferred) of a person."""
    return distinct(p.legal_first, p.preferred_first)


def _near(xs: tuple[str, ...], ys: tuple[str, ...]) -> bool:
    for x in xs:
        for y in ys:
            if similar_name(x, y):
                return True
    return False


def _verdict(mine: tuple[str, ...], theirs: tuple[str, ...], names_swapped: bool,
             nicknames: Nicknames) -> FirstNames:
    if not mine or not theirs:
        return FirstNames.UNKNOWN
    if names_swapped:
        return FirstNames.SAME
    near = False
    for a in mine:
        for b in theirs:
            if a == b or nicknames.equivalent(a, b) or (
                    (len(a) == 1 or len(b) == 1) and a[0] == b[0]):
                return FirstNames.SAME
            near = near or similar_name(a, b)
    return FirstNames.NEAR if near else FirstNames.DIFFERENT


def first_names(p: Person, c: Person, nicknames: Nicknames) -> FirstNames:
    """Compare every first name of one with every first name of the other; the best holds."""
    return _verdict(firsts(p), firsts(c), swapped(p, c), nicknames)


def swapped(p: Person, c: Person) -> bool:
    """Whether the record's last names are the identity's first names and the other way round
    (exactly, or one typo apart)."""
    return _near(lasts(p), firsts(c)) and _near(firsts(p), lasts(c))


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
        self._exact = tuple((bit, FIELDS.index(c.value)) for c, bit in self.bits.items()
                            if c.value in FIELDS)
        self.similar_bits = sum(bit for c, bit in self.bits.items() if c.value not in FIELDS)
        """The bits of the near-miss comparisons (computed only when a level needs them)."""
        bit = self.bits.get
        self._last, self._first, self._swapped = (
            bit(Compare.SIMILAR_LAST, 0), bit(Compare.SIMILAR_FIRST, 0),
            bit(Compare.SWAPPED_NAMES, 0))
        self._dob, self._ssid, self._no_dob = (
            bit(Compare.SIMILAR_DOB, 0), bit(Compare.SIMILAR_SSID, 0), bit(Compare.NO_DOB, 0))
        self._nicknames = nicknames
        self._blank = blank_matches_blank

    def exact_mask(self, p: Person, c: Person) -> int:
        """The bits of the exact field comparisons that hold between ``p`` and ``c``."""
        m = 0
        blank = self._blank
        for bit, i in self._exact:
            v = p[i]
            if v == c[i] and (blank or v):
                m |= bit
        return m

    def similar_mask(self, p: Person, c: Person) -> int:
        """The bits of the near-miss comparisons that hold between ``p`` and ``c``.

        One function for all of them: they share the name lists and the swapped-names test.
        """
        m = 0
        if self._last | self._first | self._swapped:
            p_last, p_first, c_last, c_first = lasts(p), firsts(p), lasts(c), firsts(c)
            names_swapped = _near(p_last, c_first) and _near(p_first, c_last)
            if names_swapped:
                m |= self._swapped
            if self._last and _near(p_last, c_last):
                m |= self._last
            if self._first and _verdict(p_first, c_first, names_swapped, self._nicknames) in (
                    FirstNames.SAME, FirstNames.NEAR):
                m |= self._first
        if self._dob and similar_dob(p.dob, c.dob):
            m |= self._dob
        if self._ssid and p.ssid and c.ssid and one_typo(p.ssid, c.ssid):
            m |= self._ssid
        if self._no_dob and not (p.dob and c.dob):
            m |= self._no_dob
        return m

    def mask(self, p: Person, c: Person) -> int:
        """The bits of every comparison that holds between probe ``p`` and candidate ``c``."""
        return self.exact_mask(p, c) | self.similar_mask(p, c)
