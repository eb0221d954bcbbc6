"""Effective Date processing of one timeline (CFS §1.3.2), as a pure function.

A timeline is every stored record of one subject (e.g. one LEA's records of one student),
ordered by Effective Start Date. The rules, as edcs reads the seed (docs/decisions.md):

- End dates are derived, never taken from the file (CFS 2.05/7.05 since V13.2, design.md §4):
  a record ends the day before the next record starts; the latest record is open-ended.
- Add/Update with start S replaces everything from S on (CFS §1.3.2.1 Scenario 2: "replacing
  the two records containing data sets C and D"); a file's records of one timeline are applied
  in start-date order, so together they are the timeline from their earliest start on.
- Delete removes the record with the same start; a start the timeline does not hold is a
  warning. Deleting the latest record re-opens the one before it (Scenario 6).
- A file may not leave a timeline that had records with none: those deletes are fatal
  ("CALPADS will not permit a 'D' (Delete) transaction if there is only one record").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

DATE_FORMAT = "%Y%m%d"


@dataclass(frozen=True, slots=True)
class Submitted:
    """A submitted record of the timeline: its physical row, start date and fields."""

    row: int
    start: str  # CCYYMMDD
    fields: list[str]


@dataclass
class Applied:
    """The timeline after a file, and what the file's records did."""

    records: dict[str, list[str]]  # start -> fields (end date derived), in start order
    removed_by_delete: set[str] = field(default_factory=set)  # starts a Delete removed
    missing_deletes: list[int] = field(default_factory=list)  # rows deleting nothing
    emptying_deletes: list[int] = field(default_factory=list)  # rows that emptied it (fatal)


def day_before(start: str) -> str:
    """The CCYYMMDD date one day before ``start``."""
    day = dt.datetime.strptime(start, DATE_FORMAT).date() - dt.timedelta(days=1)
    return day.strftime(DATE_FORMAT)


def apply(stored: dict[str, list[str]], deletes: Sequence[Submitted],
          adds: Sequence[Submitted], end_index: int | None) -> Applied:
    """Apply a file's deletes, then its adds, to a stored timeline (start -> fields)."""
    timeline = dict(stored)
    result = Applied(records={})
    for record in sorted(deletes, key=lambda r: r.row):
        if timeline.pop(record.start, None) is None:
            result.missing_deletes.append(record.row)
        else:
            result.removed_by_delete.add(record.start)
    if adds:
        earliest = min(r.start for r in adds)
        timeline = {s: f for s, f in timeline.items() if s < earliest}
        for record in sorted(adds, key=lambda r: (r.start, r.row)):  # same start: later row wins
            timeline[record.start] = list(record.fields)
    if stored and not timeline:  # posting's pre-check rejects these first; never empty one
        result.emptying_deletes = sorted(r.row for r in deletes if r.start in stored)
        result.removed_by_delete.clear()
        timeline = dict(stored)
    starts = sorted(timeline)
    for start, following in zip(starts, [*starts[1:], None], strict=True):
        fields = list(timeline[start])
        if end_index is not None:
            fields[end_index] = day_before(following) if following is not None else ""
        result.records[start] = fields
    return result
