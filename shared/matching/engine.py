"""The match decision for one record, and for the records of one file (design.md §5).

For each record: look up the candidates, find each candidate's first level in catalog order,
then decide. Hard levels first: a hard match that points at more than one current SSID, or
whose first names disagree (twins, siblings), is demoted to a suggestion, as the ruleset's
``demote`` list says. Otherwise the suggested levels, otherwise a new SSID, which later records
of the same file can match. :class:`FileMatcher` adds the file-level rule: rows of one file
that claim one SSID but are not one student are all demoted (never many students on a guess).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import NamedTuple

from shared.matching.compare import Comparer, FirstNames, first_names, similar_dob
from shared.matching.index import IdentityLookup
from shared.matching.levels import (
    CompiledLevel,
    Demotion,
    LevelFinder,
    Ruleset,
    compile_levels,
)
from shared.matching.nicknames import Nicknames
from shared.matching.person import FIELDS, Person
from shared.matching.ssid import NewSsids

MAX_CANDIDATES = 10
"""Suggestions list at most this many candidates, best first (ODE shows them on one page)."""


class Decision(StrEnum):
    """What happens to a record."""

    HARD = "hard"  # posts against the matched SSID
    SUGGESTED = "suggested"  # waits in Review Suggestions for a person to choose
    NEW = "new"  # gets a new SSID
    ERROR = "error"  # has a data problem: neither posted nor given an SSID until fixed


@dataclass(frozen=True, slots=True)
class Outcome:
    """The decision for one record.

    Attributes:
        decision: see :class:`Decision`.
        level: the level of the match or best candidate (a hard level with ``suggested`` means
            a demoted hard match); None for new records and for errors without candidates.
        ssid: the matched SSID (hard) or the new one (new); ``""`` for suggested and error,
            which get an SSID only when a person decides.
        candidates: the SSIDs found, best first (hard: the match alone).
        demoted: why a hard match became a suggestion, if it did.
    """

    decision: Decision
    level: int | None
    ssid: str
    candidates: tuple[str, ...]
    demoted: Demotion | None = None


class _Scored(NamedTuple):
    rank: int  # position of the level in the ruleset
    weight: int  # minus the number of fields that agree exactly (fewer is worse)
    ssid: str
    level: CompiledLevel
    person: Person


class Matcher:
    """Decides records against an :class:`~shared.matching.index.IdentityLookup`."""

    def __init__(self, ruleset: Ruleset, lookup: IdentityLookup, sequence: NewSsids,
                 nicknames: Nicknames, max_candidates: int = MAX_CANDIDATES) -> None:
        """Compile the ruleset for this lookup.

        Args:
            ruleset: the levels and policy (``matching.yaml``).
            lookup: where candidates come from and where new identities go.
            sequence: where new SSIDs come from.
            nicknames: first-name equivalents (similar comparisons, the first-name check).
            max_candidates: how many candidates a suggestion lists.
        """
        self.ruleset = ruleset
        self._lookup = lookup
        self._sequence = sequence
        self._nicknames = nicknames
        self._comparer = Comparer(ruleset.comparisons(), nicknames, ruleset.blank_matches_blank)
        bits = self._comparer.bits
        self._levels = LevelFinder(compile_levels(ruleset, bits), self._comparer.similar_bits)
        self._exact = sum(bit for c, bit in bits.items() if c.value in FIELDS)
        self._demote = ruleset.demote
        self._max = max_candidates

    def score(self, probe: Person) -> list[_Scored]:
        """Every candidate that meets a level, best first (level order, then agreement).

        The near-miss comparisons cost far more than the exact ones, so they are computed for
        a candidate only when no earlier level holds and a level naming them still could
        (:class:`~shared.matching.levels.LevelFinder`).
        """
        scored: list[_Scored] = []
        comparer, exact, finder = self._comparer, self._exact, self._levels
        levels = finder.levels
        for cand in self._lookup.candidates(probe):
            m = comparer.exact_mask(probe, cand)
            rank = finder.first_exact(m)
            if rank < 0 and finder.may_hold_later(m):
                m |= comparer.similar_mask(probe, cand)
                rank = finder.first_later(m)
            if rank >= 0:
                scored.append(_Scored(rank, -(m & exact).bit_count(), cand.ssid, levels[rank],
                                      cand))
        scored.sort()
        return scored

    def match(self, probe: Person, *, held: bool = False) -> Outcome:
        """Decide one record.

        Args:
            probe: the record (its SSID as submitted; a merged SSID is redirected here).
            held: the record has a data problem: report its candidates, decide nothing.
        """
        if probe.ssid:
            current = self._lookup.current_ssid(probe.ssid)
            if current is not None and current != probe.ssid:
                probe = probe._replace(ssid=current)
        scored = self.score(probe)
        candidates = tuple(dict.fromkeys(s.ssid for s in scored))[:self._max]
        best = scored[0] if scored else None
        if held:
            return Outcome(Decision.ERROR, best.level.level if best else None, "", candidates)
        if best is None:
            ssid = self._sequence.take()
            self._lookup.add(probe._replace(ssid=ssid))
            return Outcome(Decision.NEW, None, ssid, ())
        if not best.level.hard:
            return Outcome(Decision.SUGGESTED, best.level.level, "", candidates)
        demoted = self._demotion(probe, best, scored)
        if demoted is Demotion.FIRST_NAME_CONFLICT and len(candidates) > 1:
            # The identity with the other first name goes last: a twin's, most likely.
            candidates = (*(c for c in candidates if c != best.ssid), best.ssid)
        if demoted is not None:
            return Outcome(Decision.SUGGESTED, best.level.level, "", candidates, demoted)
        return Outcome(Decision.HARD, best.level.level, best.ssid, (best.ssid,))

    def _demotion(self, probe: Person, best: _Scored, scored: list[_Scored]) -> Demotion | None:
        if Demotion.AMBIGUOUS in self._demote and any(
                s.level.hard and s.ssid != best.ssid for s in scored):
            return Demotion.AMBIGUOUS
        if Demotion.FIRST_NAME_CONFLICT in self._demote:
            verdict = first_names(probe, best.person, self._nicknames)
            if verdict is FirstNames.DIFFERENT or (
                    verdict is FirstNames.NEAR and not _corroborated(probe, best.person)):
                return Demotion.FIRST_NAME_CONFLICT
        return None

    def same_student(self, a: Person, b: Person) -> bool:
        """Whether two records of one file can be one student (first names, birth date)."""
        if first_names(a, b, self._nicknames) is FirstNames.DIFFERENT:
            return False
        return not (a.dob and b.dob) or similar_dob(a.dob, b.dob)


def _corroborated(p: Person, c: Person) -> bool:
    """An identifier twins never share: the same SSN, or the same district's student id."""
    return bool(p.ssn and p.ssn == c.ssn) or bool(
        p.resident_district and p.district_student_id
        and p.resident_district == c.resident_district
        and p.district_student_id == c.district_student_id)


