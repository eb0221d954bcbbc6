"""The tables posting reads and writes, and the column lists every posting step shares."""

from __future__ import annotations

from shared.db.models import OdsRecord, RecordHistory, StagedRecord

STAGED, ODS, HISTORY = StagedRecord, OdsRecord, RecordHistory
ODS_COLUMNS = ("record_type", "op_key", "set_key", "lea", "school", "fields", "submission_id",
               "row", "updated_at")
HISTORY_COLUMNS = ("record_type", "op_key", "action", "before", "after", "submission_id", "at")
