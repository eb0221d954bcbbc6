"""Pure posting rules: normalise transaction codes and build operational and replace-set keys.

CFS §1.3 table (requirements.md §2.3): how each method reads the transaction type field.
"""

from __future__ import annotations

from collections.abc import Sequence

from shared.catalog.models import Layout, Method
from shared.catalog.store_rules import StoreRule

DELETE, ADD, REPLACE = "D", "A", "R"
MATCH = 1  # mark: the record asks for SSID matching (its SSID is blank)


def effect_mark(number: int) -> int:
    """The mark of a record that may cause the layout's effect ``number`` (its field is
    filled in)."""
    return 2 << number

# The directory store rules' codes (``services.post.store_rules``): bit CODED says a record
# was staged with them (a record staged by an earlier version has no such bits), and
# ``code_mark(n)`` that the code of the layout's store rule ``n`` is filled in.
CODED = 1 << 15
# A file's summary only (``services.post.tables.StagedSummary``), never a record's: a record
# with fields was staged with errors of its own.
WITH_ERRORS = 1 << 14


def code_mark(number: int) -> int:
    """The mark of a record whose code for the layout's store rule ``number`` is filled in."""
    return 1 << (16 + number)


def coded_fields(rules: Sequence[StoreRule]) -> tuple[str | None, ...]:
    """The field each store rule looks a code up from (None: the rule reads no field)."""
    return tuple(r.field if r.kind in ("in-directory", "reports-as-itself") else None
                 for r in rules)


ORDER = (DELETE, ADD, REPLACE)  # posting order by normalised action (CFS §1.3, design.md §4)

_NORMALISE: dict[Method, dict[str, str]] = {
    Method.TRANSACTION: {"": ADD, "A": ADD, "R": REPLACE, "D": DELETE},
    Method.EFFECTIVE_DATE: {"": ADD, "A": ADD, "D": DELETE},
    Method.REPLACEMENT: {"": REPLACE, "R": REPLACE, "D": DELETE},
}


class KeyMaker:
    """Reads the keys and the action of a record.

    ``op_key`` identifies one stored record (the layout's primary key); ``set_key`` is the group
    it posts with: its replace set (Transaction), replacement key (Replacement) or timeline
    (Effective Date); see ``Layout``.
    """

    def __init__(self, layout: Layout, period: str | None = None,
                 institution: str = "", coded: tuple[str | None, ...] | None = None) -> None:
        names = [f.name for f in layout.fields]
        # An EDFacts record is one education unit in one reporting period (the file's header
        # record): the period leads its key, so the periods of one unit are stored side by
        # side and a full replacement can replace one period (design.md §2). Its layout has
        # no LEA field: the file is the submitting institution's (the SEA's).
        has_period = layout.framing.header_record is not None
        self.prefix = f"{period or ''}|" if has_period else ""
        self.institution = institution
        self.method = layout.method
        self.key_index = tuple(names.index(n) for n in layout.row_key)
        self.op_index = (names.index(layout.operation_field)
                         if layout.operation_field else None)
        self.school_index = names.index(layout.school_field) if layout.school_field else None
        self.lea_index = names.index(layout.lea_field) if layout.lea_field else None
        self.lea_length = layout.lea_length
        self.set_index = tuple(names.index(n) for n in layout.group_key)
        spec = layout.matching
        self.match_index = (names.index(spec.fields["ssid"])
                            if spec is not None and not spec.every_record else None)
        self.effect_index = tuple((names.index(e.when.field), effect_mark(n))
                                  for n, e in enumerate(layout.effects))
        # ``coded``: the store rules' code fields (``coded_fields``); None: no code marks
        self.coded = CODED if coded is not None else 0
        self.code_index = tuple((names.index(f), code_mark(n))
                                for n, f in enumerate(coded or ()) if f is not None)

    def marks(self, fields: list[str]) -> int:
        """What the barrier will look for in this record, as bits (``MATCH``,
        ``effect_mark``, ``code_mark``), so it finds those records without reading every
        record's fields."""
        found = self.coded
        if self.match_index is not None and not fields[self.match_index].strip():
            found |= MATCH
        for index, mark in (*self.effect_index, *self.code_index):
            if fields[index].strip():
                found |= mark
        return found

    def action(self, fields: list[str]) -> str | None:
        """The normalised action, or None when the code is not one the method allows."""
        code = fields[self.op_index].strip().upper() if self.op_index is not None else ""
        return _NORMALISE[self.method].get(code)

    def op_key(self, fields: list[str]) -> str:
        """The key of one stored record as one string (the layout's ``row_key``, i.e. its
        primary key, fields joined with '|'); the column keeps its historic name."""
        return self.prefix + "|".join([fields[i].strip() for i in self.key_index])

    def school(self, fields: list[str]) -> str | None:
        """The school the record belongs to, if the layout has one."""
        return fields[self.school_index].strip() if self.school_index is not None else None

    def lea(self, fields: list[str]) -> str:
        """The reporting LEA of the record (the submitting institution when the layout has
        none)."""
        if self.lea_index is None:
            return self.institution
        return fields[self.lea_index].strip()[:self.lea_length]

    def set_key(self, fields: list[str]) -> str | None:
        """The group of a record (e.g. year|school|SSID), None if the layout has none."""
        if not self.set_index:
            return None
        return "|".join([fields[i].strip() for i in self.set_index])
