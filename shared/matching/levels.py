"""The matching levels as data: ``shared/catalog/matching.yaml`` and its pydantic model.

A level is a conjunction of three kinds of condition over the comparison vocabulary
(:class:`~shared.matching.compare.Compare`): ``require`` (every one holds), ``any_of`` ("any k
of these"), ``one_of_each`` ("one each from all of the following pairs"). The engine evaluates
the levels in file order; it has no code for any particular level.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Literal

import yaml
from pydantic import Field, ValidationError, model_validator

from shared.catalog.models import Strict
from shared.matching.compare import Compare
from shared.matching.person import KeyScheme

CATALOG_DIR = Path(__file__).parents[1] / "catalog"
EDCS_RULES = CATALOG_DIR / "matching.yaml"
APPENDIX_E_RULES = CATALOG_DIR / "matching-appendix-e.yaml"


class Demotion(StrEnum):
    """Reasons a hard match is posted as a suggestion instead (design.md §5)."""

    AMBIGUOUS = "ambiguous"  # hard criteria met by more than one current SSID
    FIRST_NAME_CONFLICT = "first-name-conflict"  # twins, siblings: first names disagree
    CONFLICTING_CLAIMS = "conflicting-claims"  # rows of one file that are not one student


class AnyOf(Strict):
    """At least ``count`` of the comparisons ``of`` hold."""

    count: int = Field(ge=1)
    of: tuple[Compare, ...]

    @model_validator(mode="after")
    def _reachable(self) -> AnyOf:
        if self.count > len(set(self.of)):
            raise ValueError(f"any {self.count} of {len(set(self.of))} comparisons can never hold")
        return self


class Level(Strict):
    """One match level."""

    level: int = Field(ge=1)
    decision: Literal["hard", "suggested"]
    source: str  # "Appendix E" (quoted in ``text``) or "edcs" (design.md §5, decisions.md)
    text: str
    require: tuple[Compare, ...] = ()
    any_of: tuple[AnyOf, ...] = ()
    one_of_each: tuple[tuple[Compare, ...], ...] = ()

    @model_validator(mode="after")
    def _not_empty(self) -> Level:
        if not (self.require or self.any_of or self.one_of_each):
            raise ValueError(f"level {self.level} has no condition: it would match anyone")
        if any(not group for group in self.one_of_each):
            raise ValueError(f"level {self.level} has an empty one_of_each group")
        return self

    def comparisons(self) -> set[Compare]:
        """Every comparison the level names."""
        return {*self.require, *(c for a in self.any_of for c in a.of),
                *(c for g in self.one_of_each for c in g)}


class Ruleset(Strict):
    """A whole matching policy: key scheme, blank policy, demotions and the ordered levels."""

    name: str
    description: str
    keys: KeyScheme
    blank_matches_blank: bool = False
    demote: frozenset[Demotion] = frozenset()
    levels: tuple[Level, ...]

    @model_validator(mode="after")
    def _ordered(self) -> Ruleset:
        numbers = [lv.level for lv in self.levels]
        problems = [f"level {n} appears twice" for n in sorted(set(numbers))
                    if numbers.count(n) > 1]
        kinds = [lv.decision for lv in self.levels]
        if "suggested" in kinds and "hard" in kinds[kinds.index("suggested"):]:
            problems.append("every hard level must come before the suggested levels")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def comparisons(self) -> list[Compare]:
        """The comparisons any level names, in vocabulary order (the bits of the masks)."""
        used = set().union(*(lv.comparisons() for lv in self.levels))
        return [c for c in Compare if c in used]


@dataclass(frozen=True)
class CompiledLevel:
    """A level as bit masks over a :class:`~shared.matching.compare.Comparer`'s bits."""

    level: int
    hard: bool
    required: int
    any_of: tuple[tuple[int, int], ...]  # (mask, count)
    one_of_each: tuple[int, ...]
    uses: int  # every bit the level names

    def holds(self, mask: int) -> bool:
        """Whether the comparisons in ``mask`` satisfy the level."""
        return ((mask & self.required) == self.required
                and all((mask & group).bit_count() >= count for group, count in self.any_of)
                and all(mask & group for group in self.one_of_each))


