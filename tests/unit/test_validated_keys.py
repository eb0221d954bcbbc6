"""A file's validated events go to one partition of records.validated (one post worker stages
and posts the whole file), and different files may go to different ones."""

from __future__ import annotations

import datetime as dt

from services.validate.worker import key_of
from shared.events.models import EndOfFile, Record, RecordBatch

DAY = dt.date(2026, 10, 1)


def batch(submission: int, first_row: int) -> RecordBatch:
    return RecordBatch(submission_id=submission, collection="SENR", institution_id="1964733",
                       submitted_on=DAY, records=[Record(first_row + i, ["SENR"], [])
                                                  for i in range(3)])


def test_every_batch_and_the_end_of_file_of_a_file_share_one_key() -> None:
    eof = EndOfFile(submission_id=12, collection="SENR", institution_id="1964733",
                    submitted_on=DAY, records=1500)
    keys = {key_of(batch(12, 1)), key_of(batch(12, 501)), key_of(batch(12, 1001)), key_of(eof)}
    assert len(keys) == 1
    assert key_of(batch(13, 1)) not in keys
