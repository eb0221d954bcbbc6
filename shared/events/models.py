"""Event schemas of every topic (pydantic v2). ``type`` discriminates the events of one topic.

Records travel in batches: one Kafka message carries up to a few hundred records of one school of
one submission (design.md §3), each keeping its own physical row number and issues.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from shared.issues import Issue

SCHEMA_VERSION = 1


class Event(BaseModel):
    """Base of every event: immutable, unknown keys rejected, versioned."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    version: int = SCHEMA_VERSION


class SubmissionRef(Event):
    """What every stage needs to know about the submission a record belongs to."""

    submission_id: int
    collection: str
    institution_id: str
    submitted_on: dt.date


class FileReceived(SubmissionRef):
    """An upload passed its preliminary checks and its bytes are stored (files.received)."""

    type: Literal["file-received"] = "file-received"
    sha256: str
    delimiter: str


class Record(BaseModel):
    """One record: physical row, fields in layout order (None if unparseable), its issues."""

    model_config = ConfigDict(extra="forbid")
    row: int
    fields: list[str] | None
    issues: list[Issue] = []


class RecordBatch(SubmissionRef):
    """Records of one school of one submission (records.parsed, records.validated)."""

    type: Literal["record-batch"] = "record-batch"
    school: str
    records: list[Record]


class EndOfFile(SubmissionRef):
    """The parser reached the end: ``records`` is how many records the file has."""

    type: Literal["end-of-file"] = "end-of-file"
    records: int


class SubmissionStatus(Event):
    """A lifecycle milestone of a submission (submissions.status); notify emails on these."""

    type: Literal["submission-status"] = "submission-status"
    submission_id: int
    milestone: Literal["received", "rejected", "processed"]
    status: str


RecordStreamEvent = Annotated[RecordBatch | EndOfFile, Field(discriminator="type")]
record_stream = TypeAdapter(RecordStreamEvent)
