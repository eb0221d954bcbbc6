"""Rules across the records of one file (``unique_in_file``, ``key_unique_in_file``,
``required_when_repeated``): the one home of what they say.

The pipeline decides them at the post barrier over the staged rows (records of one file are
validated on several workers; ``services/post/prechecks.py``); ``edcs validate`` decides them
while it reads the file (``Repeats``). Both find the same rows and say the same words.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from shared.catalog.models import FieldSpec, Layout, Severity
from shared.issues import Issue

DUPLICATE_IN_FILE = "duplicate-in-file"
DUPLICATE_KEY_IN_FILE = "duplicate-key-in-file"
REQUIRED_WHEN_REPEATED = "required-when-repeated"


def _titles(group: tuple[FieldSpec, ...]) -> str:
    names = [f.title for f in group]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def repeat_issue(row: int, earlier: int, group: tuple[FieldSpec, ...]) -> dict[str, str]:
    """The issue of a row that repeats the values of ``group`` of an earlier row, as the staged
    rows keep issues (field, field_name, code, message; no value: they may be private)."""
    titles = " and ".join(f.title for f in group)
    return {"field": group[0].id, "field_name": group[0].title, "code": DUPLICATE_IN_FILE,
            "message": f"Row {row} repeats the {titles} of row {earlier}; each may appear "
                       "only once in a file."}


def key_issue(row: int, other: int, key: tuple[FieldSpec, ...]) -> dict[str, str]:
    """The issue of each of two rows with the same operational key (``key_unique_in_file``):
    both rows are reported, each naming the other (the first row names the second)."""
    return {"field": key[0].id, "field_name": key[0].title, "code": DUPLICATE_KEY_IN_FILE,
            "message": f"Rows {min(row, other)} and {max(row, other)} have the same "
                       f"{_titles(key)} (the operational key): the file may hold one record "
                       "of each key (and a Delete of it). Keep the one that is right and "
                       "submit the file again."}


def required_issue(row: int, other: int, group: tuple[FieldSpec, ...], field: FieldSpec
                   ) -> dict[str, str]:
    """The issue of a row whose ``field`` is blank while another row of the file has the same
    values of ``group`` (``required_when_repeated``): each such row is reported, naming another
    row of the group (the first row names the second, the others the first)."""
    return {"field": field.id, "field_name": field.title, "code": REQUIRED_WHEN_REPEATED,
            "message": f"Row {row} has the same {_titles(group)} as row {other} and a blank "
                       f"{field.title}: records that share the {_titles(group)} must each give "
                       f"the {field.title}. Fill it in, or keep one of the records."}


def key_groups(layout: Layout) -> list[tuple[tuple[str, ...], bool]]:
    """The field groups that may not repeat in a file, each with whether both rows are
    reported (the operational key) or only the later one (``unique_in_file``).

    For the operational key, a Delete and an Add or Update of one key are not a repeat: that
    pair is how a district corrects a key in one file (posting applies the Delete first, CFS
    §1.3). Two Deletes, or two records that are not Deletes, are (``is_delete`` is the class)."""
    groups = [(group, False) for group in layout.unique_in_file]
    if layout.key_unique_in_file:
        groups.append((layout.operational_key, True))
    return groups


def is_delete(value: str) -> bool:
    """Whether a transaction type value is a Delete (the class a repeated key is counted in)."""
    return value.strip().upper() == "D"


Key = str | bytes
"""What is kept of a group's values: the values themselves when short, else a 16-byte digest
(a str never equals a bytes, so the two cannot be confused)."""
KEPT_AS_IS = 32  # characters; longer values are kept as their digest


@dataclass
class _Group:
    positions: tuple[int, ...]
    specs: tuple[FieldSpec, ...]
    both: bool
    seen: dict[Key, int]


@dataclass
class _Required:
    """A ``required_when_repeated`` rule as a file streams: per group value, the first row and
    whether its field is blank and not yet reported."""

    positions: tuple[int, ...]
    specs: tuple[FieldSpec, ...]
    field: int
    spec: FieldSpec
    # the first row of each group value, negative when its field is blank and not reported
    first: dict[Key, int]


class Repeats:
    """Finds, while a file streams, the rows repeating an earlier row's group (a blank value
    never repeats). Keeps a row number per distinct value, with the value itself when short and
    a 16-byte digest of it otherwise. For the operational key both rows are reported: the
    earlier row's issue is returned with the later row's (once, at its first repeat)."""

    def __init__(self, layout: Layout) -> None:
        by_name = layout.positioned()
        self._groups = [_Group(tuple(by_name[n][0] for n in group),
                               tuple(by_name[n][1] for n in group), both, {})
                        for group, both in key_groups(layout)]
        self._reported: set[tuple[int, int]] = set()  # (group, earlier row) already reported
        operation = by_name.get(layout.operation_field or "")
        self._operation = operation[0] if operation else None
        self._required = [_Required(tuple(by_name[n][0] for n in r.group),
                                    tuple(by_name[n][1] for n in r.group),
                                    by_name[r.field][0], by_name[r.field][1], {})
                          for r in layout.required_when_repeated]

    def check(self, row: int, fields: list[str],
              failed: frozenset[str] | None = None) -> list[Issue]:
        """The issues this record makes against the records read before it: its own, and an
        earlier row's when both rows of a repeated key are reported. ``failed``: the record has
        errors of its own, on these fields (ids); a group or rule reading one of them is not
        compared (a malformed value cannot be), the others are (an all-or-nothing file says
        all its problems in one round; services/post/prechecks.py ``_compared``)."""
        found: list[Issue] = []
        for number, group in enumerate(self._groups):
            if failed and any(spec.id in failed for spec in group.specs):
                continue
            operation = ""
            if group.both and self._operation is not None and self._operation < len(fields):
                operation = "D" if is_delete(fields[self._operation]) else ""
            key = group_key(fields, group.positions, operation)
            if key is None:
                continue
            earlier = group.seen.setdefault(key, row)
            if earlier == row:
                continue
            if not group.both:
                found.append(_issue(row, repeat_issue(row, earlier, group.specs)))
                continue
            if (number, earlier) not in self._reported:
                self._reported.add((number, earlier))
                found.append(_issue(earlier, key_issue(earlier, row, group.specs)))
            found.append(_issue(row, key_issue(row, earlier, group.specs)))
        for rule in self._required:
            if failed and (rule.spec.id in failed
                           or any(spec.id in failed for spec in rule.specs)):
                continue
            found += _blank_in_repeat(rule, row, fields)
        return found


def group_key(fields: list[str], positions: tuple[int, ...], extra: str = "") -> Key | None:
    """What is kept of a group's stripped values in this record (and ``extra``, the class of a
    Delete), or None when one is blank (a blank never repeats). This runs for every group of
    every record: one field is the common case and is not joined."""
    if len(positions) == 1 and not extra:
        at = positions[0]
        value = fields[at].strip() if at < len(fields) else ""
        if not value:
            return None
    else:
        values = [fields[p].strip() if p < len(fields) else "" for p in positions]
        if not all(values):
            return None
        value = "\x1f".join(values) + ("\x1f" + extra if extra else "")
    if len(value) <= KEPT_AS_IS:
        return value
    return hashlib.blake2b(value.encode(), digest_size=16).digest()


def _blank_in_repeat(rule: _Required, row: int, fields: list[str]) -> list[Issue]:
    """This row's issue when its field is blank in a repeated group, and the first row's when
    this is the first repeat of a group whose first row's field is blank."""
    key = group_key(fields, rule.positions)
    if key is None:
        return []
    blank = not (fields[rule.field].strip() if rule.field < len(fields) else "")
    first = rule.first.setdefault(key, -row if blank else row)
    if first == row or first == -row:
        return []
    found = []
    if first < 0:  # the first row's field is blank: reported once, at the group's first repeat
        first = rule.first[key] = -first
        found.append(_issue(first, required_issue(first, row, rule.specs, rule.spec)))
    if blank:
        found.append(_issue(row, required_issue(row, first, rule.specs, rule.spec)))
    return found


def _issue(row: int, said: dict[str, str]) -> Issue:
    return Issue(row=row, field=said["field"], field_name=said["field_name"], code=said["code"],
                 severity=Severity.FATAL, message=said["message"])
