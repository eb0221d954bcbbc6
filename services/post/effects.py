"""Cross-record effects of posting (``Layout.effects``), applied in the posting transaction.

The causes are the submission's posted Add/Update and Replace records with the effect's field
filled in (an exit date), read in chunks; the stored target records of their groups are read in
chunks too, so memory is bounded however many exits a file holds.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from services.post.planner import ADD, REPLACE, effect_mark
from services.post.tables import HISTORY_COLUMNS, ODS, STAGED, marked, staged_summary
from shared.catalog.loader import Catalog
from shared.catalog.models import Effect, Layout
from shared.db.bulk import insert_rows, json_text
from shared.db.models import RecordHistory

CHUNK = 500  # target groups per query
CAUSES = 5000  # staged rows read at a time


def apply_effects(session: Session, catalog: Catalog, submission_id: int, layout: Layout,
                  now: dt.datetime, schools: tuple[str, ...] | None = None) -> int:
    """Apply every effect of the layout for this submission (or some schools of it); returns
    how many stored records changed."""
    summary = staged_summary(session, submission_id)
    return sum(_end_date(session, catalog.layouts[e.target], submission_id, layout, e, now,
                         schools, effect_mark(n)) for n, e in enumerate(layout.effects)
               if summary.may_have(effect_mark(n)))  # no record may cause it: not read


def _end_date(session: Session, target: Layout, submission_id: int, layout: Layout,
              effect: Effect, now: dt.datetime, schools: tuple[str, ...] | None, mark: int) -> int:
    names = [f.name for f in layout.fields]
    when = names.index(effect.when.field)
    unless = names.index(effect.unless.field) if effect.unless else None
    value = names.index(effect.value_from)
    group = [names.index(n) for n in target.group_key]
    changed = 0
    # The causes are read a chunk at a time, latest rows first, so memory follows the chunk and
    # not the number of exits: a target set by a later row is no longer blank when an earlier
    # row of the same group comes, so the later row wins as it would in file order. A part of
    # a very large file (some schools, services.post.by_school) is read at once and sorted here
    # (an ORDER BY would make SQLite walk the whole file's rows for every part).
    below: int | None = None
    while True:
        query = (select(STAGED.row, STAGED.fields)
                 .where(STAGED.submission_id == submission_id,
                        STAGED.action.in_((ADD, REPLACE)),
                        marked(mark, func.coalesce(
                            func.trim(STAGED.fields[when].as_string()), "") != "")))
        if schools is not None:
            query = query.where(STAGED.school.in_(schools))
        else:
            query = query.order_by(STAGED.row.desc()).limit(CAUSES)
            if below is not None:
                query = query.where(STAGED.row < below)
        rows = sorted(session.execute(query).all(), key=lambda r: -r[0])
        if not rows:
            return changed
        below = rows[-1][0]
        causes: dict[str, str] = {}  # target group -> value to set (the latest row wins)
        for _, fields in rows:
            if fields is None or not effect.when.holds(fields[when]):
                continue
            if effect.unless is not None and unless is not None and effect.unless.holds(
                    fields[unless]):
                continue
            causes.setdefault("|".join(fields[i].strip() for i in group),
                              fields[value].strip())
        changed += _apply(session, target, effect, causes, submission_id, now)
        if schools is not None:
            return changed


def _apply(session: Session, target: Layout, effect: Effect, causes: dict[str, str],
           submission_id: int, now: dt.datetime) -> int:
    """Set the effect's field on the blank target records of these groups."""
    target_names = [f.name for f in target.fields]
    field = target_names.index(effect.field)
    test = target_names.index(effect.target_when.field) if effect.target_when else None
    keys = sorted(causes)
    changed: list[tuple[int, str, list[str], list[str]]] = []
    for start in range(0, len(keys), CHUNK):
        for oid, key, op_key, fields in session.execute(
                select(ODS.id, ODS.set_key, ODS.op_key, ODS.fields)
                .where(ODS.record_type == target.record_type,
                       ODS.set_key.in_(keys[start:start + CHUNK]))):
            if fields[field].strip() or (effect.target_when is not None and test is not None
                                         and not effect.target_when.holds(fields[test])):
                continue
            after = list(fields)
            after[field] = causes[str(key)]
            changed.append((oid, op_key, fields, after))
    if changed:
        session.execute(update(ODS), [{"id": oid, "fields": after, "updated_at": now,
                                       "submission_id": submission_id}
                                      for oid, _, _, after in changed])
        insert_rows(session, RecordHistory, HISTORY_COLUMNS, [
            (target.record_type, op_key, "effect", json_text(before),
             json_text(after), submission_id, now)
            for _, op_key, before, after in changed])
    return len(changed)
