"""Event schemas of every topic. ``type`` discriminates the events of one topic.

Records travel in batches: one Kafka message carries up to a few hundred records of one
submission (design.md §3, bounded by bytes), each keeping its own physical row number and issues.
The record topics are the hot path, so their events are msgspec structs decoded in one pass
(docs/decisions.md, "Record batches"); a record is an array ``[row, fields, issues]``. The other
events are pydantic models. Consumers of the record topics also read version 1 batches (records
as objects, one school per batch), so a replay of an older topic still works.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar, Literal

import msgspec
from pydantic import BaseModel, ConfigDict

from shared.issues import Issue

SCHEMA_VERSION = 1  # of the pydantic events; record batches are version BATCH_VERSION
BATCH_VERSION = 2


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


class Record(msgspec.Struct, array_like=True, forbid_unknown_fields=True):
    """One record: physical row, fields in layout order (None if unparseable), its issues."""

    row: int
    fields: list[str] | None
    issues: list[Issue] = []


class RecordBatch(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True,
                  tag_field="type", tag="record-batch"):
    """Records of one submission, in file order (records.parsed, records.validated); the
    records come last, so a producer can render the envelope once and append them."""

    type: ClassVar[str] = "record-batch"
    submission_id: int
    collection: str
    institution_id: str
    submitted_on: dt.date
    version: int = BATCH_VERSION
    records: list[Record]


class EndOfFile(msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag_field="type",
                tag="end-of-file"):
    """The parser reached the end: ``records`` is how many records the file has."""

    type: ClassVar[str] = "end-of-file"
    submission_id: int
    collection: str
    institution_id: str
    submitted_on: dt.date
    records: int
    version: int = 1


class SubmissionStatus(Event):
    """A lifecycle milestone of a submission (submissions.status); notify emails on these."""

    type: Literal["submission-status"] = "submission-status"
    submission_id: int
    milestone: Literal["received", "rejected", "processed"]
    status: str


RecordStreamEvent = RecordBatch | EndOfFile


class _RecordV1(msgspec.Struct, forbid_unknown_fields=True):
    row: int
    fields: list[str] | None
    issues: list[Issue] = []


class _RecordBatchV1(msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag_field="type",
                     tag="record-batch"):
    """Version 1: one school's records, each an object (read for replays of older topics)."""

    submission_id: int
    collection: str
    institution_id: str
    submitted_on: dt.date
    school: str
    records: list[_RecordV1]
    version: Literal[1] = 1


def _enc_hook(value: Any) -> Any:
    if isinstance(value, Issue):
        return value.model_dump(mode="json")
    raise NotImplementedError(type(value).__name__)


def _dec_hook(kind: type, value: Any) -> Any:
    if kind is Issue:
        return Issue.model_validate(value)
    raise NotImplementedError(kind.__name__)


_encoder = msgspec.json.Encoder(enc_hook=_enc_hook)
_decoder = msgspec.json.Decoder(RecordStreamEvent, dec_hook=_dec_hook)
_decoder_v1 = msgspec.json.Decoder(_RecordBatchV1, dec_hook=_dec_hook)


def encode(event: RecordStreamEvent | Record) -> bytes:
    """A record-stream event (or one record) as the JSON that travels."""
    return _encoder.encode(event)


def decode_record_stream(raw: bytes) -> RecordStreamEvent:
    """A record-stream event from its bytes (version 2, or a version 1 batch); raises
    msgspec.ValidationError (a ValueError) when they are not one."""
    try:
        return _decoder.decode(raw)
    except msgspec.ValidationError as current:
        try:
            old = _decoder_v1.decode(raw)
        except msgspec.ValidationError:
            raise current from None
        return RecordBatch(submission_id=old.submission_id, collection=old.collection,
                           institution_id=old.institution_id, submitted_on=old.submitted_on,
                           records=[Record(r.row, r.fields, r.issues) for r in old.records])