class FileMatcher:
    """Decides the records of one file in order and then reconciles what they claim."""

    def __init__(self, matcher: Matcher) -> None:
        """Start a file."""
        self._matcher = matcher
        self._claims: dict[str, list[tuple[int, Person, Outcome]]] = {}

    def match(self, row: int, probe: Person, *, held: bool = False) -> Outcome:
        """Decide the record of ``row``; a new identity is open to the file's later rows."""
        outcome = self._matcher.match(probe, held=held)
        if outcome.decision in (Decision.HARD, Decision.NEW):
            self._claims.setdefault(outcome.ssid, []).append((row, probe, outcome))
        return outcome

    def reconcile(self) -> dict[int, Outcome]:
        """The rows whose hard match is withdrawn because other rows claim the same SSID for
        another student (the rows that created an SSID keep it), with their new outcome."""
        if Demotion.CONFLICTING_CLAIMS not in self._matcher.ruleset.demote:
            return {}
        revised: dict[int, Outcome] = {}
        for claims in self._claims.values():
            if len(claims) < 2:
                continue
            first = claims[0][1]
            if all(self._matcher.same_student(first, p) for _, p, _ in claims[1:]):
                continue
            for row, _, outcome in claims:
                if outcome.decision is Decision.HARD:
                    revised[row] = replace(outcome, decision=Decision.SUGGESTED, ssid="",
                                           demoted=Demotion.CONFLICTING_CLAIMS)
        return revised

