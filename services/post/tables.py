"""The tables posting reads and writes, and the column lists every posting step shares."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, or_

from shared.db.models import OdsRecord, RecordHistory, StagedRecord

STAGED, ODS, HISTORY = StagedRecord, OdsRecord, RecordHistory
ODS_COLUMNS = ("record_type", "op_key", "set_key", "lea", "school", "fields", "submission_id",
               "row", "updated_at")
HISTORY_COLUMNS = ("record_type", "op_key", "action", "before", "after", "submission_id", "at")


def marked(mark: int, unmarked: ColumnElement[bool]) -> ColumnElement[bool]:
    """Staged records with this mark (``services.post.planner``); for records staged before
    marks existed, ``unmarked`` decides (it reads their fields)."""
    return or_(STAGED.marks.op("&")(mark) != 0, and_(STAGED.marks.is_(None), unmarked))
