"""The registry of record-rule compilers: one compiler per rule kind of
``shared/catalog/rule_kinds.py`` (``record.py`` and ``measures.py`` register theirs), and the
shapes they share (a record as its split fields, a kind's test of one record)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from shared.catalog.base import Condition, in_range
from shared.catalog.rule_kinds import RuleParams

Fields = list[str]
Index = Mapping[str, int]
Holds = Callable[[Fields, dt.date], bool]
P = TypeVar("P", bound=RuleParams)
Compiler = Callable[[P, Index], Holds]

COMPILERS: dict[type[RuleParams], Callable[[Any, Index], Holds]] = {}
"""Kind parameter model -> its compiler; the same kinds as ``RULE_KINDS`` (a test checks)."""


def compiles(kind: type[P]) -> Callable[[Compiler[P]], Compiler[P]]:
    """Register the compiler of a kind (for a conditional kind: its test once ``when`` holds)."""
    def register(compiler: Compiler[P]) -> Compiler[P]:
        COMPILERS[kind] = compiler
        return compiler
    return register


def condition(when: Condition, index: Index) -> Callable[[Fields], bool]:
    """The condition as a test of a record."""
    i = index[when.field]
    if when.in_ is not None:
        values = frozenset(when.in_)
        return lambda f: f[i] in values or f[i].strip() in values
    if when.between is not None:
        low, high = when.between
        return lambda f: in_range(f[i], low, high)
    if when.populated:
        return lambda f: bool(f[i].strip())
    return lambda f: not f[i].strip()
