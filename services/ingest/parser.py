"""Turn one stored file into record-batch messages keyed by (submission, school), then EOF.

Records are serialised once, as they are read, and buffered per school; when the buffer of all
schools reaches its bound the largest school's batch is sent, so memory stays flat however large
the file is, and each school's records stay in file order (one key, one partition).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import BinaryIO

from shared.catalog.models import Layout
from shared.events.models import EndOfFile, FileReceived
from shared.events.topics import Topic
from shared.formats.detect import Format
from shared.formats.source import read_file
from shared.messaging.runner import Outgoing
from shared.settings import PipelineSettings

UNKNOWN_SCHOOL = "-"  # rows that could not be split have no school


class BatchBuffer:
    """Per-school buffers of serialised records with a bound on their total size."""

    def __init__(self, event: FileReceived, limits: PipelineSettings,
                 total_bytes: int = 24_000_000) -> None:
        self.event = event
        self.limits = limits
        self.total_bytes = total_bytes
        self.buffers: dict[str, list[bytes]] = {}
        self.sizes: dict[str, int] = {}
        self.buffered = 0
        # Everything of the batch envelope except the records, rendered once.
        self._prefix = event.model_dump(mode="json", exclude={"type", "sha256", "delimiter"})

    def add(self, school: str, record: bytes) -> Iterator[Outgoing]:
        """Buffer one serialised record; yields the batches this makes due."""
        buf = self.buffers.setdefault(school, [])
        buf.append(record)
        self.sizes[school] = self.sizes.get(school, 0) + len(record)
        self.buffered += len(record)
        if (len(buf) >= self.limits.batch_max_records
                or self.sizes[school] >= self.limits.batch_max_bytes):
            yield self.flush(school)
        while self.buffered > self.total_bytes:
            yield self.flush(max(self.sizes, key=lambda s: self.sizes[s]))

    def flush(self, school: str) -> Outgoing:
        """The batch message of one school's buffered records."""
        records = self.buffers.pop(school)
        self.buffered -= self.sizes.pop(school)
        head = json.dumps({**self._prefix, "type": "record-batch", "school": school})
        value = b"".join((head[:-1].encode(), b', "records": [', b",".join(records), b"]}"))
        key = f"{self.event.submission_id}:{school}".encode()
        return Outgoing(Topic.RECORDS_PARSED, key, value)

    def drain(self) -> Iterator[Outgoing]:
        """Every batch still buffered."""
        for school in list(self.buffers):
            yield self.flush(school)


def parse_file(event: FileReceived, stream: BinaryIO, layout: Layout,
               limits: PipelineSettings,
               counted: Callable[[int], None] | None = None,
               fmt: Format | None = None) -> Iterator[Outgoing]:
    """Stream the file's records (read as ``fmt`` says: by default delimited by the event's
    delimiter) as batches, then the end-of-file event with the count (also given to
    ``counted``, for metrics)."""
    if fmt is None:
        fmt = Format(kind="delimited", delimiter=event.delimiter)
    school_index = (layout.fields.index(next(f for f in layout.fields
                                             if f.name == layout.school_field))
                    if layout.school_field else None)
    buffer = BatchBuffer(event, limits)
    count = 0
    for raw in read_file(stream, layout, fmt, max_row_bytes=limits.max_row_bytes,
                         max_unpacked=limits.max_unpacked_bytes):
        count += 1
        school = UNKNOWN_SCHOOL
        if raw.fields is not None and school_index is not None:
            school = raw.fields[school_index].strip() or UNKNOWN_SCHOOL
        record = json.dumps({"row": raw.row, "fields": raw.fields,
                             "issues": [i.model_dump(mode="json") for i in raw.issues]},
                            ensure_ascii=False).encode()
        yield from buffer.add(school, record)
    yield from buffer.drain()
    if counted is not None:
        counted(count)
    eof = EndOfFile(**event.model_dump(exclude={"type", "sha256", "delimiter"}), records=count)
    yield Outgoing(Topic.RECORDS_PARSED, f"{event.submission_id}:eof".encode(),
                   eof.model_dump_json().encode())

