"""First-name equivalents (``shared/catalog/nicknames.yaml``): Bill is William, Lupe is Lupita."""

from __future__ import annotations

import functools
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict

from shared.matching.normalise import name_key

NICKNAMES_FILE = Path(__file__).parents[1] / "catalog" / "nicknames.yaml"


class NicknameFile(BaseModel):
    """The catalog file: groups of names, each a formal name first and its short forms."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: str
    groups: tuple[tuple[str, ...], ...]


class Nicknames:
    """Which first-name keys name the same person, and the blocking keys that bring them together.

    Two names are equivalent when they share a group. A name's canonical keys are the formal
    names of its groups (itself when it is in none): equivalent names share a canonical key, so
    an index on canonical keys finds a "Bill" filed as "William".
    """

    def __init__(self, groups: tuple[tuple[str, ...], ...]) -> None:
        """Index the groups by each of their names' keys."""
        member: dict[str, set[int]] = {}
        formal: list[str] = []
        for number, group in enumerate(groups):
            keys = [name_key(name) for name in group]
            formal.append(keys[0])
            for key in keys:
                member.setdefault(key, set()).add(number)
        self._groups = {key: frozenset(numbers) for key, numbers in member.items()}
        self._canonical = {key: tuple(sorted({formal[n] for n in numbers}))
                           for key, numbers in member.items()}

    def equivalent(self, a: str, b: str) -> bool:
        """Whether two first-name keys are one name or share a group (never for a blank)."""
        if not a or not b:
            return False
        if a == b:
            return True
        groups = self._groups.get(a)
        return groups is not None and not groups.isdisjoint(self._groups.get(b, ()))

    def canonical(self, key: str) -> tuple[str, ...]:
        """The canonical keys of a first-name key: its groups' formal names, or itself."""
        return self._canonical.get(key, (key,))


@functools.cache
def default_nicknames() -> Nicknames:
    """The catalog's nickname table, loaded once."""
    with NICKNAMES_FILE.open(encoding="utf-8") as fh:
        data = NicknameFile.model_validate(yaml.safe_load(fh))
    return Nicknames(data.groups)
