"""Turn one stored file into record-batch messages, then the end-of-file event.

Records are serialised once, as they are read (``[row, fields, issues]``), and sent in batches
bounded by records and bytes, so memory stays flat however large the file is. A batch holds the
records of one submission whatever their school: a file spread over 10,000 schools sends as few
messages as one of a single school. Batches are keyed ``"<submission>:<batch number>"`` so a
file spreads over the partitions; no stage depends on the order batches arrive in, because
every record carries its physical row and the barrier posts in row order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import BinaryIO

from shared.catalog.models import Layout
from shared.events.models import EndOfFile, FileReceived, Record, RecordBatch, encode
from shared.events.topics import Topic
from shared.formats.detect import Format
from shared.formats.source import read_file
from shared.messaging.runner import Outgoing
from shared.settings import PipelineSettings


class BatchBuffer:
    """The serialised records of the batch being filled."""

    def __init__(self, event: FileReceived, limits: PipelineSettings) -> None:
        self.event = event
        self.limits = limits
        self.records: list[bytes] = []
        self.size = 0
        self.sent = 0
        # Everything of the batch envelope but the records, rendered once.
        self._head = encode(RecordBatch(
            submission_id=event.submission_id, collection=event.collection,
            institution_id=event.institution_id, submitted_on=event.submitted_on,
            records=[])).removesuffix(b"]}")

    def add(self, record: bytes) -> Outgoing | None:
        """Buffer one serialised record; returns the batch this makes due, if any."""
        self.records.append(record)
        self.size += len(record)
        if (len(self.records) >= self.limits.batch_max_records
                or self.size >= self.limits.batch_max_bytes):
            return self.flush()
        return None

    def flush(self) -> Outgoing:
        """The batch message of the buffered records."""
        value = b"".join((self._head, b",".join(self.records), b"]}"))
        self.records, self.size = [], 0
        self.sent += 1
        key = f"{self.event.submission_id}:{self.sent}".encode()
        return Outgoing(Topic.RECORDS_PARSED, key, value)


def parse_file(event: FileReceived, stream: BinaryIO, layout: Layout,
               limits: PipelineSettings,
               counted: Callable[[int], None] | None = None,
               fmt: Format | None = None) -> Iterator[Outgoing]:
    """Stream the file's records (read as ``fmt`` says: by default delimited by the event's
    delimiter) as batches, then the end-of-file event with the count (also given to
    ``counted``, for metrics)."""
    if fmt is None:
        fmt = Format(kind="delimited", delimiter=event.delimiter)
    buffer = BatchBuffer(event, limits)
    count = 0
    for raw in read_file(stream, layout, fmt, max_row_bytes=limits.max_row_bytes,
                         max_unpacked=limits.max_unpacked_bytes):
        count += 1
        due = buffer.add(encode(Record(raw.row, raw.fields, raw.issues)))
        if due is not None:
            yield due
    if buffer.records:
        yield buffer.flush()
    if counted is not None:
        counted(count)
    eof = EndOfFile(submission_id=event.submission_id, collection=event.collection,
                    institution_id=event.institution_id, submitted_on=event.submitted_on,
                    records=count)
    yield Outgoing(Topic.RECORDS_PARSED, f"{event.submission_id}:eof".encode(), encode(eof))
