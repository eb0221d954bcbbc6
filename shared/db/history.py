"""What each change in a record's history left behind (its after-image).

An 'add' row stores no after-image: the new record is the staged one, and copying it a third
time (staged, store, history) cost about 2.7 s of a 500,000-record file's barrier
(docs/decisions.md). What an add left is what the key's next change found there (that row's
``before``), or, when nothing has changed the record since, the stored record itself. This holds
because every writer of the store writes a history row for what it changes (posting, effects,
Effective Date timelines). Rows written before this rule keep their stored after-image.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, ColumnElement, case, func, select, type_coerce
from sqlalchemy.orm import aliased

from shared.db.models import OdsRecord, RecordHistory


def after_image() -> ColumnElement[Any]:
    """The fields a history row's change left, for a query over ``RecordHistory``."""
    later = aliased(RecordHistory)
    next_before = (select(later.before)
                   .where(later.record_type == RecordHistory.record_type,
                          later.op_key == RecordHistory.op_key, later.id > RecordHistory.id)
                   .order_by(later.id).limit(1).scalar_subquery())
    stored = (select(OdsRecord.fields)
              .where(OdsRecord.record_type == RecordHistory.record_type,
                     OdsRecord.op_key == RecordHistory.op_key).scalar_subquery())
    derived = case((RecordHistory.action == "add", func.coalesce(next_before, stored)))
    return type_coerce(func.coalesce(RecordHistory.after, derived), JSON)