def compile_levels(ruleset: Ruleset, bits: dict[Compare, int]) -> tuple[CompiledLevel, ...]:
    """The ruleset's levels as masks over ``bits``, in evaluation order."""
    def mask(cs: tuple[Compare, ...]) -> int:
        return sum({bits[c] for c in cs})

    return tuple(CompiledLevel(
        level=lv.level, hard=lv.decision == "hard", required=mask(lv.require),
        any_of=tuple((mask(a.of), a.count) for a in lv.any_of),
        one_of_each=tuple(mask(g) for g in lv.one_of_each),
        uses=mask(tuple(lv.comparisons()))) for lv in ruleset.levels)


class LevelFinder:
    """The first level (in catalog order) that a candidate's comparisons meet, memoised by mask.

    A ruleset names a few dozen comparisons at most, and candidates fall into far fewer
    distinct masks, so each distinct mask is evaluated against the levels once. Levels up to
    the first one naming a near-miss comparison are decided on the exact comparisons alone;
    the near misses, which cost more, are computed only when a later level could still hold.
    """

    def __init__(self, levels: tuple[CompiledLevel, ...], similar: int) -> None:
        """Index ``levels`` (in order); ``similar`` has the bits of the near-miss comparisons."""
        self.levels = levels
        self._similar = similar
        self._split = next((i for i, lv in enumerate(levels) if lv.uses & similar),
                           len(levels))
        self._exact: dict[int, int] = {}  # mask -> rank, or -1: none before the split
        self._possible: dict[int, bool] = {}  # mask -> some later level could hold
        self._full: dict[int, int] = {}  # mask with near misses -> rank at or after the split

    def first_exact(self, mask: int) -> int:
        """The rank of the first level before the split that ``mask`` meets, or -1."""
        found = self._exact.get(mask)
        if found is None:
            found = next((i for i, lv in enumerate(self.levels[:self._split])
                          if lv.holds(mask)), -1)
            self._exact[mask] = found
        return found

    def may_hold_later(self, mask: int) -> bool:
        """Whether a level from the split on could hold if every near miss held too."""
        found = self._possible.get(mask)
        if found is None:
            optimistic = mask | self._similar
            found = any(lv.holds(optimistic) for lv in self.levels[self._split:])
            self._possible[mask] = found
        return found

    def first_later(self, mask: int) -> int:
        """The rank of the first level from the split on that ``mask`` meets, or -1."""
        found = self._full.get(mask)
        if found is None:
            found = next((i for i, lv in enumerate(self.levels) if i >= self._split
                          and lv.holds(mask)), -1)
            self._full[mask] = found
        return found


class RulesetError(Exception):
    """A matching catalog file is invalid; the message lists every problem."""


def load_ruleset(path: Path) -> Ruleset:
    """Load and check one matching catalog file.

    Raises:
        RulesetError: the file is missing, is not YAML, or breaks the model (all problems).
    """
    try:
        with path.open(encoding="utf-8") as fh:
            return Ruleset.model_validate(yaml.safe_load(fh))
    except (OSError, yaml.YAMLError) as exc:
        raise RulesetError(f"{path}: {exc}") from exc
    except ValidationError as exc:
        lines = [f"{'.'.join(map(str, e['loc'])) or '(file)'}: {e['msg']} "
                 f"(got {repr(e['input'])[:60]})" for e in exc.errors()]
        raise RulesetError(f"{path}:\n  " + "\n  ".join(lines)) from exc


@functools.cache
def default_ruleset() -> Ruleset:
    """edcs's rules (``matching.yaml``)."""
    return load_ruleset(EDCS_RULES)


@functools.cache
def appendix_e_ruleset() -> Ruleset:
    """Appendix E taken literally (``matching-appendix-e.yaml``), for comparison only."""
    return load_ruleset(APPENDIX_E_RULES)
