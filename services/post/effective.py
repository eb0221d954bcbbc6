"""Post the Effective Date records of a submission (CFS §1.3.2), timeline by timeline.

Unlike the other methods this cannot be one statement per step: a record's end date depends on
its neighbours. Timelines are taken in chunks: the staged records and the stored records of a
chunk's timelines are read, ``timeline.apply`` computes each result, and only the differences
are written (deleted, inserted and updated rows, each with its history row), so memory follows
the chunk, not the file.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator, Sequence

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from services.post import timeline
from services.post.planner import ADD, DELETE, KeyMaker
from services.post.tables import HISTORY_COLUMNS, ODS, ODS_COLUMNS, STAGED
from shared.catalog.models import Layout
from shared.db.bulk import insert_rows, json_text
from shared.db.models import RecordHistory

CHUNK = 500  # timelines per round trip


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


class TimelinePoster:
    """Applies one submission's Deletes and Add/Updates to the timelines they touch."""

    def __init__(self, session: Session, submission_id: int, layout: Layout,
                 now: dt.datetime) -> None:
        names = [f.name for f in layout.fields]
        self.session = session
        self.sid = submission_id
        self.record_type = layout.record_type
        self.now = now
        if layout.effective_start_field is None:
            raise ValueError(f"{layout.record_type} is not an Effective Date layout")
        self.start_index = names.index(layout.effective_start_field)
        self.end_index = (names.index(layout.effective_end_field)
                          if layout.effective_end_field else None)
        self.keys = KeyMaker(layout)
        self.missing: list[int] = []  # rows of Deletes that found nothing

    def post(self) -> int:
        """Apply every staged D and A record; returns how many records were applied."""
        keys = self.session.scalars(
            select(STAGED.set_key).where(STAGED.submission_id == self.sid,
                                         STAGED.action.in_((DELETE, ADD)))
            .group_by(STAGED.set_key).order_by(STAGED.set_key)).all()
        applied = 0
        for chunk in _chunks([k for k in keys if k is not None], CHUNK):
            applied += self._post_chunk(chunk)
        return applied

    def _post_chunk(self, keys: Sequence[str]) -> int:
        submitted: dict[str, list[tuple[str, timeline.Submitted]]] = defaultdict(list)
        where: dict[str, tuple[str | None, str | None]] = {}
        count = 0
        for row, action, key, lea, school, fields in self.session.execute(
                select(STAGED.row, STAGED.action, STAGED.set_key, STAGED.lea, STAGED.school,
                       STAGED.fields)
                .where(STAGED.submission_id == self.sid, STAGED.action.in_((DELETE, ADD)),
                       STAGED.set_key.in_(keys))):
            if key is None or fields is None:  # the query asks for keyed, parsed records only
                continue
            record = timeline.Submitted(row, fields[self.start_index].strip(), fields)
            submitted[key].append((str(action), record))
            where[key] = (lea, school)
            count += 1
        stored: dict[str, dict[str, tuple[int, list[str]]]] = defaultdict(dict)
        for oid, key, fields in self.session.execute(
                select(ODS.id, ODS.set_key, ODS.fields)
                .where(ODS.record_type == self.record_type, ODS.set_key.in_(keys))):
            stored[str(key)][fields[self.start_index].strip()] = (oid, fields)
        changes = _Changes()
        for key, records in submitted.items():
            old = stored.get(key, {})
            result = timeline.apply(
                {start: fields for start, (_, fields) in old.items()},
                [r for a, r in records if a == DELETE], [r for a, r in records if a == ADD],
                self.end_index)
            self.missing += result.missing_deletes
            rows = {r.start: r.row for a, r in records if a == ADD}
            changes.diff(key, where[key], old, result, rows)
        self._write(changes)
        return count

    def _write(self, changes: _Changes) -> None:
        rt, sid, now = self.record_type, self.sid, self.now
        history: list[tuple[object, ...]] = []
        for start in range(0, len(changes.removed), CHUNK):
            part = changes.removed[start:start + CHUNK]
            self.session.execute(delete(ODS).where(ODS.id.in_([oid for oid, _, _ in part])))
        history += [(rt, self.keys.op_key(f), action, json_text(f), None, sid,
                     now) for _, f, action in changes.removed]
        if changes.updated:
            self.session.execute(update(ODS), [
                {"id": oid, "fields": new, "submission_id": sid,
                 "updated_at": now} | ({"row": row} if row is not None else {})
                for oid, _, new, row in changes.updated])
        history += [(rt, self.keys.op_key(new), "update", json_text(old),
                     json_text(new), sid, now)
                    for _, old, new, _ in changes.updated]
        insert_rows(self.session, ODS, ODS_COLUMNS, [
            (rt, self.keys.op_key(f), key, lea or "", school, json_text(f),
             sid, row, now) for key, lea, school, f, row in changes.added])
        # an add's after-image is derived (shared.db.history)
        history += [(rt, self.keys.op_key(f), "add", None, None, sid, now)
                    for _, _, _, f, _ in changes.added]
        insert_rows(self.session, RecordHistory, HISTORY_COLUMNS, history)


class _Changes:
    """The rows to delete, update and insert for a chunk of timelines."""

    def __init__(self) -> None:
        self.removed: list[tuple[int, list[str], str]] = []  # id, fields, history action
        self.updated: list[tuple[int, list[str], list[str], int | None]] = []  # id, old, new, row
        self.added: list[tuple[str, str | None, str | None, list[str], int | None]] = []

    def diff(self, key: str, where: tuple[str | None, str | None],
             old: dict[str, tuple[int, list[str]]], result: timeline.Applied,
             rows: dict[str, int]) -> None:
        for start, (oid, fields) in old.items():
            new = result.records.get(start)
            if new is None:
                action = "delete" if start in result.removed_by_delete else "replace"
                self.removed.append((oid, fields, action))
            elif new != fields:
                self.updated.append((oid, fields, new, rows.get(start)))
        for start, fields in result.records.items():
            if start not in old:
                self.added.append((key, where[0], where[1], fields, rows.get(start)))
