"""Cross-record effects of posting (``Layout.effects``), applied in the posting transaction.

The causes are the submission's posted Add/Update and Replace records; only those meeting the
effect's ``when`` are read into Python (an exit is a small part of an enrollment file), and the
stored target records of their groups are read in chunks.
"""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from services.post.planner import ADD, REPLACE
from services.post.tables import HISTORY_COLUMNS, ODS, STAGED
from shared.catalog.loader import Catalog
from shared.catalog.models import Effect, Layout
from shared.db.bulk import insert_rows
from shared.db.models import RecordHistory

CHUNK = 500


def apply_effects(session: Session, catalog: Catalog, submission_id: int, layout: Layout,
                  now: dt.datetime, school: str | None = None) -> int:
    """Apply every effect of the layout for this submission (or one school of it); returns
    how many stored records changed."""
    return sum(_end_date(session, catalog.layouts[e.target], submission_id, layout, e, now,
                         school) for e in layout.effects)


def _end_date(session: Session, target: Layout, submission_id: int, layout: Layout,
              effect: Effect, now: dt.datetime, school: str | None) -> int:
    names = [f.name for f in layout.fields]
    when = names.index(effect.when.field)
    unless = names.index(effect.unless.field) if effect.unless else None
    value = names.index(effect.value_from)
    group = [names.index(n) for n in target.group_key]
    causes: dict[str, str] = {}  # target group -> value to set (later rows win)
    # No ORDER BY: it would make SQLite walk the whole file in row order for each school.
    query = (select(STAGED.row, STAGED.fields)
             .where(STAGED.submission_id == submission_id, STAGED.action.in_((ADD, REPLACE)),
                    func.coalesce(func.trim(STAGED.fields[when].as_string()), "") != ""))
    if school is not None:
        query = query.where(STAGED.school == school)
    for _, fields in sorted(((row, f) for row, f in session.execute(query)), key=lambda r: r[0]):
        assert fields is not None
        if not effect.when.holds(fields[when]):
            continue
        if effect.unless is not None and unless is not None and effect.unless.holds(
                fields[unless]):
            continue
        causes["|".join(fields[i].strip() for i in group)] = fields[value].strip()
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
            (target.record_type, op_key, "effect", json.dumps(before, ensure_ascii=False),
             json.dumps(after, ensure_ascii=False), submission_id, now)
            for _, op_key, before, after in changed])
    return len(changed)
