"""Builders for the matching tests: students written as the CSV columns of design.md §8."""

from __future__ import annotations

from dataclasses import dataclass

from shared.matching.engine import FileMatcher, Matcher, Outcome
from shared.matching.index import MemoryIndex
from shared.matching.levels import Ruleset, default_ruleset
from shared.matching.nicknames import default_nicknames
from shared.matching.person import KeyScheme, Person, Reader
from shared.matching.ssid import SsidSequence

KEY = b"tests-only-ssn-key"
READER = Reader(KEY)
LITERAL = Reader(KEY, KeyScheme.LITERAL)


def student(ssid: str = "", last: str = "", first: str = "", *, plast: str = "",
            pfirst: str = "", dob: str = "", gender: str = "", ssn: str = "",
            district: str = "", dsid: str = "", literal: bool = False) -> Person:
    """A student as submitted (dob YYYY-MM-DD); fails the test on a data problem.

    ``literal``: keys as Appendix E taken literally compares them (trim and case-fold only).
    """
    reader = LITERAL if literal else READER
    person, problems = reader.read([ssid, last, first, plast, pfirst, dob, gender, ssn,
                                    district, dsid])
    assert problems == [], problems
    return person


@dataclass
class Registry:
    """A registry and a matcher over it, as ``edcs match`` builds them."""

    index: MemoryIndex
    matcher: Matcher

    def match(self, probe: Person) -> Outcome:
        return self.matcher.match(probe)

    def file(self, *probes: Person) -> list[Outcome]:
        """Match the records of one file in order, with the file-level reconciliation."""
        session = FileMatcher(self.matcher)
        outcomes = [session.match(row, p) for row, p in enumerate(probes, start=1)]
        for row, outcome in session.reconcile().items():
            outcomes[row - 1] = outcome
        return outcomes


def registry(*people: Person, rules: Ruleset | None = None,
             merged: dict[str, str] | None = None) -> Registry:
    """An in-memory registry of ``people`` (each with its SSID) and ``merged`` redirects."""
    nicknames = default_nicknames()
    index = MemoryIndex(nicknames)
    for p in people:
        assert index.add(p), p.ssid
    for retired, survivor in (merged or {}).items():
        assert index.merge(retired, survivor)
    matcher = Matcher(rules or default_ruleset(), index, SsidSequence.after(index.highest_ssid),
                      nicknames)
    return Registry(index, matcher)
